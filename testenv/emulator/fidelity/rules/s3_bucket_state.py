"""S3 calls that AWS refuses in some bucket states and moto 5.2.5 accepts."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from .. import moto_state
from ..wire_response import WireResponse, s3_error
from .base import Call, Rule


def _versioning_status(body: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Status":
            return (element.text or "").strip()
    return None


class S3VersioningStaysEnabledUnderReplication(Rule):
    """PutBucketVersioning ``Suspended`` on a bucket with a replication configuration → 409
    ``InvalidBucketState``: replication needs versioning enabled on the source bucket (S3 user
    guide, "Requirements and considerations for replication"), so AWS refuses to suspend it
    until the replication configuration is deleted. A controller must delete replication first.

    moto 5.2.5 suspends versioning and keeps the replication configuration.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "PutBucketVersioning")

    def before_moto(self, call: Call) -> WireResponse | None:
        found = moto_state.find_bucket(call.operation.resource or "")
        if found is None or _versioning_status(call.request.body) != "Suspended":
            return None
        _, bucket = found
        if getattr(bucket, "replication", None):
            return s3_error(
                409,
                "InvalidBucketState",
                "A replication configuration is present on this bucket, so you cannot change "
                "the versioning state. To change the versioning state, first delete the "
                "replication configuration.",
            )
        return None
