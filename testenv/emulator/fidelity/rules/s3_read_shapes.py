"""S3 bucket reads answered in AWS's XML shape, which the AWS SDKs for Rust (and Java, Go...)
check: their deserialisers refuse a document whose root element is not the one in S3's API
model ("invalid root, expected VersioningConfiguration"). boto3 ignores the root, which is
how moto 5.2.5 gets away with

- ``<GetBucketVersioningResponse>``, ``<GetBucketAccelerateConfigurationResponse>``,
  ``<GetBucketNotificationResponse>`` (when nothing is configured) and
  ``<ListBucketInventoryConfigurationsResponse>`` roots (its generic serialiser names the root
  after the operation), and
- a ListObjects page (``<ListBucketResult>``) for ``?analytics``, ``?metrics``,
  ``?intelligent-tiering`` and ``?abac``, which it does not implement.

Root names are those of S3's API reference (and of the SDKs generated from the same model).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from .. import moto_state
from ..wire_response import WireResponse, s3_error
from .base import Call, Rule

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# The first element's start tag (after the XML declaration, comments, whitespace).
_ROOT_START = re.compile(rb"<(?P<name>[A-Za-z_][\w.-]*)(?P<attributes>[^>]*?)(?P<empty>/?)>")


def rename_root(body: bytes, root: str) -> bytes:
    """``body`` with its root element renamed to ``root``; attributes (the S3 namespace) and
    children unchanged. A body that is not one XML element is returned as it is."""
    start = _ROOT_START.search(body)
    if start is None:
        return body
    old = start["name"]
    new = root.encode()
    if old == new:
        return body
    renamed = body[: start.start("name")] + new + body[start.end("name") :]
    if start["empty"]:
        return renamed
    end_tag = b"</" + old + b">"
    trimmed = renamed.rstrip()
    if not trimmed.endswith(end_tag):
        return body
    return trimmed[: -len(end_tag)] + b"</" + new + b">" + renamed[len(trimmed) :]


def xml_response(body: str) -> WireResponse:
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()
    return WireResponse(200, document, [("Content-Type", "application/xml")])


def _no_such_bucket(name: str) -> WireResponse:
    return s3_error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name)


class _RenamesMotosRoot(Rule):
    """Renames the root element of moto's successful answer to ``OPERATION`` to ``ROOT``."""

    OPERATION = ""
    ROOT = ""

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", self.OPERATION)

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        body = rename_root(response.body, self.ROOT)
        if body is response.body:
            return response
        # moto's Content-Length is that of its own body.
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        return WireResponse(response.status, body, headers, response.error_code)


class S3GetBucketVersioningShape(_RenamesMotosRoot):
    """GetBucketVersioning answers ``<VersioningConfiguration xmlns="…/2006-03-01/">`` with
    ``<Status>Enabled|Suspended</Status>`` (and ``<MfaDelete>`` when configured), or an empty
    ``<VersioningConfiguration/>`` for a bucket that was never versioned (S3 API reference,
    GetBucketVersioning: "If the versioning state has never been set on a bucket, then no
    versioning state is returned").

    moto 5.2.5: same children under ``<GetBucketVersioningResponse>``.
    """

    OPERATION = "GetBucketVersioning"
    ROOT = "VersioningConfiguration"


class S3GetBucketAccelerateShape(_RenamesMotosRoot):
    """GetBucketAccelerateConfiguration answers ``<AccelerateConfiguration>`` with
    ``<Status>Enabled|Suspended</Status>``, empty when Transfer Acceleration was never set
    (S3 API reference, GetBucketAccelerateConfiguration: "A GET accelerate request does not
    return a state value for a bucket that has no transfer acceleration state").

    moto 5.2.5: same children under ``<GetBucketAccelerateConfigurationResponse>``.
    """

    OPERATION = "GetBucketAccelerateConfiguration"
    ROOT = "AccelerateConfiguration"


class S3GetBucketNotificationShape(_RenamesMotosRoot):
    """GetBucketNotificationConfiguration answers ``<NotificationConfiguration>`` holding the
    Topic/Queue/CloudFunction/EventBridge configurations, and an empty
    ``<NotificationConfiguration/>`` when none is set (S3 API reference,
    GetBucketNotificationConfiguration: "If notifications are not enabled on the bucket, the
    action returns an empty NotificationConfiguration element").

    moto 5.2.5 gets the root right when something is configured, but answers an empty
    ``<GetBucketNotificationResponse/>`` otherwise.
    """

    OPERATION = "GetBucketNotificationConfiguration"
    ROOT = "NotificationConfiguration"


class S3ListBucketInventoryConfigurationsShape(_RenamesMotosRoot):
    """ListBucketInventoryConfigurations answers ``<ListInventoryConfigurationsResult>`` with
    ``<IsTruncated>`` and one ``<InventoryConfiguration>`` per configuration (S3 API reference,
    ListBucketInventoryConfigurations, Response Syntax).

    moto 5.2.5: same children under ``<ListBucketInventoryConfigurationsResponse>``.
    """

    OPERATION = "ListBucketInventoryConfigurations"
    ROOT = "ListInventoryConfigurationsResult"


class S3UnimplementedConfigurationsAreNone(Rule):
    """ListBucket{Analytics,Metrics,IntelligentTiering}Configurations on a bucket with none
    answer an empty, untruncated list, rooted as the S3 API reference shows:
    ``<ListBucketAnalyticsConfigurationResult>``, ``<ListMetricsConfigurationsResult>`` and
    ``<ListBucketIntelligentTieringConfigurationsOutput>``, each ``<IsTruncated>false``.
    Get…Configuration with an ``id`` answers 404 NoSuchConfiguration "The specified
    configuration does not exist." (S3 error codes list); unknown bucket: 404 NoSuchBucket.

    moto 5.2.5 implements none of the three subresources: GETs answer a ListObjects page (and
    PUTs fall into CreateBucket, 409 BucketAlreadyOwnedByYou), so no bucket here ever has one
    and "none configured" is the faithful answer.
    """

    LISTS = {
        "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
        "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
        "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    }
    GETS = (
        "GetBucketAnalyticsConfiguration",
        "GetBucketMetricsConfiguration",
        "GetBucketIntelligentTieringConfiguration",
    )

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", *self.LISTS, *self.GETS)

    def before_moto(self, call: Call) -> WireResponse | None:
        bucket = call.operation.resource or ""
        if moto_state.find_bucket(bucket) is None:
            return _no_such_bucket(bucket)
        if call.operation.name in self.GETS:
            return s3_error(404, "NoSuchConfiguration",
                            "The specified configuration does not exist.")
        root = self.LISTS[call.operation.name]
        return xml_response(
            f'<{root} xmlns="{S3_NAMESPACE}"><IsTruncated>false</IsTruncated></{root}>'
        )


ABAC_STATUSES = ("Enabled", "Disabled")
# Where the rule keeps a bucket's ABAC status on moto's bucket object (moto has no field).
_ABAC_ATTRIBUTE = "_ackrs_abac_status"


def _requested_status(body: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Status":
            return (element.text or "").strip()
    return None


class S3BucketAbacIsServed(Rule):
    """PutBucketAbac stores ``<AbacStatus><Status>Enabled|Disabled</Status></AbacStatus>``
    (anything else: 400 MalformedXML) and GetBucketAbac returns it in that shape (S3 API
    reference, GetBucketAbac / PutBucketAbac). For a bucket never set, what AWS answers is not
    documented; this answers 200 with an empty body, which the SDKs read as "no AbacStatus"
    (nothing configured). Unknown bucket: 404 NoSuchBucket.

    moto 5.2.5 has no ``?abac``: GET answers a ListObjects page, PUT falls into CreateBucket
    (409 BucketAlreadyOwnedByYou).
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "GetBucketAbac", "PutBucketAbac")

    def before_moto(self, call: Call) -> WireResponse | None:
        bucket_name = call.operation.resource or ""
        found = moto_state.find_bucket(bucket_name)
        if found is None:
            return _no_such_bucket(bucket_name)
        _, bucket = found
        if call.operation.name == "PutBucketAbac":
            status = _requested_status(call.request.body)
            if status not in ABAC_STATUSES:
                return s3_error(400, "MalformedXML",
                                "The XML you provided was not well-formed or did not "
                                "validate against our published schema")
            setattr(bucket, _ABAC_ATTRIBUTE, status)
            return WireResponse(200, b"", [("x-amz-request-id", "0")])
        status = getattr(bucket, _ABAC_ATTRIBUTE, None)
        if status is None:
            return WireResponse(200, b"", [("x-amz-request-id", "0")])
        return xml_response(
            f'<AbacStatus xmlns="{S3_NAMESPACE}"><Status>{escape(status)}</Status></AbacStatus>'
        )
