"""SQS GetQueueAttributes returns the queue's RedriveAllowPolicy."""

from __future__ import annotations

import json

from .. import moto_state
from ..wire_response import WireResponse, _request_id
from .base import Call, Rule

NAME = "RedriveAllowPolicy"


class SqsKeepsRedriveAllowPolicy(Rule):
    """A ``RedriveAllowPolicy`` set by CreateQueue / SetQueueAttributes is returned by
    GetQueueAttributes when asked for by name or with ``All``, as the SQS API reference lists
    it among the queue's attributes.

    moto 5.2.5 stores it but never returns it, and refuses the name in ``AttributeNames`` with
    400 InvalidAttributeName; the name is taken out before moto answers and the value added to
    moto's answer.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("sqs", "GetQueueAttributes")

    def before_moto(self, call: Call) -> WireResponse | None:
        body = call.request.json_body()
        names = body.get("AttributeNames")
        if not isinstance(names, list):
            return None
        call.notes["wanted"] = NAME in names or "All" in names
        if NAME in names:
            body["AttributeNames"] = [n for n in names if n != NAME]
            call.request.replace_body(json.dumps(body).encode())
        return None

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        if not call.notes.get("wanted"):
            return response
        queue = moto_state.find_queue(call.request.json_body().get("QueueUrl", ""), call.request.region)
        policy = getattr(queue, "redrive_allow_policy", None) if queue is not None else None
        if not policy:
            return response
        try:
            payload = json.loads(response.body or b"{}")
        except ValueError:
            return response
        payload.setdefault("Attributes", {})[NAME] = policy if isinstance(policy, str) else json.dumps(policy)
        body = json.dumps(payload).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", _request_id())]
        return WireResponse(response.status, body, headers)
