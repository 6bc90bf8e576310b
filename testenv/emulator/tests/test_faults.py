"""Fault injection (/_ackrs/faults): each service's own throttling answer, 5xx, dropped
connections, latency, outages, seeded determinism, and clearing."""

from __future__ import annotations

import http.client
import time

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError

from support import aws_error, make_bucket, make_table, unique


@pytest.fixture(autouse=True)
def no_faults_left(emulator):
    emulator.control("DELETE", "/_ackrs/faults")
    yield
    emulator.control("DELETE", "/_ackrs/faults")


def add(emulator, **rule):
    status, answer = emulator.control("POST", "/_ackrs/faults", rule)
    assert status == 200, answer
    return answer["id"]


def rules(emulator):
    status, answer = emulator.control("GET", "/_ackrs/faults")
    assert status == 200
    return answer


def test_s3_throttling_is_503_slowdown(emulator, s3):
    bucket = make_bucket(s3)
    add(emulator, service="s3", operation="GetBucketTagging", throttle=1)
    with pytest.raises(ClientError) as refused:
        s3.get_bucket_tagging(Bucket=bucket)
    assert aws_error(refused)[:2] == (503, "SlowDown")
    s3.head_bucket(Bucket=bucket)  # other operations are untouched


def test_sqs_throttling_is_request_throttled_in_the_json_protocol(emulator, sqs):
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    add(emulator, service="sqs", operation="GetQueueAttributes", throttle=1)
    with pytest.raises(ClientError) as refused:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    assert aws_error(refused)[:2] == (400, "RequestThrottled")


def test_sqs_throttling_in_the_query_protocol(emulator):
    add(emulator, service="*", operation="ListQueues", throttle=1)
    status, headers, body = emulator.raw(
        "POST", "/", "Action=ListQueues&Version=2012-11-05",
        {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/sqs/aws4_request, "
                          "SignedHeaders=host, Signature=0"},
    )
    assert status == 400
    assert b"<Code>RequestThrottled</Code>" in body and b"<ErrorResponse" in body


def test_dynamodb_throttling_is_throttling_exception_400(emulator, dynamodb):
    arn = make_table(dynamodb)
    add(emulator, service="dynamodb", operation="Describe*", throttle=1)
    with pytest.raises(ClientError) as refused:
        dynamodb.describe_table(TableName=arn.rsplit("/", 1)[-1])
    assert aws_error(refused)[:2] == (400, "ThrottlingException")


@pytest.mark.parametrize(
    "kind, status, codes",
    [("error500", 500, {"s3": "InternalError", "sqs": "InternalError", "dynamodb": "InternalServerError"}),
     ("error503", 503, {"s3": "ServiceUnavailable", "sqs": "ServiceUnavailable",
                        "dynamodb": "ServiceUnavailable"})],
)
def test_server_errors_in_each_services_form(emulator, s3, sqs, dynamodb, kind, status, codes):
    add(emulator, **{kind: 1})
    calls = {
        "s3": lambda: s3.list_buckets(),
        "sqs": lambda: sqs.list_queues(),
        "dynamodb": lambda: dynamodb.list_tables(),
    }
    for service, call in calls.items():
        with pytest.raises(ClientError) as refused:
            call()
        assert aws_error(refused)[:2] == (status, codes[service]), service


def test_dropped_connection_answers_nothing(emulator, sqs):
    add(emulator, service="sqs", drop=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sqs.list_queues()
    entry = emulator.requests()[-1]
    assert (entry["operation"], entry["status"], entry["fault"]) == ("ListQueues", 0, "drop")


def test_outage_drops_every_call_until_cleared(emulator, s3, dynamodb):
    rule = add(emulator, outage=True)
    for call in (s3.list_buckets, dynamodb.list_tables):
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            call()
    # The control endpoints stay up during an outage; clearing the rule ends it.
    assert emulator.control("DELETE", f"/_ackrs/faults/{rule}") == (200, {"ok": True})
    s3.list_buckets()
    dynamodb.list_tables()


def test_latency_is_added_to_matching_calls(emulator, sqs):
    add(emulator, service="sqs", operation="ListQueues", latency_ms=300)
    started = time.monotonic()
    sqs.list_queues()
    # A lower bound only: the call cannot be faster than the added delay.
    assert time.monotonic() - started >= 0.3


def test_rates_are_drawn_per_call_and_seeded_draws_repeat(emulator, dynamodb):
    def outcomes() -> list[str]:
        seen = []
        for _ in range(40):
            try:
                dynamodb.list_tables()
                seen.append("ok")
            except ClientError as error:
                seen.append(error.response["Error"]["Code"])
        return seen

    first_rule = add(emulator, service="dynamodb", throttle=0.3, error500=0.2, seed=7)
    first = outcomes()
    emulator.control("DELETE", f"/_ackrs/faults/{first_rule}")
    add(emulator, service="dynamodb", throttle=0.3, error500=0.2, seed=7)
    assert outcomes() == first
    assert {"ok", "ThrottlingException", "InternalServerError"} == set(first)
    [listed] = rules(emulator)
    assert listed["matched"] == 40
    assert listed["injected"]["throttle"] == first.count("ThrottlingException")
    assert listed["injected"]["error500"] == first.count("InternalServerError")


def test_limit_caps_the_injected_faults(emulator, sqs):
    add(emulator, service="sqs", throttle=1, limit=2)
    for _ in range(2):
        with pytest.raises(ClientError):
            sqs.list_queues()
    sqs.list_queues()
    assert rules(emulator)[0]["injected"]["throttle"] == 2


def test_injected_faults_are_in_the_request_log(emulator, s3):
    emulator.reset_requests()
    add(emulator, service="s3", throttle=1)
    with pytest.raises(ClientError):
        s3.list_buckets()
    [entry] = emulator.requests()
    assert (entry["operation"], entry["status"], entry["error_code"], entry["fault"]) == (
        "ListBuckets", 503, "SlowDown", "injected"
    )
    assert isinstance(entry["time"], float)


def test_a_resource_pattern_faults_only_those_resources(emulator, sqs):
    mine = sqs.create_queue(QueueName=unique("chaos-mine"))["QueueUrl"]
    other = sqs.create_queue(QueueName=unique("chaos-other"))["QueueUrl"]
    add(emulator, service="sqs", resource="*chaos-mine-*", throttle=1)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=mine, AttributeNames=["All"])
    sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["All"])
    sqs.list_queues()  # names no resource: not matched


def test_clearing_all_rules(emulator, sqs):
    add(emulator, throttle=1)
    add(emulator, error503=1)
    assert len(rules(emulator)) == 2
    assert emulator.control("DELETE", "/_ackrs/faults") == (200, {"ok": True})
    assert rules(emulator) == []
    sqs.list_queues()


@pytest.mark.parametrize(
    "rule, complaint",
    [
        ({"throttle": 1.5}, "throttle must be a rate"),
        ({"throttle": 0.6, "error500": 0.6}, "add up to more than 1"),
        ({"latency_ms": -1}, "latency_ms must be"),
        ({"outage": "yes"}, "outage must be"),
        ({"service": ""}, "service must be"),
        ({"resource": ""}, "resource must be"),
        ({"throtle": 0.1}, "unknown fields: throtle"),
        ([], "expected a JSON object"),
    ],
)
def test_bad_rules_are_refused(emulator, rule, complaint):
    status, answer = emulator.control("POST", "/_ackrs/faults", rule)
    assert status == 400 and complaint in answer["error"]


def test_removing_an_unknown_rule_is_404(emulator):
    assert emulator.control("DELETE", "/_ackrs/faults/999999")[0] == 404
