"""The request log: every AWS call, named as AWS names the operation, with its outcome."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import REGION, make_bucket, make_table, tag_set, unique

POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})
SSE = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
LIFECYCLE = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}
CORS = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
OWNERSHIP = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
REPLICATION = {
    "Role": "arn:aws:iam::123456789012:role/r",
    "Rules": [{"ID": "r", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
               "DeleteMarkerReplication": {"Status": "Disabled"},
               "Destination": {"Bucket": "arn:aws:s3:::elsewhere"}}],
}
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                       "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def s3_calls(b: str):
    """(boto3 method, arguments, the operation name AWS uses)."""
    return [
        ("head_bucket", {"Bucket": b}, "HeadBucket"),
        ("list_buckets", {}, "ListBuckets"),
        ("get_bucket_location", {"Bucket": b}, "GetBucketLocation"),
        ("put_bucket_tagging", {"Bucket": b, "Tagging": tag_set({"a": "1"})}, "PutBucketTagging"),
        ("get_bucket_tagging", {"Bucket": b}, "GetBucketTagging"),
        ("delete_bucket_tagging", {"Bucket": b}, "DeleteBucketTagging"),
        ("put_bucket_policy", {"Bucket": b, "Policy": POLICY}, "PutBucketPolicy"),
        ("get_bucket_policy", {"Bucket": b}, "GetBucketPolicy"),
        ("delete_bucket_policy", {"Bucket": b}, "DeleteBucketPolicy"),
        ("put_bucket_versioning", {"Bucket": b, "VersioningConfiguration": {"Status": "Enabled"}}, "PutBucketVersioning"),
        ("get_bucket_versioning", {"Bucket": b}, "GetBucketVersioning"),
        ("put_public_access_block", {"Bucket": b, "PublicAccessBlockConfiguration": PUBLIC_ACCESS_BLOCK}, "PutPublicAccessBlock"),
        ("get_public_access_block", {"Bucket": b}, "GetPublicAccessBlock"),
        ("delete_public_access_block", {"Bucket": b}, "DeletePublicAccessBlock"),
        ("put_bucket_encryption", {"Bucket": b, "ServerSideEncryptionConfiguration": SSE}, "PutBucketEncryption"),
        ("get_bucket_encryption", {"Bucket": b}, "GetBucketEncryption"),
        ("delete_bucket_encryption", {"Bucket": b}, "DeleteBucketEncryption"),
        ("put_bucket_lifecycle_configuration", {"Bucket": b, "LifecycleConfiguration": LIFECYCLE}, "PutBucketLifecycleConfiguration"),
        ("get_bucket_lifecycle_configuration", {"Bucket": b}, "GetBucketLifecycleConfiguration"),
        ("delete_bucket_lifecycle", {"Bucket": b}, "DeleteBucketLifecycle"),
        ("put_bucket_cors", {"Bucket": b, "CORSConfiguration": CORS}, "PutBucketCors"),
        ("get_bucket_cors", {"Bucket": b}, "GetBucketCors"),
        ("delete_bucket_cors", {"Bucket": b}, "DeleteBucketCors"),
        ("put_bucket_website", {"Bucket": b, "WebsiteConfiguration": {"IndexDocument": {"Suffix": "i.html"}}}, "PutBucketWebsite"),
        ("get_bucket_website", {"Bucket": b}, "GetBucketWebsite"),
        ("delete_bucket_website", {"Bucket": b}, "DeleteBucketWebsite"),
        ("put_bucket_logging", {"Bucket": b, "BucketLoggingStatus": {}}, "PutBucketLogging"),
        ("get_bucket_logging", {"Bucket": b}, "GetBucketLogging"),
        ("put_bucket_ownership_controls", {"Bucket": b, "OwnershipControls": OWNERSHIP}, "PutBucketOwnershipControls"),
        ("get_bucket_ownership_controls", {"Bucket": b}, "GetBucketOwnershipControls"),
        ("delete_bucket_ownership_controls", {"Bucket": b}, "DeleteBucketOwnershipControls"),
        ("put_bucket_request_payment", {"Bucket": b, "RequestPaymentConfiguration": {"Payer": "BucketOwner"}}, "PutBucketRequestPayment"),
        ("get_bucket_request_payment", {"Bucket": b}, "GetBucketRequestPayment"),
        ("put_bucket_accelerate_configuration", {"Bucket": b, "AccelerateConfiguration": {"Status": "Enabled"}}, "PutBucketAccelerateConfiguration"),
        ("get_bucket_accelerate_configuration", {"Bucket": b}, "GetBucketAccelerateConfiguration"),
        ("put_bucket_notification_configuration", {"Bucket": b, "NotificationConfiguration": {}}, "PutBucketNotificationConfiguration"),
        ("get_bucket_notification_configuration", {"Bucket": b}, "GetBucketNotificationConfiguration"),
        ("put_bucket_replication", {"Bucket": b, "ReplicationConfiguration": REPLICATION}, "PutBucketReplication"),
        ("get_bucket_replication", {"Bucket": b}, "GetBucketReplication"),
        ("delete_bucket_replication", {"Bucket": b}, "DeleteBucketReplication"),
        ("put_object_lock_configuration", {"Bucket": b, "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}, "PutObjectLockConfiguration"),
        ("get_object_lock_configuration", {"Bucket": b}, "GetObjectLockConfiguration"),
        ("put_object", {"Bucket": b, "Key": "k/1", "Body": b"x"}, "PutObject"),
        ("head_object", {"Bucket": b, "Key": "k/1"}, "HeadObject"),
        ("get_object", {"Bucket": b, "Key": "k/1"}, "GetObject"),
        ("list_objects_v2", {"Bucket": b}, "ListObjectsV2"),
        ("delete_object", {"Bucket": b, "Key": "k/1"}, "DeleteObject"),
    ]


def test_s3_operations_are_named_as_aws_names_them(s3, emulator):
    bucket = unique("bkt")
    emulator.reset_requests()
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for method, arguments, _ in s3_calls(bucket):
        try:
            getattr(s3, method)(**arguments)
        except ClientError:
            pass  # e.g. GetBucketPolicy after DeleteBucketPolicy: named all the same
    with pytest.raises(ClientError):
        s3.delete_bucket(Bucket=bucket)  # versioned: a delete marker is left, so refused

    logged = emulator.requests()
    expected = ["CreateBucket", *(name for _, _, name in s3_calls(bucket)), "DeleteBucket"]
    assert [entry["operation"] for entry in logged] == expected
    assert {entry["service"] for entry in logged} == {"s3"}
    by_operation = {entry["operation"]: entry for entry in logged}
    assert by_operation["PutBucketTagging"]["resource"] == bucket
    assert by_operation["GetObject"]["resource"] == f"{bucket}/k/1"
    assert by_operation["ListBuckets"]["resource"] is None


def test_the_log_records_status_and_error_code(s3, emulator):
    bucket = make_bucket(s3)
    emulator.give_system_tags("s3", bucket, {"aws:cloudformation:stack-name": "s"})
    emulator.reset_requests()
    with pytest.raises(ClientError):
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"a": "1"}))  # refused by a rule
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)  # refused by moto
    s3.get_bucket_tagging(Bucket=bucket)

    logged = emulator.requests()
    assert all(isinstance(entry.pop("time"), float) for entry in logged)
    assert logged == [
        {"service": "s3", "operation": "PutBucketTagging", "status": 400,
         "error_code": "InvalidTag", "resource": bucket, "fault": None},
        {"service": "s3", "operation": "GetBucketPolicy", "status": 404,
         "error_code": "NoSuchBucketPolicy", "resource": bucket, "fault": None},
        {"service": "s3", "operation": "GetBucketTagging", "status": 200,
         "error_code": None, "resource": bucket, "fault": None},
    ]


def test_sqs_dynamodb_and_cloudformation_operations_are_named(sqs, dynamodb, cloudformation, emulator):
    emulator.reset_requests()
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    sqs.tag_queue(QueueUrl=queue, Tags={"a": "1"})
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=queue + "-gone")
    table = make_table(dynamodb)
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "a", "Value": "1"}])
    dynamodb.list_tags_of_resource(ResourceArn=table)
    stack = unique("stack")
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {}}))

    summary = [(e["service"], e["operation"], e["status"], e["error_code"]) for e in emulator.requests()]
    assert summary == [
        ("sqs", "CreateQueue", 200, None),
        ("sqs", "GetQueueAttributes", 200, None),
        ("sqs", "TagQueue", 200, None),
        ("sqs", "GetQueueAttributes", 400, "AWS.SimpleQueueService.NonExistentQueue"),
        ("dynamodb", "CreateTable", 200, None),
        ("dynamodb", "TagResource", 200, None),
        ("dynamodb", "ListTagsOfResource", 200, None),
        ("cloudformation", "CreateStack", 200, None),
    ]
    resources = [e["resource"] for e in emulator.requests()]
    assert resources[1] == queue and resources[5] == table and resources[7] == stack


def _s3_raw(emulator, method: str, path: str, host: str | None = None):
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/s3/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    }
    if host:
        headers["Host"] = host
    return emulator.raw(method, path, b"", headers)


def test_unknown_s3_subresources_get_a_clear_fallback_name(s3, emulator):
    bucket = make_bucket(s3)
    emulator.reset_requests()
    _s3_raw(emulator, "GET", f"/{bucket}?no-such-subresource")
    _s3_raw(emulator, "GET", f"/{bucket}/some/key?x-id=GetObject")
    _s3_raw(emulator, "GET", "/?tagging", host=f"{bucket}.s3.{REGION}.amazonaws.com")
    logged = [(e["operation"], e["resource"]) for e in emulator.requests()]
    assert logged == [
        ("S3:GET:no-such-subresource", bucket),
        ("GetObject", f"{bucket}/some/key"),
        ("GetBucketTagging", bucket),  # virtual-host style names the same operation
    ]


def test_deleting_the_log_resets_it(s3, emulator):
    make_bucket(s3)
    assert emulator.requests()
    emulator.reset_requests()
    assert emulator.requests() == []
    s3.list_buckets()
    assert [e["operation"] for e in emulator.requests()] == ["ListBuckets"]
