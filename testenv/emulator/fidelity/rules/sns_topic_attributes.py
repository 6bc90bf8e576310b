"""SNS GetTopicAttributes returns every attribute the topic was given."""

from __future__ import annotations

from xml.sax.saxutils import escape

from moto.backends import get_backend

from ..wire_response import WireResponse
from .base import Call, Rule

# Topic attributes AWS returns once set (SNS API reference, GetTopicAttributes) that moto stores
# (as the snake_case attribute of its topic) but leaves out of its answer.
REPORTED = {
    "FifoThroughputScope": "fifo_throughput_scope",
    "SignatureVersion": "signature_version",
    "TracingConfig": "tracing_config",
    "ArchivePolicy": "archive_policy",
}


class SnsReportsEveryTopicAttribute(Rule):
    """GetTopicAttributes lists ``FifoThroughputScope``, ``SignatureVersion``,
    ``TracingConfig`` and ``ArchivePolicy`` once CreateTopic or SetTopicAttributes set them, as
    the SNS API reference lists them among a topic's attributes.

    moto 5.2.5 stores them on the topic and never returns them, so a controller that sets one
    reads it back as unset forever.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("sns", "GetTopicAttributes")

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        arn = call.request.form_param("TopicArn") or ""
        topic = _find_topic(call.account_id, arn)
        if topic is None or b"</Attributes>" not in response.body:
            return response
        entries = "".join(
            f"<entry><key>{name}</key><value>{escape(str(value))}</value></entry>"
            for name, field in REPORTED.items()
            if (value := getattr(topic, field, None)) not in (None, "")
            and f"<key>{name}</key>".encode() not in response.body
        )
        if not entries:
            return response
        body = response.body.replace(b"</Attributes>", entries.encode() + b"</Attributes>", 1)
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        return WireResponse(response.status, body, headers)


def _find_topic(account_id: str, arn: str):
    backends = get_backend("sns")
    if account_id not in backends:
        return None
    for backend in dict.values(backends[account_id]):
        topic = backend.topics.get(arn)
        if topic is not None:
            return topic
    return None
