"""AWS-shaped HTTP answers: the error formats the AWS SDKs parse, one builder per protocol."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape


@dataclass
class WireResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # The AWS error code, when this answer is an error (for the request log).
    error_code: str | None = None

    def send(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = list(self.headers)
        # moto's own answers carry theirs (a HEAD's length is the object's, not the body's).
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {reason}", headers)
        return [self.body]


def _request_id() -> str:
    return uuid.uuid4().hex.upper()


def json_response(status: int, payload: Any) -> WireResponse:
    """Plain JSON, for the emulator's own control endpoints."""
    return WireResponse(
        status, json.dumps(payload).encode(), [("Content-Type", "application/json")]
    )


def s3_error(
    status: int, code: str, message: str, **details: str
) -> WireResponse:
    """S3's REST-XML error: ``<Error><Code/><Message/>...<RequestId/><HostId/></Error>``."""
    request_id = _request_id()
    fields = {"Code": code, "Message": message, **details, "RequestId": request_id,
              "HostId": request_id}
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()
    headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    return WireResponse(status, body, headers, error_code=code)


def sqs_error(code: str, message: str, status: int = 400) -> WireResponse:
    """SQS's JSON-protocol error, as the SDKs (boto3, the Rust SDK) call SQS today.

    ``__type`` carries the code after ``#``; SQS is "awsQueryCompatible", so AWS also sends
    the Query-protocol code in ``x-amzn-query-error: <code>;Sender``, and the SDKs prefer it.
    """
    body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-query-error", f"{code};Sender"),
        ("x-amzn-RequestId", _request_id()),
    ]
    return WireResponse(status, body, headers, error_code=code)


def dynamodb_error(code: str, message: str, status: int = 400) -> WireResponse:
    """DynamoDB's JSON error: ``{"__type": "com.amazonaws.dynamodb.v20120810#<code>"}``.

    DynamoDB signs every answer with ``x-amz-crc32`` of the body; SDKs check it when present.
    """
    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    ).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", _request_id()),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]
    return WireResponse(status, body, headers, error_code=code)


_XML_ERROR_CODE = re.compile(rb"<Code>([^<]+)</Code>")


def error_code_of(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
    """The AWS error code in one of moto's answers, whichever protocol it speaks."""
    if status < 400:
        return None
    for name, value in headers:
        if name.lower() == "x-amzn-query-error":
            return value.split(";")[0]
    if body.lstrip().startswith(b"{"):
        try:
            error_type = json.loads(body).get("__type")
        except (ValueError, AttributeError):
            error_type = None
        if error_type:
            return str(error_type).split("#")[-1]
    match = _XML_ERROR_CODE.search(body)
    if match:
        return match.group(1).decode()
    return None
