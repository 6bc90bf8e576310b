"""S3 bucket settings that depend on each other: AWS refuses a call in some bucket states and
moto does not. Each test reads the state back through the API."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import aws_error, make_bucket, unique

ROLE = "arn:aws:iam::123456789012:role/replication"


def _replicated_bucket(s3):
    bucket = make_bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=bucket,
        ReplicationConfiguration={
            "Role": ROLE,
            "Rules": [{
                "ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
            }],
        },
    )
    return bucket


def test_s3_versioning_cannot_be_suspended_under_replication(s3):
    bucket = _replicated_bucket(s3)
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    status, code, message = aws_error(refused)
    assert (status, code) == (409, "InvalidBucketState")
    assert "first delete the replication configuration" in message
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_s3_versioning_is_suspended_once_replication_is_deleted(s3):
    bucket = _replicated_bucket(s3)
    # Enabling again is no change of state: accepted.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_bucket_replication(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _grants(s3, bucket):
    answer = s3.get_bucket_acl(Bucket=bucket)
    owner = answer["Owner"]["ID"]
    return owner, sorted(
        (g["Grantee"]["Type"], g["Grantee"].get("URI") or g["Grantee"].get("ID"), g["Permission"])
        for g in answer["Grants"]
    )


def test_s3_log_delivery_write_reads_back_as_three_grants(s3):
    bucket = make_bucket(s3)
    owner, grants = _grants(s3, bucket)
    assert grants == [("CanonicalUser", owner, "FULL_CONTROL")]
    s3.put_bucket_acl(Bucket=bucket, ACL="log-delivery-write")
    owner, grants = _grants(s3, bucket)
    assert grants == [
        ("CanonicalUser", owner, "FULL_CONTROL"),
        ("Group", LOG_DELIVERY, "READ_ACP"),
        ("Group", LOG_DELIVERY, "WRITE"),
    ]


def test_s3_a_grant_header_naming_two_grantees_reads_back_as_two_grants(s3):
    bucket = make_bucket(s3)
    owner, _ = _grants(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f"id={owner}, uri={ALL_USERS}")
    _, grants = _grants(s3, bucket)
    assert grants == [("CanonicalUser", owner, "READ"), ("Group", ALL_USERS, "READ")]


def test_s3_express_session_on_a_missing_directory_bucket_is_no_such_bucket(s3, emulator):
    # moto's own answer, as AWS's; the call is S3's (signed as s3express) and logged by its name.
    name = unique("dir") + "--usw2-az1--x-s3"
    with pytest.raises(ClientError) as missing:
        s3.create_session(Bucket=name)
    status, code, _ = aws_error(missing)
    assert (status, code) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket=name)
    # The SDK's own session call comes first and fails the same way.
    assert aws_error(refused)[:2] == (404, "NoSuchBucket")
    sessions = [r for r in emulator.requests() if r["resource"] == name]
    assert {(r["service"], r["operation"]) for r in sessions} == {("s3", "CreateSession")}
