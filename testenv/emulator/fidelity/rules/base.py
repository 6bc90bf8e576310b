"""The shape of a fidelity rule, and the per-call context rules share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..operations import Operation
from ..wire_request import AwsRequest
from ..wire_response import WireResponse


@dataclass
class Call:
    """One AWS call on its way through the rules to moto and back."""

    request: AwsRequest
    operation: Operation
    account_id: str
    # What a rule learned before moto answered and needs again afterwards.
    notes: dict[str, Any] = field(default_factory=dict)

    def is_(self, service: str, *operations: str) -> bool:
        return self.operation.service == service and self.operation.name in operations


class Rule:
    """One AWS behaviour that moto gets wrong, put right around moto.

    ``before_moto`` may answer in moto's place (an AWS error) or rewrite the request;
    ``after_moto`` runs only when moto answered with success, to correct what moto stored;
    ``reshape`` then sees that successful answer and may return it in AWS's wire shape.
    """

    def applies_to(self, call: Call) -> bool:
        raise NotImplementedError

    def before_moto(self, call: Call) -> WireResponse | None:
        return None

    def after_moto(self, call: Call) -> None:
        return None

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        return response
