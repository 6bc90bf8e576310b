"""Settings moto drops and the fidelity rules keep: SQS RedriveAllowPolicy, S3 default
encryption, DynamoDB table class / on-demand throughput / encryption / replicas / resource
policy / contributor insights. Each reads the state back through the API."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import REGION, aws_error, make_bucket, unique

ALLOW = json.dumps({"redrivePermission": "allowAll"})
SSE_S3 = {"SSEAlgorithm": "AES256"}


def test_sqs_redrive_allow_policy_is_returned_by_name_and_with_all(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"RedriveAllowPolicy": ALLOW})["QueueUrl"]
    by_name = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(by_name["RedriveAllowPolicy"]) == {"redrivePermission": "allowAll"}
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "RedriveAllowPolicy" in everything and "QueueArn" in everything

    deny = json.dumps({"redrivePermission": "denyAll"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": deny})
    mixed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy", "DelaySeconds"])
    assert json.loads(mixed["Attributes"]["RedriveAllowPolicy"]) == {"redrivePermission": "denyAll"}
    assert mixed["Attributes"]["DelaySeconds"] == "0"


def test_sqs_queue_without_redrive_allow_policy_reports_none(sqs):
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])
    assert "RedriveAllowPolicy" not in attributes.get("Attributes", {})


def test_sqs_redrive_allow_policy_is_read_from_the_queue_in_the_calls_region(emulator, sqs):
    # The emulator's queue URLs do not name a region, so two regions' queues of one name share
    # a URL; AWS resolves it in the region the call is signed for.
    name = unique("q")
    other = emulator.client("sqs", region="eu-west-1")
    deny = json.dumps({"redrivePermission": "denyAll"})
    here = sqs.create_queue(QueueName=name, Attributes={"RedriveAllowPolicy": ALLOW})["QueueUrl"]
    there = other.create_queue(QueueName=name, Attributes={"RedriveAllowPolicy": deny})["QueueUrl"]
    for client, url, wanted in [(sqs, here, "allowAll"), (other, there, "denyAll")]:
        got = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
        assert json.loads(got["RedriveAllowPolicy"]) == {"redrivePermission": wanted}


def _default_rule(s3, bucket):
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1
    return rules[0]


def test_s3_new_buckets_are_encrypted_with_sse_s3(s3):
    rule = _default_rule(s3, make_bucket(s3))
    assert rule["ApplyServerSideEncryptionByDefault"] == SSE_S3
    assert rule["BucketKeyEnabled"] is False


def test_s3_delete_bucket_encryption_resets_to_sse_s3(s3):
    bucket = make_bucket(s3)
    kms = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"}
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": kms}]},
    )
    assert _default_rule(s3, bucket)["ApplyServerSideEncryptionByDefault"] == kms
    s3.delete_bucket_encryption(Bucket=bucket)
    assert _default_rule(s3, bucket)["ApplyServerSideEncryptionByDefault"] == SSE_S3


def _table(dynamodb, **extra):
    name = unique("tbl")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def test_dynamodb_create_table_keeps_class_on_demand_throughput_and_resource_policy(dynamodb):
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    name = _table(
        dynamodb,
        TableClass="STANDARD_INFREQUENT_ACCESS",
        OnDemandThroughput={"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": 5},
        ResourcePolicy=policy,
    )
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert table["OnDemandThroughput"] == {"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": 5}
    assert dynamodb.get_resource_policy(ResourceArn=table["TableArn"])["Policy"] == policy


def test_dynamodb_update_table_applies_class_throughput_and_encryption(dynamodb):
    name = _table(dynamodb)
    assert "TableClassSummary" not in dynamodb.describe_table(TableName=name)["Table"]
    answer = dynamodb.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")
    assert answer["TableDescription"]["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": 7})
    answer = dynamodb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    assert answer["TableDescription"]["SSEDescription"]["Status"] == "ENABLED"
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert table["OnDemandThroughput"] == {"MaxReadRequestUnits": 7}
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["KMSMasterKeyArn"].startswith("arn:aws:kms:")
    dynamodb.update_table(TableName=name, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in dynamodb.describe_table(TableName=name)["Table"]


def test_dynamodb_replicas_need_new_and_old_images_and_come_one_per_call(emulator, dynamodb):
    name = _table(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    status, code, message = aws_error(refused)
    assert (status, code) == (400, "ValidationException") and "NEW_AND_OLD_IMAGES" in message

    dynamodb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    two = [{"Create": {"RegionName": "eu-west-1"}}, {"Create": {"RegionName": "eu-west-2"}}]
    with pytest.raises(ClientError) as refused:
        dynamodb.update_table(TableName=name, ReplicaUpdates=two)
    assert aws_error(refused)[1] == "ValidationException"

    dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    # Under way until read once, then ACTIVE; the replica is a table in its own region.
    replicas = dynamodb.describe_table(TableName=name)["Table"]["Replicas"]
    assert replicas == [{"RegionName": "eu-west-1", "ReplicaStatus": "CREATING"}]
    replicas = dynamodb.describe_table(TableName=name)["Table"]["Replicas"]
    assert replicas == [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}]
    elsewhere = emulator.client("dynamodb", region="eu-west-1")
    assert elsewhere.describe_table(TableName=name)["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    replicas = dynamodb.describe_table(TableName=name)["Table"]["Replicas"]
    assert replicas == [{"RegionName": "eu-west-1", "ReplicaStatus": "DELETING"}]
    assert "Replicas" not in dynamodb.describe_table(TableName=name)["Table"]
    with pytest.raises(ClientError) as gone:
        elsewhere.describe_table(TableName=name)
    assert aws_error(gone)[1] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as refused:
        dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    assert aws_error(refused)[1] == "ValidationException"
    assert REGION != "eu-west-1"


def test_dynamodb_contributor_insights_are_served(dynamodb):
    name = _table(dynamodb)
    described = dynamodb.describe_contributor_insights(TableName=name)
    assert described["ContributorInsightsStatus"] == "DISABLED"
    answer = dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert answer["ContributorInsightsStatus"] == "ENABLING"
    assert dynamodb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "ENABLED"
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    assert dynamodb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


def test_dynamodb_contributor_insights_of_a_missing_table_is_not_found(dynamodb):
    with pytest.raises(ClientError) as refused:
        dynamodb.describe_contributor_insights(TableName=unique("missing"))
    status, code, _ = aws_error(refused)
    assert (status, code) == (400, "ResourceNotFoundException")


def test_dynamodb_index_changes_are_under_way_until_described_once(dynamodb):
    name = unique("tbl")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "a", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{
            "IndexName": "old",
            "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    answer = dynamodb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "old"}}])
    assert answer["TableDescription"]["TableStatus"] == "UPDATING"
    assert [(i["IndexName"], i["IndexStatus"]) for i in answer["TableDescription"]["GlobalSecondaryIndexes"]] == [
        ("old", "DELETING")
    ]
    create = {
        "Create": {
            "IndexName": "new",
            "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    }
    definitions = [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}]
    with pytest.raises(ClientError) as refused:
        dynamodb.update_table(TableName=name, AttributeDefinitions=definitions, GlobalSecondaryIndexUpdates=[create])
    status, code, message = aws_error(refused)
    assert (status, code) == (400, "ResourceInUseException") and "being updated" in message

    under_way = dynamodb.describe_table(TableName=name)["Table"]
    assert under_way["TableStatus"] == "UPDATING"
    assert [i["IndexStatus"] for i in under_way["GlobalSecondaryIndexes"]] == ["DELETING"]
    done = dynamodb.describe_table(TableName=name)["Table"]
    assert done["TableStatus"] == "ACTIVE" and not done.get("GlobalSecondaryIndexes")

    answer = dynamodb.update_table(TableName=name, AttributeDefinitions=definitions, GlobalSecondaryIndexUpdates=[create])
    assert [(i["IndexName"], i["IndexStatus"]) for i in answer["TableDescription"]["GlobalSecondaryIndexes"]] == [
        ("new", "CREATING")
    ]
    dynamodb.describe_table(TableName=name)
    done = dynamodb.describe_table(TableName=name)["Table"]
    assert [(i["IndexName"], i["IndexStatus"]) for i in done["GlobalSecondaryIndexes"]] == [("new", "ACTIVE")]


def test_dynamodb_index_on_demand_throughput_is_kept(dynamodb):
    name = unique("tbl")
    limits = {"MaxReadRequestUnits": 50, "MaxWriteRequestUnits": 50}
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "a", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{
            "IndexName": "by-a",
            "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "OnDemandThroughput": limits,
        }],
    )
    index = dynamodb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["OnDemandThroughput"] == limits
    lower = {"MaxReadRequestUnits": 20}
    dynamodb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "by-a", "OnDemandThroughput": lower}}],
    )
    dynamodb.describe_table(TableName=name)  # the change is under way until described once
    index = dynamodb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["OnDemandThroughput"] == lower


def test_sns_topic_attributes_moto_stores_are_returned(sns):
    arn = sns.create_topic(
        Name=unique("topic") + ".fifo",
        Attributes={"FifoTopic": "true", "FifoThroughputScope": "Topic"},
    )["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoThroughputScope"] == "Topic"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="MessageGroup")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["FifoThroughputScope"], attributes["TracingConfig"]) == ("MessageGroup", "Active")
    plain = sns.create_topic(Name=unique("plain"))["TopicArn"]
    assert "FifoThroughputScope" not in sns.get_topic_attributes(TopicArn=plain)["Attributes"]
