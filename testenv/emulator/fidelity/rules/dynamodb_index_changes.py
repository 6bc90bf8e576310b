"""DynamoDB index changes are not done when UpdateTable answers."""

from __future__ import annotations

import json
from typing import Any

from ..wire_response import WireResponse, dynamodb_error
from .base import Call, Rule
from .dynamodb_table_settings import dynamodb_json, find_table

# On moto's table: the index changes AWS would still be applying, {index name: status}.
_CHANGING = "_ackrs_changing_indexes"
# The index descriptions of indexes being deleted (moto has already dropped them).
_DELETING = "_ackrs_deleting_indexes"


class DynamoDbIndexChangesTakeARead(Rule):
    """UpdateTable with ``GlobalSecondaryIndexUpdates`` answers while the change is under way:
    the table is ``UPDATING``, a new index ``CREATING``, a deleted one still listed as
    ``DELETING``; another UpdateTable meanwhile → 400 ResourceInUseException ("Attempt to
    change a resource which is still in use: Table is being updated"), as the DynamoDB
    developer guide describes online index changes.

    AWS takes minutes; here the change is under way until one DescribeTable has reported it
    (that answer still shows it), so a controller that reads again after an update sees the
    table converging, deterministically. moto 5.2.5 applies index changes at once and answers
    ACTIVE.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "UpdateTable", "DescribeTable")

    def before_moto(self, call: Call) -> WireResponse | None:
        if not call.is_("dynamodb", "UpdateTable"):
            return None
        name = call.request.json_body().get("TableName", "")
        table = find_table(call, name)
        if table is not None and getattr(table, _CHANGING, None):
            return dynamodb_error(
                "ResourceInUseException",
                f"Attempt to change a resource which is still in use: Table is being updated: {name}",
            )
        if table is not None:
            call.notes["indexes_before"] = {i.name: i.describe() for i in table.global_indexes}
        return None

    def after_moto(self, call: Call) -> None:
        if not call.is_("dynamodb", "UpdateTable"):
            return
        updates = call.request.json_body().get("GlobalSecondaryIndexUpdates") or []
        table = find_table(call, call.request.json_body().get("TableName", ""))
        if table is None or not updates:
            return
        before: dict[str, Any] = call.notes.get("indexes_before", {})
        changing: dict[str, str] = {}
        deleting: list[dict[str, Any]] = []
        for update in updates:
            if "Create" in update:
                changing[update["Create"]["IndexName"]] = "CREATING"
            elif "Delete" in update:
                index = update["Delete"]["IndexName"]
                changing[index] = "DELETING"
                if index in before:
                    deleting.append(dict(before[index], IndexStatus="DELETING"))
            elif "Update" in update:
                changing[update["Update"]["IndexName"]] = "UPDATING"
        setattr(table, _CHANGING, changing)
        setattr(table, _DELETING, deleting)

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        try:
            payload = json.loads(response.body)
        except ValueError:
            return response
        key = "Table" if call.is_("dynamodb", "DescribeTable") else "TableDescription"
        description = payload.get(key)
        if not isinstance(description, dict):
            return response
        table = find_table(call, description.get("TableName", ""))
        changing = getattr(table, _CHANGING, None) if table is not None else None
        if not changing:
            return response
        description["TableStatus"] = "UPDATING"
        indexes = description.get("GlobalSecondaryIndexes") or []
        for index in indexes:
            if index.get("IndexName") in changing:
                index["IndexStatus"] = changing[index["IndexName"]]
        indexes.extend(getattr(table, _DELETING, []))
        description["GlobalSecondaryIndexes"] = indexes
        if call.is_("dynamodb", "DescribeTable"):
            # Reported once: from now on the change is done.
            setattr(table, _CHANGING, {})
            setattr(table, _DELETING, [])
        return dynamodb_json(payload, response.status)
