"""One test (at least) per fidelity rule, for the refused and the accepted side.

Each asserts the HTTP status, the AWS error code and the message the SDK sees, and reads the
stored state back, so a rule that stops working (or moto changing under it) fails here.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from support import (
    REGION,
    aws_error,
    bucket_tags,
    make_bucket,
    make_table,
    table_tags,
    tag_set,
    unique,
)

REMOVED = "System Tags cannot be removed by requester"
PREFIXED = "Your TagKey cannot be prefixed with aws:"
CFN_TAGS = {
    "aws:cloudformation:stack-name": "stack-a",
    "aws:cloudformation:logical-id": "Bucket",
}


@pytest.fixture
def cfn_bucket(s3, emulator):
    """A bucket with one user tag and two CloudFormation system tags."""
    bucket = make_bucket(s3, {"team": "blue"})
    emulator.give_system_tags("s3", bucket, CFN_TAGS)
    return bucket


# --- S3 PutBucketTagging ----------------------------------------------------------------


def test_put_bucket_tagging_omitting_a_system_tag_is_refused(s3, cfn_bucket):
    only_user_tags = tag_set({"team": "red"})
    without_logical_id = tag_set({"team": "red", "aws:cloudformation:stack-name": "stack-a"})
    for tagging in (only_user_tags, without_logical_id):
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_tagging(Bucket=cfn_bucket, Tagging=tagging)
        assert aws_error(refused) == (400, "InvalidTag", REMOVED)
    assert bucket_tags(s3, cfn_bucket) == {"team": "blue", **CFN_TAGS}


def test_put_bucket_tagging_changing_a_system_tag_value_is_refused(s3, cfn_bucket):
    changed = {**CFN_TAGS, "aws:cloudformation:stack-name": "stack-b"}
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_tagging(Bucket=cfn_bucket, Tagging=tag_set({"team": "blue", **changed}))
    assert aws_error(refused) == (400, "InvalidTag", REMOVED)
    assert bucket_tags(s3, cfn_bucket) == {"team": "blue", **CFN_TAGS}


@pytest.mark.parametrize("new_key", ["aws:owner", "AWS:owner"])
def test_put_bucket_tagging_adding_a_system_key_is_refused(s3, cfn_bucket, new_key):
    plain_bucket = make_bucket(s3, {"team": "blue"})
    attempts = [
        (plain_bucket, {"team": "blue", new_key: "me"}, {"team": "blue"}),
        (cfn_bucket, {"team": "blue", **CFN_TAGS, new_key: "me"}, {"team": "blue", **CFN_TAGS}),
    ]
    for bucket, tags, unchanged in attempts:
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(tags))
        assert aws_error(refused) == (400, "InvalidTag", PREFIXED)
        assert bucket_tags(s3, bucket) == unchanged


def test_put_bucket_tagging_resending_system_tags_unchanged_is_accepted_and_stored(s3, cfn_bucket):
    answer = s3.put_bucket_tagging(
        Bucket=cfn_bucket, Tagging=tag_set({"team": "red", "env": "prod", **CFN_TAGS})
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] in (200, 204)
    assert bucket_tags(s3, cfn_bucket) == {"team": "red", "env": "prod", **CFN_TAGS}

    # Only the system tags (all user tags dropped) is a valid full replacement too.
    s3.put_bucket_tagging(Bucket=cfn_bucket, Tagging=tag_set(CFN_TAGS))
    assert bucket_tags(s3, cfn_bucket) == CFN_TAGS


def test_put_bucket_tagging_with_user_tags_only_on_a_plain_bucket_is_accepted(s3):
    bucket = make_bucket(s3, {"team": "blue"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"team": "red", "env": "dev"}))
    assert bucket_tags(s3, bucket) == {"team": "red", "env": "dev"}


def _virtual_host_put_tagging(emulator, bucket: str, tags: dict[str, str]):
    body = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in tags.items())
    xml = f'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>{body}</TagSet></Tagging>'
    headers = {
        "Host": f"{bucket}.s3.{REGION}.amazonaws.com",
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/s3/aws4_request, "
            "SignedHeaders=host, Signature=0"
        ),
        "Content-Type": "application/xml",
    }
    return emulator.raw("PUT", "/?tagging", xml, headers)


def test_put_bucket_tagging_rules_apply_to_virtual_host_style_requests(s3, emulator, cfn_bucket):
    status, headers, body = _virtual_host_put_tagging(emulator, cfn_bucket, {"team": "red"})
    error = ElementTree.fromstring(body)
    assert (status, error.findtext("Code"), error.findtext("Message")) == (400, "InvalidTag", REMOVED)
    assert headers["Content-Type"] == "application/xml"

    status, _, _ = _virtual_host_put_tagging(emulator, cfn_bucket, {"team": "red", **CFN_TAGS})
    assert status in (200, 204)
    assert bucket_tags(s3, cfn_bucket) == {"team": "red", **CFN_TAGS}


# --- S3 DeleteBucketTagging -------------------------------------------------------------


def test_delete_bucket_tagging_on_a_bucket_with_system_tags_is_refused(s3, cfn_bucket):
    with pytest.raises(ClientError) as refused:
        s3.delete_bucket_tagging(Bucket=cfn_bucket)
    status, code, message = aws_error(refused)
    assert (status, code) == (400, "InvalidTag")
    assert message.startswith(REMOVED) and "DeleteBucketTagging" in message
    assert bucket_tags(s3, cfn_bucket) == {"team": "blue", **CFN_TAGS}


def test_delete_bucket_tagging_on_a_plain_bucket_is_accepted(s3):
    bucket = make_bucket(s3, {"team": "blue"})
    s3.delete_bucket_tagging(Bucket=bucket)
    assert bucket_tags(s3, bucket) == {}


# --- SQS and DynamoDB: the reserved aws: prefix ------------------------------------------


def _reserved_message(key: str) -> str:
    return f"Tag key '{key}' is not allowed: the 'aws:' prefix is reserved for AWS use"


@pytest.mark.parametrize("key", ["aws:owner", "AWS:owner", "Aws:Owner"])
def test_sqs_tag_queue_with_a_reserved_key_is_refused(sqs, key):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.tag_queue(QueueUrl=queue, Tags={"team": "blue", key: "me"})
    assert aws_error(refused) == (400, "InvalidParameterValue", _reserved_message(key))
    headers = refused.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert sqs.list_queue_tags(QueueUrl=queue).get("Tags", {}) == {}


def test_sqs_tag_queue_with_user_keys_is_accepted(sqs):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    sqs.tag_queue(QueueUrl=queue, Tags={"team": "blue", "awsome": "yes"})
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"team": "blue", "awsome": "yes"}


def test_sqs_untag_queue_with_a_reserved_key_is_refused(sqs, emulator):
    queue = sqs.create_queue(QueueName=unique("q"), tags={"team": "blue"})["QueueUrl"]
    emulator.give_system_tags("sqs", queue, {"aws:cloudformation:stack-name": "s"})
    with pytest.raises(ClientError) as refused:
        sqs.untag_queue(QueueUrl=queue, TagKeys=["team", "aws:cloudformation:stack-name"])
    expected = _reserved_message("aws:cloudformation:stack-name")
    assert aws_error(refused) == (400, "InvalidParameterValue", expected)
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {
        "team": "blue", "aws:cloudformation:stack-name": "s"
    }

    sqs.untag_queue(QueueUrl=queue, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"aws:cloudformation:stack-name": "s"}


def test_sqs_create_queue_with_a_reserved_tag_is_refused(sqs):
    name = unique("q")
    with pytest.raises(ClientError) as refused:
        sqs.create_queue(QueueName=name, tags={"aws:owner": "me"})
    assert aws_error(refused) == (400, "InvalidParameterValue", _reserved_message("aws:owner"))
    with pytest.raises(ClientError) as missing:
        sqs.get_queue_url(QueueName=name)
    assert aws_error(missing)[1] == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize("key", ["aws:owner", "AWS:owner"])
def test_dynamodb_tag_resource_with_a_reserved_key_is_refused(dynamodb, key):
    table = make_table(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "b"}, {"Key": key, "Value": "me"}])
    assert aws_error(refused) == (400, "ValidationException", _reserved_message(key))
    assert table_tags(dynamodb, table) == []


def test_dynamodb_tag_resource_with_user_keys_is_accepted(dynamodb):
    table = make_table(dynamodb)
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "blue"}])
    assert table_tags(dynamodb, table) == [("team", "blue")]


def test_dynamodb_untag_resource_with_a_reserved_key_is_refused(dynamodb, emulator):
    table = make_table(dynamodb)
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "blue"}])
    emulator.give_system_tags("dynamodb", table, {"aws:cloudformation:stack-name": "s"})
    with pytest.raises(ClientError) as refused:
        dynamodb.untag_resource(ResourceArn=table, TagKeys=["AWS:cloudformation:stack-name"])
    expected = _reserved_message("AWS:cloudformation:stack-name")
    assert aws_error(refused) == (400, "ValidationException", expected)

    dynamodb.untag_resource(ResourceArn=table, TagKeys=["team"])
    assert table_tags(dynamodb, table) == [("aws:cloudformation:stack-name", "s")]


def _topic_tags(sns, arn):
    return sorted((t["Key"], t["Value"]) for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"])


@pytest.mark.parametrize("key", ["aws:owner", "AWS:owner"])
def test_sns_tag_resource_with_a_reserved_key_is_refused(sns, key):
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    with pytest.raises(ClientError) as refused:
        sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "b"}, {"Key": key, "Value": "me"}])
    assert aws_error(refused) == (400, "InvalidParameter", _reserved_message(key))
    assert _topic_tags(sns, topic) == []

    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "b"}, {"Key": "awsome", "Value": "y"}])
    assert _topic_tags(sns, topic) == [("awsome", "y"), ("team", "b")]


def test_sns_untag_resource_with_a_reserved_key_is_refused(sns, emulator):
    topic = sns.create_topic(Name=unique("t"), Tags=[{"Key": "team", "Value": "blue"}])["TopicArn"]
    emulator.give_system_tags("sns", topic, {"aws:cloudformation:stack-name": "s"})
    with pytest.raises(ClientError) as refused:
        sns.untag_resource(ResourceArn=topic, TagKeys=["team", "aws:cloudformation:stack-name"])
    expected = _reserved_message("aws:cloudformation:stack-name")
    assert aws_error(refused) == (400, "InvalidParameter", expected)
    assert _topic_tags(sns, topic) == [("aws:cloudformation:stack-name", "s"), ("team", "blue")]

    sns.untag_resource(ResourceArn=topic, TagKeys=["team"])
    assert _topic_tags(sns, topic) == [("aws:cloudformation:stack-name", "s")]


def test_sns_create_topic_with_a_reserved_tag_is_refused(sns):
    name = unique("t")
    with pytest.raises(ClientError) as refused:
        sns.create_topic(Name=name, Tags=[{"Key": "aws:owner", "Value": "me"}])
    assert aws_error(refused) == (400, "InvalidParameter", _reserved_message("aws:owner"))
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert not any(arn.endswith(f":{name}") for arn in arns)


def test_dynamodb_create_table_with_a_reserved_tag_is_refused(dynamodb):
    with pytest.raises(ClientError) as refused:
        dynamodb.create_table(
            TableName=unique("tbl"),
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "aws:owner", "Value": "me"}],
        )
    assert aws_error(refused) == (400, "ValidationException", _reserved_message("aws:owner"))


# --- DynamoDB tagging semantics ---------------------------------------------------------


def test_dynamodb_tag_resource_replaces_an_existing_value(dynamodb):
    table = make_table(dynamodb)
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "dev"}])
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "red"}])
    assert sorted(table_tags(dynamodb, table)) == [("env", "dev"), ("team", "red")]


def test_dynamodb_tagging_a_missing_table_is_refused(dynamodb):
    table = make_table(dynamodb)
    missing = table.rsplit("/", 1)[0] + "/" + unique("no-such-table")
    expected = (400, "ResourceNotFoundException",
                f"Requested resource not found: ResourceArn: {missing} not found")
    with pytest.raises(ClientError) as refused:
        dynamodb.tag_resource(ResourceArn=missing, Tags=[{"Key": "team", "Value": "blue"}])
    assert aws_error(refused) == expected
    with pytest.raises(ClientError) as refused:
        dynamodb.untag_resource(ResourceArn=missing, TagKeys=["team"])
    assert aws_error(refused) == expected
    # The accepted side: the same calls on the existing table.
    dynamodb.tag_resource(ResourceArn=table, Tags=[{"Key": "team", "Value": "blue"}])
    dynamodb.untag_resource(ResourceArn=table, TagKeys=["team"])
    assert table_tags(dynamodb, table) == []


# --- CloudFormation's system tags on buckets --------------------------------------------


def _bucket_template(*logical_ids: str, prefix: str) -> str:
    resources = {
        logical_id: {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": f"{prefix}-{logical_id.lower()}",
                "Tags": [{"Key": "team", "Value": "blue"}],
            },
        }
        for logical_id in logical_ids
    }
    return json.dumps({"Resources": resources})


def _stack_tags(stack_name: str, stack_id: str, logical_id: str) -> dict[str, str]:
    return {
        "aws:cloudformation:stack-name": stack_name,
        "aws:cloudformation:stack-id": stack_id,
        "aws:cloudformation:logical-id": logical_id,
    }


def test_cloudformation_create_stack_stamps_system_tags_on_its_bucket(s3, cloudformation):
    stack_name, prefix = unique("stack"), unique("cfn")
    stack_id = cloudformation.create_stack(
        StackName=stack_name, TemplateBody=_bucket_template("Data", prefix=prefix)
    )["StackId"]
    bucket = f"{prefix}-data"
    assert bucket_tags(s3, bucket) == {"team": "blue", **_stack_tags(stack_name, stack_id, "Data")}

    # ...and from then on the bucket is protected like on AWS.
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"team": "red"}))
    assert aws_error(refused) == (400, "InvalidTag", REMOVED)


def test_cloudformation_update_stack_stamps_system_tags_on_a_new_bucket(s3, cloudformation):
    stack_name, prefix = unique("stack"), unique("cfn")
    stack_id = cloudformation.create_stack(
        StackName=stack_name, TemplateBody=_bucket_template("Data", prefix=prefix)
    )["StackId"]
    cloudformation.update_stack(
        StackName=stack_name, TemplateBody=_bucket_template("Data", "Logs", prefix=prefix)
    )
    for logical_id in ("Data", "Logs"):
        bucket = f"{prefix}-{logical_id.lower()}"
        expected = {"team": "blue", **_stack_tags(stack_name, stack_id, logical_id)}
        assert bucket_tags(s3, bucket) == expected


def test_buckets_made_outside_cloudformation_get_no_system_tags(s3, cloudformation):
    cloudformation.create_stack(StackName=unique("stack"), TemplateBody=_bucket_template("X", prefix=unique("cfn")))
    bucket = make_bucket(s3, {"team": "blue"})
    assert bucket_tags(s3, bucket) == {"team": "blue"}


# --- Bad input: AWS's 400 instead of moto's 500 (or silent acceptance) -------------------


def _invalid_attribute(name: str) -> tuple[int, str, str]:
    return (400, "InvalidAttributeValue", f"Invalid value for the parameter {name}.")


def test_sqs_create_queue_with_a_non_numeric_visibility_timeout_is_refused(sqs):
    with pytest.raises(ClientError) as refused:
        sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "soon"})
    assert aws_error(refused) == _invalid_attribute("VisibilityTimeout")

    queue = sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"


def test_sqs_set_queue_attributes_with_a_non_numeric_visibility_timeout_is_refused(sqs):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1.5"})
    assert aws_error(refused) == _invalid_attribute("VisibilityTimeout")

    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "60"})
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "60"


@pytest.mark.parametrize(
    "name", ["DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds"]
)
def test_sqs_other_integer_attributes_must_be_numeric(sqs, name):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={name: "abc"})
    assert aws_error(refused) == _invalid_attribute(name)


def test_sqs_malformed_policy_attribute_is_refused(sqs):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": "{not json"})
    assert aws_error(refused) == _invalid_attribute("Policy")
    with pytest.raises(ClientError) as refused:
        sqs.create_queue(QueueName=unique("q"), Attributes={"Policy": "[]"})
    assert aws_error(refused) == _invalid_attribute("Policy")

    statement = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": policy})
    stored = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"]
    assert json.loads(stored["Policy"])["Statement"][0]["Action"] == "sqs:SendMessage"


def test_s3_malformed_bucket_policy_is_refused(s3):
    bucket = make_bucket(s3)
    for malformed in ("{not json", '["a list"]'):
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_policy(Bucket=bucket, Policy=malformed)
        assert aws_error(refused) == (
            400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'"
        )
    with pytest.raises(ClientError) as no_policy:
        s3.get_bucket_policy(Bucket=bucket)
    assert aws_error(no_policy)[1] == "NoSuchBucketPolicy"

    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)


def test_dynamodb_create_table_without_key_schema_is_refused(dynamodb):
    null = "failed to satisfy constraint: Member must not be null"
    with pytest.raises(ClientError) as refused:
        dynamodb.create_table(
            TableName=unique("tbl"),
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert aws_error(refused) == (
        400, "ValidationException", f"1 validation error detected: Value null at 'keySchema' {null}"
    )
    with pytest.raises(ClientError) as refused:
        dynamodb.create_table(TableName=unique("tbl"), BillingMode="PAY_PER_REQUEST")
    assert aws_error(refused) == (
        400,
        "ValidationException",
        f"2 validation errors detected: Value null at 'keySchema' {null}; "
        f"Value null at 'attributeDefinitions' {null}",
    )

    arn = make_table(dynamodb)
    name = arn.rsplit("/", 1)[1]
    assert dynamodb.describe_table(TableName=name)["Table"]["KeySchema"][0]["AttributeName"] == "id"


# --- An S3 API moto lacks ---------------------------------------------------------------


def test_s3_bucket_request_payment_is_stored_and_returned(s3):
    bucket = make_bucket(s3)
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"


def test_s3_bucket_request_payment_refuses_an_unknown_payer_and_bucket(s3):
    bucket = make_bucket(s3)
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Nobody"})
    status, code, _ = aws_error(refused)
    assert (status, code) == (400, "MalformedXML")
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_request_payment(Bucket=unique("no-such-bucket"))
    assert aws_error(missing) == (404, "NoSuchBucket", "The specified bucket does not exist")
