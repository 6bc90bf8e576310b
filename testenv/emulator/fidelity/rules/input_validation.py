"""Bad input that moto answers with HTTP 500 + an HTML page (or accepts) gets AWS's 400.

A 500 tells a controller "retry later"; AWS tells it "your request is wrong, don't retry".
Tests of a controller's error handling need the latter.
"""

from __future__ import annotations

import json
from typing import Any

from ..wire_response import WireResponse, dynamodb_error, s3_error, sqs_error
from .base import Call, Rule

SQS_INTEGER_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsDataKeyReusePeriodSeconds",
)
SQS_JSON_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")


def _is_integer(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _is_json_object(value: Any) -> bool:
    try:
        return isinstance(json.loads(value), dict)
    except (TypeError, ValueError):
        return False


class SqsAttributesMustParse(Rule):
    """CreateQueue / SetQueueAttributes with a non-numeric integer attribute (e.g.
    ``VisibilityTimeout: "abc"``) or a policy attribute that is not a JSON object: 400
    InvalidAttributeValue "Invalid value for the parameter <name>." as AWS answers.

    moto 5.2.5 crashes on both (int() / json.loads() raise) and answers 500 with HTML.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("sqs", "CreateQueue", "SetQueueAttributes")

    def before_moto(self, call: Call) -> WireResponse | None:
        attributes = call.request.json_body().get("Attributes")
        if not isinstance(attributes, dict):
            return None  # moto answers malformed requests itself
        for name, value in attributes.items():
            bad_integer = name in SQS_INTEGER_ATTRIBUTES and not _is_integer(value)
            bad_json = name in SQS_JSON_ATTRIBUTES and not _is_json_object(value)
            if bad_integer or bad_json:
                return sqs_error(
                    "InvalidAttributeValue", f"Invalid value for the parameter {name}."
                )
        return None


class S3BucketPolicyMustBeJson(Rule):
    """PutBucketPolicy with a body that is not a JSON object: 400 MalformedPolicy
    "Policies must be valid JSON and the first byte must be '{'", as AWS answers.

    moto 5.2.5 stores any bytes and answers 204, so a controller's broken policy would pass.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "PutBucketPolicy")

    def before_moto(self, call: Call) -> WireResponse | None:
        if _is_json_object(call.request.body.decode("utf-8", "replace")):
            return None
        return s3_error(
            400,
            "MalformedPolicy",
            "Policies must be valid JSON and the first byte must be '{'",
            BucketName=call.operation.resource or "",
        )


class DynamoDbCreateTableRequiredMembers(Rule):
    """CreateTable without TableName, KeySchema or AttributeDefinitions: 400
    ValidationException "1 validation error detected: Value null at 'keySchema' failed to
    satisfy constraint: Member must not be null" (AWS's model-validation wording).

    moto 5.2.5 raises KeyError and answers 500 with HTML.
    """

    REQUIRED = (("TableName", "tableName"), ("KeySchema", "keySchema"),
                ("AttributeDefinitions", "attributeDefinitions"))

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "CreateTable")

    def before_moto(self, call: Call) -> WireResponse | None:
        body = call.request.json_body()
        missing = [wire for member, wire in self.REQUIRED if body.get(member) is None]
        if not missing:
            return None
        count = f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected"
        reasons = "; ".join(
            f"Value null at '{wire}' failed to satisfy constraint: Member must not be null"
            for wire in missing
        )
        return dynamodb_error("ValidationException", f"{count}: {reasons}")
