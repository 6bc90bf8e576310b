"""Fault injection: rules a test sets and clears at run time (``/_ackrs/faults``).

A rule matches calls by service and operation (shell-style patterns, ``*`` by default) and,
optionally, by the resource the call names (so a test faults only its own resources), and, for
each matching call, draws one fault with the rule's rates: a throttling answer in the service's
own wire form, a 500, a 503, or a dropped connection (closed without an answer, as a reset or a
crashed load balancer looks to a client). ``latency_ms`` delays every matching call. ``outage``
drops every matching call: the endpoint is down. With ``seed`` the draws are a fixed sequence
(deterministic for calls made one at a time); ``limit`` caps how many faults a rule injects.

Throttling answers, as AWS sends them:
- S3: ``503 SlowDown`` "Please reduce your request rate." (REST-XML ``<Error>``);
- SQS: ``400 RequestThrottled`` in the JSON protocol (``__type`` + ``x-amzn-query-error``) or
  the Query protocol (``<ErrorResponse>``), whichever the call used;
- DynamoDB: ``400 ThrottlingException`` (JSON ``__type``, ``x-amz-crc32``);
- others (STS, CloudFormation: Query protocol): ``400 Throttling`` "Rate exceeded".
Server errors: S3 ``500 InternalError`` / ``503 ServiceUnavailable``; SQS ``500 InternalError``
/ ``503 ServiceUnavailable``; DynamoDB ``500 InternalServerError`` / ``503
ServiceUnavailable``; Query-protocol services ``500 InternalFailure`` / ``503
ServiceUnavailable``.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from .operations import Operation
from .wire_request import AwsRequest
from .wire_response import WireResponse, dynamodb_error, s3_error, sqs_error

# Fault kinds, in the order a draw tries them.
RATE_FIELDS = ("throttle", "error500", "error503", "drop")


@dataclass
class FaultRule:
    id: int
    service: str = "*"
    operation: str = "*"
    # Matched against the bucket / queue URL / table the call names; None matches every call.
    resource: str | None = None
    throttle: float = 0.0
    error500: float = 0.0
    error503: float = 0.0
    drop: float = 0.0
    latency_ms: int = 0
    outage: bool = False
    seed: int | None = None
    limit: int | None = None
    matched: int = 0
    injected: dict[str, int] = field(default_factory=lambda: {k: 0 for k in RATE_FIELDS})
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, operation: Operation) -> bool:
        if self.resource is not None and not (
            operation.resource and fnmatch.fnmatchcase(operation.resource, self.resource)
        ):
            return False
        return fnmatch.fnmatchcase(operation.service, self.service) and fnmatch.fnmatchcase(
            operation.name, self.operation
        )

    def draw(self) -> str | None:
        """The fault for one matching call, or None. Caller holds the registry's lock."""
        self.matched += 1
        if self.limit is not None and sum(self.injected.values()) >= self.limit:
            return None
        if self.outage:
            kind: str | None = "drop"
        else:
            roll, kind, floor = self._random.random(), None, 0.0
            for name in RATE_FIELDS:
                floor += getattr(self, name)
                if roll < floor:
                    kind = name
                    break
        if kind:
            self.injected[kind] += 1
        return kind

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "service": self.service, "operation": self.operation,
            "resource": self.resource,
            **{name: getattr(self, name) for name in RATE_FIELDS},
            "latency_ms": self.latency_ms, "outage": self.outage, "seed": self.seed,
            "limit": self.limit, "matched": self.matched, "injected": dict(self.injected),
        }


def parse_rule(rule_id: int, payload: Any) -> FaultRule | str:
    """A rule from a control request's JSON, or what is wrong with it."""
    if not isinstance(payload, dict):
        return "expected a JSON object"
    known = {"service", "operation", "resource", *RATE_FIELDS, "latency_ms", "outage", "seed", "limit"}
    unknown = sorted(set(payload) - known)
    if unknown:
        return f"unknown fields: {', '.join(unknown)}; expected some of {sorted(known)}"
    for name in ("service", "operation"):
        if not isinstance(payload.get(name, "*"), str) or not payload.get(name, "*"):
            return f"{name} must be a non-empty pattern"
    if "resource" in payload and (
        not isinstance(payload["resource"], str) or not payload["resource"]
    ):
        return "resource must be a non-empty pattern"
    rates = {name: payload.get(name, 0) for name in RATE_FIELDS}
    for name, rate in rates.items():
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            return f"{name} must be a rate between 0 and 1"
    if sum(rates.values()) > 1:
        return "the rates add up to more than 1"
    for name in ("latency_ms", "seed", "limit"):
        value = payload.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            return f"{name} must be a non-negative integer"
    if not isinstance(payload.get("outage", False), bool):
        return "outage must be true or false"
    rule = FaultRule(
        id=rule_id,
        service=payload.get("service", "*"),
        operation=payload.get("operation", "*"),
        resource=payload.get("resource"),
        latency_ms=payload.get("latency_ms") or 0,
        outage=payload.get("outage", False),
        seed=payload.get("seed"),
        limit=payload.get("limit"),
        **{name: float(rate) for name, rate in rates.items()},
    )
    rule._random = random.Random(rule.seed) if rule.seed is not None else random.Random()
    return rule


class FaultRegistry:
    """The active rules; every rule whose pattern matches a call takes part in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, payload: Any) -> FaultRule | str:
        with self._lock:
            rule = parse_rule(next(self._ids), payload)
            if isinstance(rule, FaultRule):
                self._rules.append(rule)
            return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) < before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def draw(self, operation: Operation) -> tuple[int, str | None]:
        """(latency in ms, fault kind or None) for one call; the first fault drawn wins."""
        latency, fault = 0, None
        with self._lock:
            for rule in self._rules:
                if rule.matches(operation):
                    latency = max(latency, rule.latency_ms)
                    kind = rule.draw()
                    fault = fault or kind
        return latency, fault

    def apply(self, operation: Operation, request: AwsRequest) -> WireResponse | str | None:
        """Sleep the added latency; then an injected answer, ``"drop"``, or None (serve it)."""
        if not self._rules:  # the common case costs no lock
            return None
        latency, fault = self.draw(operation)
        if latency:
            time.sleep(latency / 1000)
        if fault is None or fault == "drop":
            return fault
        return injected_answer(operation, request, fault)


def injected_answer(operation: Operation, request: AwsRequest, fault: str) -> WireResponse:
    service, json_protocol = operation.service, bool(request.target)
    if fault == "throttle":
        if service == "s3":
            return s3_error(503, "SlowDown", "Please reduce your request rate.")
        if service == "sqs":
            message = "Request is throttled."
            if json_protocol:
                return sqs_error("RequestThrottled", message, 400)
            return query_error(400, "RequestThrottled", message)
        if service == "dynamodb":
            return dynamodb_error(
                "ThrottlingException", "Rate of requests exceeds the allowed throughput.", 400
            )
        return query_error(400, "Throttling", "Rate exceeded")
    status = 500 if fault == "error500" else 503
    if status == 503:
        code, message = "ServiceUnavailable", "Service is unable to handle request."
    else:
        code = {"s3": "InternalError", "sqs": "InternalError", "dynamodb": "InternalServerError"}.get(
            service, "InternalFailure"
        )
        message = "We encountered an internal error. Please try again."
    if service == "s3":
        return s3_error(status, code, message)
    if service == "dynamodb":
        return dynamodb_error(code, message, status)
    if service == "sqs" and json_protocol:
        answer = sqs_error(code, message, status)
        # A server fault, not the caller's.
        answer.headers = [
            (k, f"{code};Receiver" if k == "x-amzn-query-error" else v) for k, v in answer.headers
        ]
        return answer
    return query_error(status, code, message, "Receiver")


def query_error(status: int, code: str, message: str, party: str = "Sender") -> WireResponse:
    """The Query protocol's ``<ErrorResponse>`` (SQS's old protocol, STS, CloudFormation)."""
    request_id = str(uuid.uuid4())
    body = (
        '<?xml version="1.0"?>\n<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
        f"<Error><Type>{party}</Type><Code>{escape(code)}</Code><Message>{escape(message)}"
        f"</Message><Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return WireResponse(status, body, headers, error_code=code)


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's connection without an answer (the client sees it closed mid-call)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("no socket in the WSGI environ; cannot drop the connection")
    import socket

    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
