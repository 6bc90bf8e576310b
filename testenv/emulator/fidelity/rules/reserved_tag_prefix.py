"""SQS, DynamoDB and SNS refuse tag keys in the reserved ``aws:`` namespace."""

from __future__ import annotations

from typing import Any, Iterable

from ..system_tags import is_system_tag_key
from ..faults import query_error
from ..wire_response import WireResponse, dynamodb_error, sqs_error
from .base import Call, Rule


def reserved_key_message(key: str) -> str:
    return f"Tag key '{key}' is not allowed: the 'aws:' prefix is reserved for AWS use"


def _keys(value: Any) -> Iterable[Any]:
    """Tag keys from a ``{key: value}`` map or a list of keys; nothing from malformed input."""
    if isinstance(value, (dict, list)):
        return list(value)
    return []


def _first_reserved(keys: Iterable[Any]) -> str | None:
    for key in keys:
        if isinstance(key, str) and is_system_tag_key(key):
            return key
    return None


class SqsRefusesReservedTagKeys(Rule):
    """TagQueue, UntagQueue (and CreateQueue's tags) with an ``aws:`` key (any case): 400
    InvalidParameterValue naming the key.

    AWS reserves the prefix (AWS tagging docs; shared/aws-tag-rules.md): users can neither
    add nor remove such tags. The exact text is not published, so the message is ours.
    moto 5.2.5 accepts and removes ``aws:`` keys on queues.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("sqs", "TagQueue", "UntagQueue", "CreateQueue")

    def before_moto(self, call: Call) -> WireResponse | None:
        body = call.request.json_body()
        parameter = {"TagQueue": "Tags", "CreateQueue": "tags", "UntagQueue": "TagKeys"}
        reserved = _first_reserved(_keys(body.get(parameter[call.operation.name])))
        if reserved is None:
            return None
        return sqs_error("InvalidParameterValue", reserved_key_message(reserved))


class DynamoDbRefusesReservedTagKeys(Rule):
    """TagResource, UntagResource (and CreateTable's Tags) with an ``aws:`` key (any case):
    400 ValidationException naming the key.

    AWS reserves the prefix (AWS tagging docs; shared/aws-tag-rules.md); exact text not
    published. moto 5.2.5 accepts and removes ``aws:`` keys on tables.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "TagResource", "UntagResource", "CreateTable")

    def before_moto(self, call: Call) -> WireResponse | None:
        body = call.request.json_body()
        if call.operation.name == "UntagResource":
            keys = _keys(body.get("TagKeys"))
        else:
            keys = [tag.get("Key") for tag in _keys(body.get("Tags")) if isinstance(tag, dict)]
        reserved = _first_reserved(keys)
        if reserved is None:
            return None
        return dynamodb_error("ValidationException", reserved_key_message(reserved))


def _form_tag_keys(call: Call) -> list[str]:
    """Tag keys of an SNS query-protocol call: ``Tags.member.N.Key`` or ``TagKeys.member.N``."""
    params = call.request.form_params()
    keys = []
    for name, values in params.items():
        parts = name.split(".")
        is_tag_key = (
            len(parts) == 4 and parts[0] == "Tags" and parts[1] == "member" and parts[3] == "Key"
        ) or (len(parts) == 3 and parts[0] == "TagKeys" and parts[1] == "member")
        if is_tag_key:
            keys.extend(values)
    return keys


class SnsRefusesReservedTagKeys(Rule):
    """TagResource, UntagResource (and CreateTopic's Tags) with an ``aws:`` key (any case):
    400 InvalidParameter naming the key.

    AWS reserves the prefix (AWS tagging docs; shared/aws-tag-rules.md): users can neither
    add nor remove such tags on topics. SNS answers bad tag input with its
    InvalidParameterException (wire code ``InvalidParameter``); the exact text is not
    published, so the message is ours. moto 5.2.5 accepts and removes ``aws:`` keys on topics.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("sns", "TagResource", "UntagResource", "CreateTopic")

    def before_moto(self, call: Call) -> WireResponse | None:
        reserved = _first_reserved(_form_tag_keys(call))
        if reserved is None:
            return None
        return query_error(400, "InvalidParameter", reserved_key_message(reserved))
