"""S3 bucket tagging keeps ``aws:`` system tags exactly as AWS does."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from .. import moto_state
from ..system_tags import is_system_tag_key
from ..wire_response import WireResponse, s3_error
from .base import Call, Rule

REMOVED_MESSAGE = "System Tags cannot be removed by requester"
PREFIXED_MESSAGE = "Your TagKey cannot be prefixed with aws:"
DELETE_MESSAGE = (
    "System Tags cannot be removed by requester: this bucket has aws: tags, which "
    "DeleteBucketTagging would remove; send PutBucketTagging with them instead"
)


def parse_tag_set(body: bytes) -> list[tuple[str, str]] | None:
    """The (key, value) pairs of a ``<Tagging><TagSet>`` body; None when it does not parse."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    pairs = []
    for element in root.iter():
        if _local_name(element.tag) == "Tag":
            fields = {_local_name(child.tag): child.text or "" for child in element}
            pairs.append((fields.get("Key", ""), fields.get("Value", "")))
    return pairs


def render_tag_set(tags: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<Tag><Key>{escape(key)}</Key><Value>{escape(value)}</Value></Tag>"
        for key, value in tags
    )
    return (
        '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<TagSet>{items}</TagSet></Tagging>"
    ).encode()


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class PutBucketTaggingKeepsSystemTags(Rule):
    """PutBucketTagging replaces the whole tag set, but never a bucket's ``aws:`` tags.

    AWS (shared/aws-tag-rules.md):
    - a tag set that omits an existing ``aws:`` tag, or changes its value, is refused with
      400 InvalidTag "System Tags cannot be removed by requester"
      (aws-controllers-k8s/community#2248, terraform-provider-aws#7323, cloud-custodian#2834);
    - a tag set that adds a new ``aws:`` key is refused with 400 InvalidTag
      "Your TagKey cannot be prefixed with aws:" (cloud-custodian#370);
    - user tags sent together with the existing ``aws:`` tags, unchanged, are accepted and the
      whole set is stored (cloud-custodian#2861, terraform-provider-aws#7342).

    moto 5.2.5 does the opposite: it refuses any ``aws:`` key (InvalidTag "System tags cannot
    be added/updated by requester") and silently deletes the ``aws:`` tags a set omits. So the
    accepted case is handed to moto without the system tags, which are put back afterwards.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "PutBucketTagging")

    def before_moto(self, call: Call) -> WireResponse | None:
        bucket = call.operation.resource
        current = moto_state.bucket_tags(bucket) if bucket else None
        requested = parse_tag_set(call.request.body)
        if current is None or requested is None:
            return None  # moto answers NoSuchBucket / MalformedXML itself
        kept_system_tags = {k: v for k, v in current.items() if is_system_tag_key(k)}
        requested_system_tags = {k: v for k, v in requested if is_system_tag_key(k)}

        if any(requested_system_tags.get(k) != v for k, v in kept_system_tags.items()):
            return s3_error(400, "InvalidTag", REMOVED_MESSAGE, BucketName=bucket)
        if any(k not in kept_system_tags for k in requested_system_tags):
            return s3_error(400, "InvalidTag", PREFIXED_MESSAGE, BucketName=bucket)

        if requested_system_tags:
            user_tags = [(k, v) for k, v in requested if not is_system_tag_key(k)]
            call.request.replace_body(render_tag_set(user_tags))
            call.notes["system_tags"] = kept_system_tags
        return None

    def after_moto(self, call: Call) -> None:
        system_tags = call.notes.get("system_tags")
        if system_tags and call.operation.resource:
            moto_state.add_bucket_tags(call.operation.resource, system_tags)


class DeleteBucketTaggingKeepsSystemTags(Rule):
    """DeleteBucketTagging is refused (400 InvalidTag) on a bucket that has ``aws:`` tags.

    AWS documents no behaviour for this case (shared/aws-tag-rules.md lists none). It cannot
    delete system tags the requester may not remove, so refusing is the safe model: a
    controller tested here never comes to rely on deleting a CloudFormation bucket's tags.
    moto 5.2.5 deletes every tag, system ones included.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "DeleteBucketTagging")

    def before_moto(self, call: Call) -> WireResponse | None:
        bucket = call.operation.resource
        current = moto_state.bucket_tags(bucket) if bucket else None
        if current and any(is_system_tag_key(k) for k in current):
            return s3_error(400, "InvalidTag", DELETE_MESSAGE, BucketName=bucket)
        return None
