"""The /_ackrs/ control endpoints: health, giving resources system tags, the request log."""

from __future__ import annotations

import pytest

from support import bucket_tags, make_bucket, make_table, table_tags, unique


def test_health(emulator):
    assert emulator.control("GET", "/_ackrs/health") == (200, {"ok": True})


def test_unknown_control_endpoint_is_404(emulator):
    status, answer = emulator.control("GET", "/_ackrs/nothing-here")
    assert status == 404 and "error" in answer


def test_system_tags_reach_an_s3_bucket(emulator, s3):
    bucket = make_bucket(s3, {"team": "blue"})
    tags = {"aws:cloudformation:stack-name": "s", "aws:cloudformation:logical-id": "B"}
    status, answer = emulator.control(
        "POST", "/_ackrs/system-tags", {"service": "s3", "resource": bucket, "tags": tags}
    )
    assert (status, answer) == (200, {"ok": True})
    assert bucket_tags(s3, bucket) == {"team": "blue", **tags}


def test_system_tags_reach_an_sqs_queue(emulator, sqs):
    queue = sqs.create_queue(QueueName=unique("q"), tags={"team": "blue"})["QueueUrl"]
    emulator.give_system_tags("sqs", queue, {"aws:cloudformation:stack-name": "s"})
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {
        "team": "blue", "aws:cloudformation:stack-name": "s"
    }


def test_system_tags_reach_a_dynamodb_table_and_overwrite_by_key(emulator, dynamodb):
    table = make_table(dynamodb)
    emulator.give_system_tags("dynamodb", table, {"aws:x": "1"})
    emulator.give_system_tags("dynamodb", table, {"aws:x": "2"})
    assert table_tags(dynamodb, table) == [("aws:x", "2")]


@pytest.mark.parametrize(
    "payload, complaint",
    [
        ({"service": "s3", "resource": "b", "tags": {"team": "blue"}}, "only aws: keys"),
        ({"service": "s3", "resource": "b", "tags": {"aws:x": "1", "team": "b"}}, "team"),
        ({"service": "ec2", "resource": "i-1", "tags": {"aws:x": "1"}}, "service must be"),
        ({"service": "s3", "resource": "", "tags": {"aws:x": "1"}}, "resource must be"),
        ({"service": "s3", "resource": "b", "tags": {}}, "tags must be"),
        ({"service": "s3", "resource": "b", "tags": {"aws:x": 1}}, "tags must be"),
        (["not", "an", "object"], "expected"),
    ],
)
def test_system_tags_refuses_bad_payloads_with_400(emulator, s3, payload, complaint):
    status, answer = emulator.control("POST", "/_ackrs/system-tags", payload)
    assert status == 400
    assert complaint in answer["error"]


def test_system_tags_refuses_a_body_that_is_not_json(emulator):
    status, _, body = emulator.raw("POST", "/_ackrs/system-tags", b"{nope")
    assert status == 400 and b"not JSON" in body


@pytest.mark.parametrize(
    "service, resource",
    [
        ("s3", "no-such-bucket-ackrs"),
        ("sqs", "http://127.0.0.1:1/123456789012/no-such-queue"),
        ("dynamodb", "arn:aws:dynamodb:us-west-2:123456789012:table/no-such-table"),
    ],
)
def test_system_tags_on_a_missing_resource_is_404(emulator, service, resource):
    status, answer = emulator.control(
        "POST", "/_ackrs/system-tags", {"service": service, "resource": resource, "tags": {"aws:x": "1"}}
    )
    assert status == 404
    assert resource in answer["error"]


def test_control_calls_are_not_in_the_request_log(emulator, s3):
    bucket = make_bucket(s3)
    emulator.reset_requests()
    emulator.control("GET", "/_ackrs/health")
    emulator.give_system_tags("s3", bucket, {"aws:x": "1"})
    assert emulator.requests() == []
