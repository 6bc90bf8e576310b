"""DynamoDB TagResource/UntagResource act on an existing table and keep one value per key."""

from __future__ import annotations

from .. import moto_state
from ..wire_response import WireResponse, dynamodb_error
from .base import Call, Rule


class DynamoDbTaggingNeedsAnExistingTable(Rule):
    """TagResource/UntagResource on an ARN with no table: 400 ResourceNotFoundException.

    AWS answers ResourceNotFoundException for a resource that does not exist (as moto itself
    does for ListTagsOfResource); moto 5.2.5 answers 200 to TagResource/UntagResource and
    stores nothing, which would hide a controller tagging the wrong ARN.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "TagResource", "UntagResource")

    def before_moto(self, call: Call) -> WireResponse | None:
        arn = call.request.json_body().get("ResourceArn")
        if not isinstance(arn, str) or moto_state.find_table(arn) is not None:
            return None
        return dynamodb_error(
            "ResourceNotFoundException",
            f"Requested resource not found: ResourceArn: {arn} not found",
        )


class DynamoDbTagResourceReplacesValues(Rule):
    """TagResource with a key the table already has replaces that tag's value.

    AWS keeps one value per tag key (a tag is a key-value pair; tagging an existing key
    overwrites it). moto 5.2.5 appends a second {Key, Value} entry, so ListTagsOfResource
    then lists the key twice; here the duplicates are folded, the newest value winning.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "TagResource")

    def after_moto(self, call: Call) -> None:
        table = moto_state.find_table(call.request.json_body().get("ResourceArn", ""))
        if table is not None:
            moto_state.set_table_tags(table, {})
