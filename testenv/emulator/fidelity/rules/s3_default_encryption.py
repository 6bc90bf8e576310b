"""S3 buckets are encrypted with SSE-S3 unless configured otherwise."""

from __future__ import annotations

from .. import moto_state
from .base import Call, Rule


def default_encryption() -> dict:
    # moto's own shape for a stored configuration (as parsed from PutBucketEncryption's XML).
    return {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": "false"}}


class S3BucketsHaveDefaultEncryption(Rule):
    """Every new bucket has default encryption SSE-S3 (``AES256``, bucket key off), and
    DeleteBucketEncryption resets a bucket to it: AWS applies SSE-S3 as the base level of
    encryption to every bucket since 2023-01-05 ("Amazon S3 now automatically encrypts all new
    objects", S3 user guide, default-bucket-encryption), so GetBucketEncryption never answers
    ServerSideEncryptionConfigurationNotFoundError any more.

    moto 5.2.5 creates buckets without encryption and DeleteBucketEncryption removes it, after
    which GetBucketEncryption answers 404.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "CreateBucket", "DeleteBucketEncryption")

    def after_moto(self, call: Call) -> None:
        found = moto_state.find_bucket(call.operation.resource or "")
        if found is None:
            return
        _, bucket = found
        if call.operation.name == "DeleteBucketEncryption" or bucket.encryption is None:
            bucket.encryption = default_encryption()
