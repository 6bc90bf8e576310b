"""DynamoDB table settings moto 5.2.5 drops: table class, on-demand throughput, encryption and
replicas on UpdateTable (class and on-demand throughput on CreateTable too), a resource policy
given to CreateTable, and contributor insights."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone
from typing import Any

from moto.backends import get_backend

from ..wire_response import WireResponse, _request_id, dynamodb_error
from .base import Call, Rule

# What the rules keep on moto's table object (it goes when the table goes, as in AWS).
_CLASS = "_ackrs_table_class"
_ON_DEMAND = "_ackrs_on_demand_throughput"
_REPLICAS = "_ackrs_replicas"
_INSIGHTS = "_ackrs_contributor_insights"


def dynamodb_json(payload: Any, status: int = 200) -> WireResponse:
    body = json.dumps(payload, default=_json_default).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", _request_id()),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]
    return WireResponse(status, body, headers)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON: {value!r}")


def find_table(call: Call, name: str) -> Any | None:
    """The table of that name in the account and region the call is for (or an ARN's)."""
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    backends = get_backend("dynamodb")
    if call.account_id not in backends:
        return None
    regions = backends[call.account_id]
    if call.request.region not in dict.keys(regions):
        return None
    return regions[call.request.region].tables.get(name)


def _not_found(name: str) -> WireResponse:
    return dynamodb_error("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


class DynamoDbTableSettingsAreKept(Rule):
    """CreateTable and UpdateTable apply ``TableClass`` and ``OnDemandThroughput`` (of the table
    and of each global secondary index created or updated) and
    UpdateTable applies ``SSESpecification`` and ``ReplicaUpdates`` (global tables version
    2019.11.21); DescribeTable (and the Create/UpdateTable answers) report them as
    ``TableClassSummary``, ``OnDemandThroughput``, ``SSEDescription`` and ``Replicas``, as the
    DynamoDB API reference documents for TableDescription. A ``ResourcePolicy`` given to
    CreateTable is the table's policy (GetResourcePolicy returns it).

    moto 5.2.5 ignores all of these members (it keeps SSESpecification only from CreateTable),
    so a controller that sends them sees nothing change.

    A replica is a table of the same name and keys in its region (made and dropped with it),
    and its change is under way (``CREATING``/``UPDATING``/``DELETING``) until one DescribeTable
    has reported it, like index changes (AWS takes minutes).
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "CreateTable", "UpdateTable", "DescribeTable")

    def before_moto(self, call: Call) -> WireResponse | None:
        if not call.is_("dynamodb", "UpdateTable"):
            return None
        body = call.request.json_body()
        updates = body.get("ReplicaUpdates") or []
        # AWS: one replica create or delete per UpdateTable call.
        if len(updates) > 1:
            return dynamodb_error(
                "ValidationException",
                "One or more parameter values were invalid: only one replica update is allowed per UpdateTable call",
            )
        table = find_table(call, body.get("TableName", ""))
        if table is None or not updates:
            return None
        update = updates[0]
        region = (update.get("Create") or update.get("Delete") or update.get("Update") or {}).get("RegionName")
        replicas = getattr(table, _REPLICAS, [])
        if "Create" in update:
            stream = table.stream_specification or {}
            if not (stream.get("StreamEnabled") and stream.get("StreamViewType") == "NEW_AND_OLD_IMAGES"):
                return dynamodb_error(
                    "ValidationException",
                    "Table needs to have streams enabled with StreamViewType NEW_AND_OLD_IMAGES to add replicas",
                )
            if region == call.request.region or any(r["RegionName"] == region for r in replicas):
                return dynamodb_error("ValidationException", f"Failed to create a replica in region {region}: it already exists")
        if ("Delete" in update or "Update" in update) and not any(r["RegionName"] == region for r in replicas):
            return dynamodb_error("ValidationException", f"Replica in region {region} does not exist")
        return None

    def after_moto(self, call: Call) -> None:
        body = call.request.json_body()
        table = find_table(call, body.get("TableName", ""))
        if table is None:
            return
        if body.get("TableClass"):
            setattr(table, _CLASS, body["TableClass"])
        if body.get("OnDemandThroughput"):
            setattr(table, _ON_DEMAND, dict(body["OnDemandThroughput"]))
        index_settings = [g for g in body.get("GlobalSecondaryIndexes") or []]
        for update in body.get("GlobalSecondaryIndexUpdates") or []:
            index_settings += [update[k] for k in ("Create", "Update") if k in update]
        for settings in index_settings:
            if settings.get("OnDemandThroughput"):
                for index in table.global_indexes:
                    if index.name == settings.get("IndexName"):
                        setattr(index, _ON_DEMAND, dict(settings["OnDemandThroughput"]))
        if call.is_("dynamodb", "CreateTable"):
            if body.get("ResourcePolicy"):
                backend = get_backend("dynamodb")[call.account_id][call.request.region]
                backend.put_resource_policy(table.table_arn, body["ResourcePolicy"], None)
            return
        if call.is_("dynamodb", "DescribeTable"):
            return
        sse = body.get("SSESpecification")
        if sse is not None:
            if sse.get("Enabled"):
                key = sse.get("KMSMasterKeyId") or table._get_default_encryption_key(
                    table.account_id, table.region_name
                )
                table.sse_specification = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
            else:
                # Disabled means encrypted with an AWS owned key: no SSEDescription.
                table.sse_specification = None
        for update in body.get("ReplicaUpdates") or []:
            replicas = getattr(table, _REPLICAS, [])
            if "Create" in update:
                action = update["Create"]
                _make_replica_table(call, table, action["RegionName"])
                replicas = replicas + [_replica(action, "CREATING")]
            elif "Update" in update:
                action = update["Update"]
                replicas = [
                    _replica(action, "UPDATING") if r["RegionName"] == action["RegionName"] else r for r in replicas
                ]
            elif "Delete" in update:
                region = update["Delete"]["RegionName"]
                _drop_replica_table(call, table.name, region)
                replicas = [dict(r, ReplicaStatus="DELETING") if r["RegionName"] == region else r for r in replicas]
            setattr(table, _REPLICAS, replicas)

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
        if table is None:
            return response
        if getattr(table, _CLASS, None):
            description["TableClassSummary"] = {"TableClass": getattr(table, _CLASS)}
        if getattr(table, _ON_DEMAND, None):
            description["OnDemandThroughput"] = getattr(table, _ON_DEMAND)
        replicas = getattr(table, _REPLICAS, None)
        if replicas:
            description["Replicas"] = [dict(r) for r in replicas]
            description["GlobalTableVersion"] = "2019.11.21"
            if call.is_("dynamodb", "DescribeTable"):
                # A replica change is under way until one DescribeTable has reported it (AWS
                # takes minutes): then CREATING/UPDATING replicas are ACTIVE, DELETING ones gone.
                setattr(
                    table,
                    _REPLICAS,
                    [dict(r, ReplicaStatus="ACTIVE") for r in replicas if r["ReplicaStatus"] != "DELETING"],
                )
        for index in description.get("GlobalSecondaryIndexes") or []:
            kept = next((i for i in table.global_indexes if i.name == index.get("IndexName")), None)
            if getattr(kept, _ON_DEMAND, None):
                index["OnDemandThroughput"] = getattr(kept, _ON_DEMAND)
        # moto wrote its answer before `after_moto` changed the encryption.
        sse = table.sse_specification or {}
        if sse.get("Enabled"):
            description["SSEDescription"] = {
                "Status": "ENABLED",
                "SSEType": "KMS",
                "KMSMasterKeyArn": sse.get("KMSMasterKeyId"),
            }
        else:
            description.pop("SSEDescription", None)
        return dynamodb_json(payload, response.status)


def _replica(action: dict[str, Any], status: str) -> dict[str, Any]:
    """A ReplicaDescription for a Create/Update replica action."""
    replica: dict[str, Any] = {"RegionName": action["RegionName"], "ReplicaStatus": status}
    if action.get("KMSMasterKeyId"):
        replica["KMSMasterKeyId"] = action["KMSMasterKeyId"]
    if action.get("ProvisionedThroughputOverride"):
        replica["ProvisionedThroughputOverride"] = dict(action["ProvisionedThroughputOverride"])
    if action.get("GlobalSecondaryIndexes"):
        replica["GlobalSecondaryIndexes"] = [dict(g) for g in action["GlobalSecondaryIndexes"]]
    if action.get("TableClassOverride"):
        replica["ReplicaTableClassSummary"] = {"TableClass": action["TableClassOverride"]}
    return replica


def _make_replica_table(call: Call, table: Any, region: str) -> None:
    """The replica is a table of the same name and keys in its own region, as in AWS (a
    DescribeTable signed for that region finds it)."""
    backend = get_backend("dynamodb")[call.account_id][region]
    if table.name in backend.tables:
        return
    described = table.describe()["TableDescription"]
    backend.create_table(
        table.name,
        schema=described["KeySchema"],
        throughput=dict(table.throughput) if table.billing_mode != "PAY_PER_REQUEST" else None,
        attr=described["AttributeDefinitions"],
        global_indexes=[
            {k: v for k, v in g.describe().items() if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")}
            for g in table.global_indexes
        ]
        or None,
        indexes=[{"IndexName": i.name, "KeySchema": i.schema, "Projection": i.projection} for i in table.indexes] or None,
        streams=table.stream_specification,
        billing_mode=table.billing_mode,
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )


def _drop_replica_table(call: Call, name: str, region: str) -> None:
    regions = get_backend("dynamodb")[call.account_id]
    if region in dict.keys(regions):
        regions[region].tables.pop(name, None)


class DynamoDbContributorInsightsIsServed(Rule):
    """DescribeContributorInsights / UpdateContributorInsights for a table (or one of its
    indexes): a new table's insights are ``DISABLED``; UpdateContributorInsights with
    ``ContributorInsightsAction`` ENABLE / DISABLE answers ``ENABLING`` / ``DISABLING`` and
    DescribeContributorInsights then reports ``ENABLED`` / ``DISABLED`` (AWS gets there within
    moments); an unknown table → 400 ResourceNotFoundException.

    moto 5.2.5 implements neither operation.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("dynamodb", "DescribeContributorInsights", "UpdateContributorInsights")

    def before_moto(self, call: Call) -> WireResponse | None:
        body = call.request.json_body()
        name = body.get("TableName", "")
        table = find_table(call, name)
        if table is None:
            return _not_found(name)
        index = body.get("IndexName")
        if index is not None and not any(i.name == index for i in table.global_indexes + table.indexes):
            return dynamodb_error("ResourceNotFoundException", f"Requested resource not found: Index: {index} not found")
        insights = getattr(table, _INSIGHTS, {})
        answer: dict[str, Any] = {"TableName": name}
        if index is not None:
            answer["IndexName"] = index
        if call.is_("dynamodb", "UpdateContributorInsights"):
            action = body.get("ContributorInsightsAction")
            if action not in ("ENABLE", "DISABLE"):
                return dynamodb_error(
                    "ValidationException",
                    f"1 validation error detected: Value '{action}' at 'contributorInsightsAction' "
                    "failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]",
                )
            insights[index] = ("ENABLED", "DISABLED")[action == "DISABLE"]
            setattr(table, _INSIGHTS, insights)
            answer["ContributorInsightsStatus"] = ("ENABLING", "DISABLING")[action == "DISABLE"]
            return dynamodb_json(answer)
        answer["ContributorInsightsStatus"] = insights.get(index, "DISABLED")
        answer["ContributorInsightsRuleList"] = []
        answer["LastUpdateDateTime"] = datetime.now(timezone.utc).timestamp()
        return dynamodb_json(answer)
