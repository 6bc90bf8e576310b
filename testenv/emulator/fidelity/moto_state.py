"""Reading and writing moto's in-process backend state (the emulator's "AWS account data").

Rules use this to see a resource's current tags before moto answers, and to put right what
moto stored after it answered. moto keeps state per account, then per region (S3: per
partition); only regions that were used exist, so lookups walk the instantiated ones.
"""

from __future__ import annotations

import os
from typing import Any, Iterator
from urllib.parse import urlparse

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from .wire_request import AwsRequest


def account_id_for(request: AwsRequest) -> str:
    """The account moto files this request under, by moto's own order of precedence."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in request.headers:
        return request.headers["x-moto-account-id"]
    if request.access_key:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(request.access_key)
    return DEFAULT_ACCOUNT_ID


def _region_backends(service: str) -> Iterator[Any]:
    backends = get_backend(service)  # type: ignore[arg-type]
    for account_id in list(backends.keys()):
        yield from list(dict.values(backends[account_id]))


# --- S3 ---------------------------------------------------------------------------------


def find_bucket(name: str) -> tuple[Any, Any] | None:
    """(S3 backend, bucket) for an existing bucket; bucket names are global, like in AWS."""
    s3_backends = get_backend("s3")
    located = s3_backends.bucket_accounts.get(name)  # type: ignore[attr-defined]
    if located is None:
        return None
    partition, account_id = located
    backend = s3_backends[account_id][partition]
    bucket = backend.buckets.get(name)
    return (backend, bucket) if bucket is not None else None


def bucket_tags(name: str) -> dict[str, str] | None:
    """The bucket's tags, or None when there is no such bucket."""
    found = find_bucket(name)
    if found is None:
        return None
    backend, bucket = found
    return dict(backend.tagger.tags.get(bucket.arn, {}))


def add_bucket_tags(name: str, tags: dict[str, str]) -> bool:
    """Add or overwrite tags on a bucket, keeping its others. False when there is no such bucket."""
    found = find_bucket(name)
    if found is None:
        return False
    backend, bucket = found
    backend.tagger.tag_resource(bucket.arn, [{"Key": k, "Value": v} for k, v in tags.items()])
    return True


# --- SQS --------------------------------------------------------------------------------


def find_queue(queue_url: str, region: str | None = None) -> Any | None:
    """The queue a URL such as ``http://host/123456789012/name`` points at: in ``region`` when
    given (the region the call is signed for, as AWS resolves it: the emulator's URLs do not name
    one, and two regions may each have a queue of that name), else in any region."""
    parts = [part for part in urlparse(queue_url).path.split("/") if part]
    if len(parts) != 2:
        return None
    account_id, name = parts
    backends = get_backend("sqs")
    if account_id not in backends:
        return None
    regions = backends[account_id]
    if region is not None:
        backend = regions[region] if region in dict.keys(regions) else None
        return backend.queues.get(name) if backend is not None else None
    for backend in list(dict.values(regions)):
        queue = backend.queues.get(name)
        if queue is not None:
            return queue
    return None


def add_queue_tags(queue_url: str, tags: dict[str, str]) -> bool:
    queue = find_queue(queue_url)
    if queue is None:
        return False
    queue.tags.update(tags)
    return True


# --- DynamoDB ---------------------------------------------------------------------------


def find_table(table_arn: str) -> Any | None:
    for backend in _region_backends("dynamodb"):
        for table in list(backend.tables.values()):
            if table.table_arn == table_arn:
                return table
    return None


def set_table_tags(table: Any, tags: dict[str, str]) -> None:
    """Add or overwrite tags on a table; moto keeps them as a list of {Key, Value}."""
    merged = {tag["Key"]: tag["Value"] for tag in table.tags}
    merged.update(tags)
    table.tags = [{"Key": key, "Value": value} for key, value in merged.items()]


def add_table_tags(table_arn: str, tags: dict[str, str]) -> bool:
    table = find_table(table_arn)
    if table is None:
        return False
    set_table_tags(table, tags)
    return True


# --- SNS --------------------------------------------------------------------------------


def add_topic_tags(topic_arn: str, tags: dict[str, str]) -> bool:
    for backend in _region_backends("sns"):
        topic = backend.topics.get(topic_arn)
        if topic is not None:
            topic._tags = {**(topic._tags or {}), **tags}
            return True
    return False


# --- CloudFormation ---------------------------------------------------------------------


def live_stacks(account_id: str, region: str) -> list[Any]:
    backends = get_backend("cloudformation")
    if account_id not in backends or region not in dict.keys(backends[account_id]):
        return []
    return list(backends[account_id][region].stacks.values())
