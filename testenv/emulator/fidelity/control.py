"""The emulator's own endpoints under ``/_ackrs/``: plain JSON, never AWS-shaped.

- ``GET /_ackrs/health`` -> ``{"ok": true}``
- ``POST /_ackrs/system-tags`` ``{"service", "resource", "tags"}`` -> put ``aws:`` tags on a
  bucket / queue / table, as AWS itself would (tests cannot do this through the AWS API)
- ``GET /_ackrs/requests`` -> the request log; ``DELETE /_ackrs/requests`` empties it
- ``POST /_ackrs/faults`` adds a fault rule (see faults.py), ``GET`` lists them with counts,
  ``DELETE /_ackrs/faults`` clears all, ``DELETE /_ackrs/faults/<id>`` one
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

from . import moto_state
from .faults import FaultRegistry, FaultRule
from .request_log import RequestLog
from .system_tags import is_system_tag_key
from .wire_request import AwsRequest
from .wire_response import WireResponse, json_response

CONTROL_PREFIX = "/_ackrs/"

# service -> (what "resource" names, how to tag it)
_TAGGERS: dict[str, tuple[str, Callable[[str, dict[str, str]], bool]]] = {
    "s3": ("bucket name", moto_state.add_bucket_tags),
    "sqs": ("queue URL", moto_state.add_queue_tags),
    "dynamodb": ("table ARN", moto_state.add_table_tags),
    "sns": ("topic ARN", moto_state.add_topic_tags),
}


class ControlEndpoints:
    def __init__(self, log: RequestLog, state_lock: threading.RLock, faults: FaultRegistry):
        self._log = log
        self._state_lock = state_lock
        self._faults = faults

    def handle(self, request: AwsRequest) -> WireResponse:
        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/_ackrs/health"):
            return json_response(200, {"ok": True})
        if route == ("POST", "/_ackrs/system-tags"):
            return self._add_system_tags(request)
        if route == ("GET", "/_ackrs/requests"):
            return json_response(200, self._log.entries())
        if route == ("DELETE", "/_ackrs/requests"):
            self._log.clear()
            return json_response(200, {"ok": True})
        if route[1] == "/_ackrs/faults" or route[1].startswith("/_ackrs/faults/"):
            return self._fault_endpoint(request, route)
        return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})

    def _fault_endpoint(self, request: AwsRequest, route: tuple[str, str]) -> WireResponse:
        method, path = route
        if path == "/_ackrs/faults":
            if method == "GET":
                return json_response(200, self._faults.describe())
            if method == "DELETE":
                self._faults.clear()
                return json_response(200, {"ok": True})
            if method == "POST":
                try:
                    payload: Any = json.loads(request.body or b"null")
                except ValueError:
                    return json_response(400, {"error": "body is not JSON"})
                rule = self._faults.add(payload)
                if not isinstance(rule, FaultRule):
                    return json_response(400, {"error": rule})
                return json_response(200, rule.describe())
        rule_id = path.rsplit("/", 1)[-1]
        if method == "DELETE" and rule_id.isdigit():
            if self._faults.remove(int(rule_id)):
                return json_response(200, {"ok": True})
            return json_response(404, {"error": f"no fault rule {rule_id}"})
        return json_response(404, {"error": f"no control endpoint {method} {path}"})

    def _add_system_tags(self, request: AwsRequest) -> WireResponse:
        try:
            payload: Any = json.loads(request.body or b"null")
        except ValueError:
            return json_response(400, {"error": "body is not JSON"})
        problem = _payload_problem(payload)
        if problem:
            return json_response(400, {"error": problem})
        what, add_tags = _TAGGERS[payload["service"]]
        with self._state_lock:
            found = add_tags(payload["resource"], payload["tags"])
        if not found:
            return json_response(404, {"error": f"no {payload['service']} {what} {payload['resource']!r}"})
        return json_response(200, {"ok": True})


def _payload_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return 'expected {"service", "resource", "tags"}'
    if payload.get("service") not in _TAGGERS:
        return f"service must be one of {sorted(_TAGGERS)}"
    if not isinstance(payload.get("resource"), str) or not payload["resource"]:
        return "resource must be a non-empty string (bucket name, queue URL or table ARN)"
    tags = payload.get("tags")
    if not isinstance(tags, dict) or not tags:
        return "tags must be a non-empty object of string keys and values"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        return "tags must be a non-empty object of string keys and values"
    user_keys = sorted(k for k in tags if not is_system_tag_key(k))
    if user_keys:
        return f"only aws: keys are system tags; not: {', '.join(user_keys)}"
    return None
