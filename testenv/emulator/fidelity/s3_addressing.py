"""Which bucket and key an S3 request names, decided exactly the way moto decides it.

Using moto's own helpers keeps the rules and moto in agreement for both path-style
(``/bucket/key``) and virtual-host-style (``bucket.s3.<region>.amazonaws.com/key``) requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.s3.responses import S3Response
from moto.s3.utils import bucket_name_from_url
from moto.s3bucket_path.utils import bucket_name_from_url as bucketpath_bucket_name_from_url

from .wire_request import AwsRequest


@dataclass(frozen=True)
class S3Target:
    bucket: str | None
    key: str | None


class _RequestView:
    """The two attributes moto's ``subdomain_based_buckets`` reads from a request."""

    def __init__(self, request: AwsRequest):
        self.headers = {"host": request.host}
        self.url = request.url


def s3_target(request: AwsRequest) -> S3Target:
    if S3Response.subdomain_based_buckets(_RequestView(request)):
        bucket = bucket_name_from_url(request.url)
        key = request.path.lstrip("/")
    else:
        bucket = bucketpath_bucket_name_from_url(request.url)
        key = request.path.lstrip("/").partition("/")[2]
    return S3Target(bucket or None, key or None)
