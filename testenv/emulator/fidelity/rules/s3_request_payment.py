"""S3 Get/PutBucketRequestPayment, which moto 5.2.5 does not implement."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from .. import moto_state
from ..wire_response import WireResponse, s3_error
from .base import Call, Rule

PAYERS = ("BucketOwner", "Requester")


def _requested_payer(body: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Payer":
            return (element.text or "").strip()
    return None


class S3RequestPaymentIsServed(Rule):
    """PutBucketRequestPayment stores ``Payer`` (BucketOwner | Requester) and
    GetBucketRequestPayment returns ``<RequestPaymentConfiguration><Payer>``, as AWS does.

    moto 5.2.5 has no handler for ``?requestPayment``: PUT falls through to CreateBucket and
    fails with 400 IllegalLocationConstraintException (boto3 then retries via HeadBucket), and
    GET answers a ListObjects result. moto's bucket model already has a ``payer`` field
    (default BucketOwner); the rule serves it.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "PutBucketRequestPayment", "GetBucketRequestPayment")

    def before_moto(self, call: Call) -> WireResponse | None:
        bucket_name = call.operation.resource or ""
        found = moto_state.find_bucket(bucket_name)
        if found is None:
            return s3_error(404, "NoSuchBucket", "The specified bucket does not exist",
                            BucketName=bucket_name)
        _, bucket = found
        if call.operation.name == "PutBucketRequestPayment":
            payer = _requested_payer(call.request.body)
            if payer not in PAYERS:
                return s3_error(400, "MalformedXML",
                                "The XML you provided was not well-formed or did not "
                                "validate against our published schema")
            bucket.payer = payer
            return WireResponse(200, b"", [("x-amz-request-id", "0")])
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Payer>{escape(bucket.payer)}</Payer></RequestPaymentConfiguration>"
        )
        return WireResponse(200, body.encode(), [("Content-Type", "application/xml")])
