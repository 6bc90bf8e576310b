"""Helpers for the emulator tests: launching it, clients, and reading tags back."""

from __future__ import annotations

import http.client
import json
import re
import selectors
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).resolve().parent.parent / "launcher.py"
READY_LINE = re.compile(r"^ready http://(127\.0\.0\.1):(\d+)$")
REGION = "us-west-2"
STARTUP_DEADLINE_S = 30


@dataclass
class Launched:
    process: subprocess.Popen
    ready_line: str
    host: str
    port: int
    stderr_path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def launch_emulator() -> Launched:
    """Start launcher.py on port 0 and wait (with a deadline) for its ready line."""
    stderr = tempfile.NamedTemporaryFile("w+", prefix="emulator-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.2):
            line = process.stdout.readline().rstrip("\n")
            match = READY_LINE.match(line)
            if not match:
                process.kill()
                raise AssertionError(f"unexpected first stdout line {line!r}")
            stderr.close()
            return Launched(process, line, match[1], int(match[2]), stderr.name)
    process.kill()
    process.wait()
    log = Path(stderr.name)
    output = log.read_text()
    log.unlink(missing_ok=True)
    raise AssertionError(f"no ready line; stderr:\n{output}")


def stop_emulator(launched: Launched, timeout: float = 10) -> int:
    try:
        if launched.process.poll() is None:
            launched.process.terminate()
        return launched.process.wait(timeout=timeout)
    finally:
        if launched.process.poll() is None:
            launched.process.kill()
        launched.process.stdout.close()
        Path(launched.stderr_path).unlink(missing_ok=True)


class Emulator:
    def __init__(self, launched: Launched):
        self.launched = launched
        self.url = launched.url

    def client(self, service: str, region: str = REGION) -> Any:
        config = botocore.config.Config(
            s3={"addressing_style": "path"},
            # One attempt: a 500 must show up as a 500, and fast.
            retries={"total_max_attempts": 1},
        )
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    def raw(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None):
        """A hand-made HTTP request; returns (status, headers, body bytes)."""
        connection = http.client.HTTPConnection(self.launched.host, self.launched.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def control(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = b"" if payload is None else json.dumps(payload).encode()
        status, _, raw = self.raw(method, path, body, {"Content-Type": "application/json"})
        return status, json.loads(raw)

    def give_system_tags(self, service: str, resource: str, tags: dict[str, str]) -> None:
        status, answer = self.control(
            "POST", "/_ackrs/system-tags", {"service": service, "resource": resource, "tags": tags}
        )
        assert status == 200, answer

    def requests(self) -> list[dict[str, Any]]:
        status, entries = self.control("GET", "/_ackrs/requests")
        assert status == 200
        return entries

    def reset_requests(self) -> None:
        assert self.control("DELETE", "/_ackrs/requests")[0] == 200


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def aws_error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of a refused call."""
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def make_bucket(s3: Any, tags: dict[str, str] | None = None) -> str:
    name = unique("bkt")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging=tag_set(tags))
    return name


def tag_set(tags: dict[str, str]) -> dict[str, Any]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    try:
        tag_list = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise
    return {tag["Key"]: tag["Value"] for tag in tag_list}


def make_table(dynamodb: Any) -> str:
    description = dynamodb.create_table(
        TableName=unique("tbl"),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    return description["TableArn"]


def table_tags(dynamodb: Any, arn: str) -> list[tuple[str, str]]:
    """As a list, so a duplicated key would show."""
    return [(t["Key"], t["Value"]) for t in dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]]
