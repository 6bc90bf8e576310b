"""The WSGI middleware in front of moto: control endpoints, fidelity rules, request log."""

from __future__ import annotations

import contextlib
import sys
import threading
import traceback
from typing import Any, Callable, Iterable

from .control import CONTROL_PREFIX, ControlEndpoints
from .faults import FaultRegistry, drop_connection
from .moto_state import account_id_for
from .operations import classify
from .request_log import RequestLog
from .rules import ALL_RULES, Call, Rule
from .wire_request import AwsRequest
from .wire_response import WireResponse, error_code_of, json_response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# moto's own dashboard and reset API: not AWS calls, so neither ruled nor logged.
_MOTO_INTERNAL_PREFIXES = ("/moto-api",)

# Reads of state that some rules fix in two steps (moto writes, the rule corrects); they
# wait for a correction in progress so they never see the half-way state.
_READS_OF_CORRECTED_STATE = {("s3", "GetBucketTagging"), ("dynamodb", "ListTagsOfResource")}


class FidelityMiddleware:
    def __init__(self, moto_app: WsgiApp, rules: list[Rule] | None = None):
        self.moto_app = moto_app
        self.rules = ALL_RULES if rules is None else rules
        self.request_log = RequestLog()
        self.state_lock = threading.RLock()
        self.faults = FaultRegistry()
        self.control = ControlEndpoints(self.request_log, self.state_lock, self.faults)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(_MOTO_INTERNAL_PREFIXES):
            return self.moto_app(environ, start_response)
        request = AwsRequest(environ)
        if path.startswith(CONTROL_PREFIX):
            return self.control.handle(request).send(start_response)

        operation = classify(request)
        # Injected faults come first: a throttled or failed call never reaches moto.
        injected = self.faults.apply(operation, request)
        if injected == "drop":
            self.request_log.record(operation, 0, "ConnectionDropped", fault="drop")
            drop_connection(environ)
            # The answer goes nowhere; the server notes the dropped connection and moves on.
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return [b""]
        if injected is not None:
            self.request_log.record(
                operation, injected.status, injected.error_code, fault="injected"
            )
            return injected.send(start_response)
        call = Call(request, operation, account_id_for(request))
        rules = [rule for rule in self.rules if rule.applies_to(call)]
        serialise = rules or (operation.service, operation.name) in _READS_OF_CORRECTED_STATE
        with self.state_lock if serialise else contextlib.nullcontext():
            response = self._serve(call, rules)
        self.request_log.record(operation, response.status, response.error_code)
        return response.send(start_response)

    def _serve(self, call: Call, rules: list[Rule]) -> WireResponse:
        try:
            for rule in rules:
                answer = rule.before_moto(call)
                if answer is not None:
                    return answer
            response = self._call_moto(call.request.environ)
            if 200 <= response.status < 300:
                for rule in rules:
                    rule.after_moto(call)
                for rule in rules:
                    response = rule.reshape(call, response)
            return response
        except Exception:  # a broken rule must show up as such, not as a hung client
            traceback.print_exc(file=sys.stderr)
            failed = json_response(500, {"error": "emulator rule failed; see emulator stderr"})
            failed.error_code = "EmulatorRuleError"
            return failed

    def _call_moto(self, environ: dict[str, Any]) -> WireResponse:
        """Run moto's app and keep its whole answer, to log it (and send it on unchanged)."""
        started: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started["status"], started["headers"] = status, headers
            return lambda chunk: None  # moto never uses the legacy write() callable

        result = self.moto_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status = int(started["status"].split()[0])
        headers = list(started["headers"])
        return WireResponse(status, body, headers, error_code_of(status, headers, body))
