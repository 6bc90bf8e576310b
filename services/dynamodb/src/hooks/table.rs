//! Table quirks: DescribeTable reports several spec fields only as summaries or descriptions,
//! UpdateTable takes one kind of change per call (index changes as `GlobalSecondaryIndexUpdates`,
//! one index at a time), a table with deletion protection must be unprotected before it can be
//! deleted, and a table is usable only once it (and its indexes) are ACTIVE. Replicas (global
//! tables version 2019.11.21) are added, changed and removed through UpdateTable's
//! `ReplicaUpdates`, one per call, each once the previous one is ACTIVE; before DeleteTable, so
//! no replica outlives the table.

use ack_runtime::{Delta, ReconcileError};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder;
use aws_sdk_dynamodb::types as sdk;

use crate::Table;
use crate::generated::table_convert;
use crate::table::{
    AttributeDefinition, CreateReplicationGroupMemberAction, GlobalSecondaryIndex,
    LocalSecondaryIndex, OnDemandThroughputOverride, PointInTimeRecoverySpecification,
    ProvisionedThroughput, ProvisionedThroughputOverride, ReplicaGlobalSecondaryIndex,
    SseSpecification, StreamSpecification, TimeToLiveSpecification,
};

const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";
const PROVISIONED: &str = "PROVISIONED";

/// The spec fields DescribeTable reports under other names or shapes.
pub fn after_read_one(_desired: &Table, latest: &mut Table, output: &sdk::TableDescription) {
    // Without a summary the table has always been provisioned.
    let billing = output
        .billing_mode_summary
        .as_ref()
        .and_then(|s| s.billing_mode.as_ref())
        .map_or(PROVISIONED, |m| m.as_str())
        .to_string();
    let on_demand = billing == PAY_PER_REQUEST;
    latest.spec.billing_mode = Some(billing);
    // AWS reports a class only once one other than the default was chosen.
    latest.spec.table_class = Some(
        output
            .table_class_summary
            .as_ref()
            .and_then(|s| s.table_class.as_ref())
            .map_or("STANDARD", |c| c.as_str())
            .to_string(),
    );
    // On-demand tables report zero capacity.
    latest.spec.provisioned_throughput = output
        .provisioned_throughput
        .as_ref()
        .filter(|_| !on_demand)
        .map(|p| ProvisionedThroughput {
            read_capacity_units: p.read_capacity_units,
            write_capacity_units: p.write_capacity_units,
        });
    latest.spec.sse_specification = output.sse_description.as_ref().and_then(|d| {
        let status = d.status.as_ref()?.as_str();
        let enabled = matches!(status, "ENABLED" | "ENABLING" | "UPDATING");
        Some(SseSpecification {
            enabled: Some(enabled),
            kms_master_key_id: d.kms_master_key_arn.clone(),
            sse_type: d.sse_type.as_ref().map(|t| t.as_str().to_string()),
            ..Default::default()
        })
    });
    let gsis = latest
        .status
        .as_ref()
        .and_then(|s| s.global_secondary_indexes_descriptions.as_ref())
        .map(|list| {
            list.iter()
                .map(|d| GlobalSecondaryIndex {
                    index_name: d.index_name.clone(),
                    key_schema: d.key_schema.clone(),
                    on_demand_throughput: d.on_demand_throughput.clone(),
                    projection: d.projection.clone(),
                    provisioned_throughput: d
                        .provisioned_throughput
                        .as_ref()
                        .filter(|_| !on_demand)
                        .map(|p| ProvisionedThroughput {
                            read_capacity_units: p.read_capacity_units,
                            write_capacity_units: p.write_capacity_units,
                        }),
                })
                .collect::<Vec<_>>()
        });
    latest.spec.global_secondary_indexes = gsis.filter(|l| !l.is_empty());
    let lsis = output.local_secondary_indexes.as_ref().map(|list| {
        list.iter()
            .map(|d| LocalSecondaryIndex {
                index_name: d.index_name.clone(),
                key_schema: d.key_schema.as_ref().map(|k| {
                    k.iter()
                        .map(table_convert::from_sdk_key_schema_element)
                        .collect()
                }),
                projection: d
                    .projection
                    .as_ref()
                    .map(table_convert::from_sdk_projection),
            })
            .collect::<Vec<_>>()
    });
    latest.spec.local_secondary_indexes = lsis.filter(|l| !l.is_empty());
    latest.spec.table_replicas = output
        .replicas
        .as_ref()
        .map(|list| list.iter().map(replica_from_aws).collect::<Vec<_>>())
        .filter(|l| !l.is_empty());
}

/// A replica AWS describes, as the spec declares one.
fn replica_from_aws(d: &sdk::ReplicaDescription) -> CreateReplicationGroupMemberAction {
    CreateReplicationGroupMemberAction {
        region_name: d.region_name.clone(),
        kms_master_key_id: d.kms_master_key_id.clone(),
        provisioned_throughput_override: d.provisioned_throughput_override.as_ref().map(|p| {
            ProvisionedThroughputOverride {
                read_capacity_units: p.read_capacity_units,
            }
        }),
        on_demand_throughput_override: d.on_demand_throughput_override.as_ref().map(|o| {
            OnDemandThroughputOverride {
                max_read_request_units: o.max_read_request_units,
            }
        }),
        global_secondary_indexes: d
            .global_secondary_indexes
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|g| ReplicaGlobalSecondaryIndex {
                        index_name: g.index_name.clone(),
                        provisioned_throughput_override: g
                            .provisioned_throughput_override
                            .as_ref()
                            .map(|p| ProvisionedThroughputOverride {
                                read_capacity_units: p.read_capacity_units,
                            }),
                        on_demand_throughput_override: g
                            .on_demand_throughput_override
                            .as_ref()
                            .map(|o| OnDemandThroughputOverride {
                                max_read_request_units: o.max_read_request_units,
                            }),
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty()),
        table_class_override: d
            .replica_table_class_summary
            .as_ref()
            .and_then(|c| c.table_class.as_ref())
            .map(|c| c.as_str().to_string()),
    }
}

/// Billing mode and table class AWS chose show in the spec, so a steady state has no delta.
pub fn late_initialize(desired: &mut Table, latest: &Table) -> bool {
    let mut changed = false;
    for (wanted, actual) in [
        (&mut desired.spec.billing_mode, &latest.spec.billing_mode),
        (&mut desired.spec.table_class, &latest.spec.table_class),
    ] {
        if wanted.is_none() && actual.is_some() {
            wanted.clone_from(actual);
            changed = true;
        }
    }
    changed
}

/// Drops differences that are only in how AWS reports a value.
pub fn delta(desired: &Table, latest: &Table, delta: &mut Delta) {
    let (wanted, actual) = (&desired.spec, &latest.spec);
    let same = |path: &str| match path {
        "spec.attributeDefinitions" => {
            same_attribute_types(&wanted.attribute_definitions, &actual.attribute_definitions)
        }
        "spec.streamSpecification" => {
            same_stream(&wanted.stream_specification, &actual.stream_specification)
        }
        "spec.sseSpecification" => same_sse(&wanted.sse_specification, &actual.sse_specification),
        "spec.globalSecondaryIndexes" => gsi_change(desired, latest).is_none(),
        "spec.timeToLive" => same_ttl(&wanted.time_to_live, &actual.time_to_live),
        "spec.continuousBackups" => {
            same_pitr(&wanted.continuous_backups, &actual.continuous_backups)
        }
        "spec.contributorInsights" => {
            wanted
                .contributor_insights
                .as_ref()
                .and_then(|v| contributor_insights_to_aws(v).ok())
                == actual.contributor_insights
        }
        _ => false,
    };
    delta.paths.retain(|path| !same(path));
    // A custom field: the generated delta does not compare it.
    delta.paths.retain(|p| p != "spec.tableReplicas");
    if replica_change(desired, latest).is_some() {
        delta.paths.push("spec.tableReplicas".into());
    }
}

/// One change of the replica set; UpdateTable takes one per call.
#[derive(Debug, PartialEq)]
enum ReplicaChange<'a> {
    Create(&'a CreateReplicationGroupMemberAction),
    Update(&'a CreateReplicationGroupMemberAction),
    Delete(String),
}

/// The next replica change, creations first, then updates, then removals (as ACK orders them).
/// Replicas the spec does not declare (`tableReplicas` left out) are not managed; an empty list
/// removes them all. A setting the spec leaves out is whatever AWS has.
fn replica_change<'a>(desired: &'a Table, latest: &Table) -> Option<ReplicaChange<'a>> {
    let wanted = desired.spec.table_replicas.as_ref()?;
    let actual = latest.spec.table_replicas.as_deref().unwrap_or_default();
    let find = |region: &Option<String>| actual.iter().find(|a| a.region_name == *region);
    if let Some(new) = wanted.iter().find(|w| find(&w.region_name).is_none()) {
        return Some(ReplicaChange::Create(new));
    }
    let covered = |w: &CreateReplicationGroupMemberAction,
                   a: &CreateReplicationGroupMemberAction| {
        (w.kms_master_key_id.is_none() || w.kms_master_key_id == a.kms_master_key_id)
            && (w.provisioned_throughput_override.is_none()
                || w.provisioned_throughput_override == a.provisioned_throughput_override)
            && (w.on_demand_throughput_override.is_none()
                || w.on_demand_throughput_override == a.on_demand_throughput_override)
            && (w.global_secondary_indexes.is_none()
                || w.global_secondary_indexes == a.global_secondary_indexes)
            && (w.table_class_override.is_none()
                || w.table_class_override == a.table_class_override)
    };
    if let Some(changed) = wanted
        .iter()
        .find(|w| find(&w.region_name).is_some_and(|a| !covered(w, a)))
    {
        return Some(ReplicaChange::Update(changed));
    }
    actual
        .iter()
        .find(|a| !wanted.iter().any(|w| w.region_name == a.region_name))
        .and_then(|gone| gone.region_name.clone())
        .map(ReplicaChange::Delete)
}

/// A replica AWS is still creating, updating or deleting (the next change must wait for it).
fn replica_in_progress(latest: &Table) -> Option<String> {
    latest
        .status
        .as_ref()?
        .replicas
        .iter()
        .flatten()
        .find(|r| r.replica_status.as_deref().is_some_and(|s| s != "ACTIVE"))
        .map(|r| {
            format!(
                "{} is {}",
                r.region_name.as_deref().unwrap_or("?"),
                r.replica_status.as_deref().unwrap_or("?")
            )
        })
}

/// Replicas copy the table through its stream: AWS needs one with both images.
fn streams_new_and_old_images(desired: &Table) -> bool {
    desired.spec.stream_specification.as_ref().is_some_and(|s| {
        s.stream_enabled == Some(true)
            && s.stream_view_type.as_deref() == Some("NEW_AND_OLD_IMAGES")
    })
}

/// The `ReplicaUpdates` element of one replica change.
fn replica_update(change: &ReplicaChange) -> Result<sdk::ReplicationGroupUpdate, ReconcileError> {
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
        ReconcileError::terminal("InvalidSpec", format!("spec.tableReplicas: {e}"))
    };
    Ok(match change {
        ReplicaChange::Create(replica) => sdk::ReplicationGroupUpdate::builder()
            .create(
                table_convert::to_sdk_create_replication_group_member_action(
                    replica,
                    "spec.tableReplicas",
                )?,
            )
            .build(),
        ReplicaChange::Update(replica) => {
            let r = table_convert::to_sdk_create_replication_group_member_action(
                replica,
                "spec.tableReplicas",
            )?;
            sdk::ReplicationGroupUpdate::builder()
                .update(
                    sdk::UpdateReplicationGroupMemberAction::builder()
                        .region_name(r.region_name)
                        .set_kms_master_key_id(r.kms_master_key_id)
                        .set_provisioned_throughput_override(r.provisioned_throughput_override)
                        .set_on_demand_throughput_override(r.on_demand_throughput_override)
                        .set_global_secondary_indexes(r.global_secondary_indexes)
                        .set_table_class_override(r.table_class_override)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
        ReplicaChange::Delete(region) => sdk::ReplicationGroupUpdate::builder()
            .delete(
                sdk::DeleteReplicationGroupMemberAction::builder()
                    .region_name(region)
                    .build()
                    .map_err(invalid)?,
            )
            .build(),
    })
}

/// CreateTable takes no replicas: they follow through UpdateTable once the table is ACTIVE.
/// Without the stream replicas need, the table would be made and then stay Terminal: refuse
/// before any AWS call instead.
pub fn before_create(desired: &Table) -> Result<(), ReconcileError> {
    let replicated = desired
        .spec
        .table_replicas
        .as_ref()
        .is_some_and(|r| !r.is_empty());
    if replicated && !streams_new_and_old_images(desired) {
        return Err(replicas_need_streams());
    }
    Ok(())
}

fn replicas_need_streams() -> ReconcileError {
    ReconcileError::terminal(
        "InvalidSpec",
        "spec.tableReplicas: table must have DynamoDB Streams enabled with StreamViewType set \
         to NEW_AND_OLD_IMAGES for replica updates (spec.streamSpecification)",
    )
}

/// Attribute definitions only describe the keys of the table and its indexes: they are sent
/// with an index creation, and AWS reports those its keys use (an index's go with it, or
/// linger). So they differ only when an attribute both name has another type.
fn same_attribute_types(wanted: &[AttributeDefinition], actual: &[AttributeDefinition]) -> bool {
    wanted.iter().all(|w| {
        actual
            .iter()
            .filter(|a| a.attribute_name == w.attribute_name)
            .all(|a| a.attribute_type == w.attribute_type)
    })
}

fn same_stream(wanted: &Option<StreamSpecification>, actual: &Option<StreamSpecification>) -> bool {
    let enabled = |s: &Option<StreamSpecification>| {
        s.as_ref().and_then(|s| s.stream_enabled).unwrap_or(false)
    };
    if !enabled(wanted) {
        return !enabled(actual);
    }
    enabled(actual)
        && wanted.as_ref().and_then(|s| s.stream_view_type.as_ref())
            == actual.as_ref().and_then(|s| s.stream_view_type.as_ref())
}

fn same_sse(wanted: &Option<SseSpecification>, actual: &Option<SseSpecification>) -> bool {
    let enabled =
        |s: &Option<SseSpecification>| s.as_ref().and_then(|s| s.enabled).unwrap_or(false);
    if enabled(wanted) != enabled(actual) {
        return false;
    }
    let (Some(w), Some(a)) = (wanted, actual) else {
        return true;
    };
    (w.sse_type.is_none() || w.sse_type == a.sse_type)
        && (w.kms_master_key_id.is_none() || w.kms_master_key_id == a.kms_master_key_id)
}

fn same_ttl(
    wanted: &Option<TimeToLiveSpecification>,
    actual: &Option<TimeToLiveSpecification>,
) -> bool {
    let enabled =
        |s: &Option<TimeToLiveSpecification>| s.as_ref().and_then(|s| s.enabled).unwrap_or(false);
    if !enabled(wanted) {
        return !enabled(actual);
    }
    enabled(actual)
        && wanted.as_ref().and_then(|s| s.attribute_name.as_ref())
            == actual.as_ref().and_then(|s| s.attribute_name.as_ref())
}

fn same_pitr(
    wanted: &Option<PointInTimeRecoverySpecification>,
    actual: &Option<PointInTimeRecoverySpecification>,
) -> bool {
    let (Some(w), Some(a)) = (wanted, actual) else {
        return wanted.is_none();
    };
    w.point_in_time_recovery_enabled.unwrap_or(false)
        == a.point_in_time_recovery_enabled.unwrap_or(false)
        && (w.recovery_period_in_days.is_none()
            || w.recovery_period_in_days == a.recovery_period_in_days)
}

/// One index change UpdateTable can make.
#[derive(Debug, PartialEq)]
enum GsiChange<'a> {
    Delete(&'a str),
    Create(&'a GlobalSecondaryIndex),
    Update(&'a GlobalSecondaryIndex),
}

/// The first index change that brings AWS's indexes to the spec's: deletions first (a changed
/// key schema or projection is a deletion, then a creation), then creations, then throughput.
fn gsi_change<'a>(desired: &'a Table, latest: &'a Table) -> Option<GsiChange<'a>> {
    let wanted = desired
        .spec
        .global_secondary_indexes
        .as_deref()
        .unwrap_or_default();
    let actual = latest
        .spec
        .global_secondary_indexes
        .as_deref()
        .unwrap_or_default();
    let find = |list: &'a [GlobalSecondaryIndex], name: &str| {
        list.iter().find(|g| g.index_name.as_deref() == Some(name))
    };
    for a in actual {
        let name = a.index_name.as_deref().unwrap_or_default();
        match find(wanted, name) {
            None => return Some(GsiChange::Delete(name)),
            Some(w) if !same_index_shape(w, a) => return Some(GsiChange::Delete(name)),
            Some(_) => {}
        }
    }
    for w in wanted {
        if find(actual, w.index_name.as_deref().unwrap_or_default()).is_none() {
            return Some(GsiChange::Create(w));
        }
    }
    for w in wanted {
        let a = find(actual, w.index_name.as_deref().unwrap_or_default())?;
        let throughput_differs = w.provisioned_throughput.is_some()
            && w.provisioned_throughput != a.provisioned_throughput;
        let on_demand_differs =
            w.on_demand_throughput.is_some() && w.on_demand_throughput != a.on_demand_throughput;
        if throughput_differs || on_demand_differs {
            return Some(GsiChange::Update(w));
        }
    }
    None
}

fn same_index_shape(wanted: &GlobalSecondaryIndex, actual: &GlobalSecondaryIndex) -> bool {
    let projection = |g: &GlobalSecondaryIndex| {
        let p = g.projection.clone().unwrap_or_default();
        let mut attributes = p.non_key_attributes.unwrap_or_default();
        attributes.sort();
        (p.projection_type, attributes)
    };
    wanted.key_schema == actual.key_schema
        && (wanted.projection.is_none() || projection(wanted) == projection(actual))
}

/// UpdateTable takes one kind of change per call: billing (with its capacity), streams,
/// encryption, table class, deletion protection, then one index change at a time (with the
/// attribute definitions a new index needs), then one replica change at a time.
pub fn before_update(desired: &Table, latest: &Table, delta: &Delta) -> Vec<Delta> {
    let groups: [&[&str]; 7] = [
        &[
            "spec.billingMode",
            "spec.provisionedThroughput",
            "spec.onDemandThroughput",
        ],
        &["spec.streamSpecification"],
        &["spec.sseSpecification"],
        &["spec.tableClass"],
        &["spec.deletionProtectionEnabled"],
        &["spec.globalSecondaryIndexes"],
        &["spec.tableReplicas"],
    ];
    let mut calls = Vec::new();
    for group in groups {
        let mut paths: Vec<String> = group
            .iter()
            .filter(|p| delta.contains(p))
            .map(|p| p.to_string())
            .collect();
        if paths.is_empty() {
            continue;
        }
        if paths.iter().any(|p| p == "spec.billingMode") {
            // Capacity goes with the mode it belongs to.
            let provisioned = desired.spec.billing_mode.as_deref() == Some(PROVISIONED);
            paths.retain(|p| {
                p == "spec.billingMode" || provisioned == (p == "spec.provisionedThroughput")
            });
            if provisioned
                && desired.spec.provisioned_throughput.is_some()
                && !paths.iter().any(|p| p == "spec.provisionedThroughput")
            {
                paths.push("spec.provisionedThroughput".into());
            }
        }
        if paths.iter().any(|p| p == "spec.globalSecondaryIndexes") {
            if gsi_change(desired, latest).is_none() {
                continue;
            }
            paths.push("spec.attributeDefinitions".into());
        }
        calls.push(Delta { paths });
    }
    // Whatever no group takes goes last, for `update_input` to refuse.
    let grouped: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let rest: Vec<String> = delta
        .paths
        .iter()
        .filter(|p| !grouped.contains(&p.as_str()) && *p != "spec.attributeDefinitions")
        .cloned()
        .collect();
    if !rest.is_empty() {
        calls.push(Delta { paths: rest });
    }
    calls
}

/// Adds to one UpdateTable call what no generated member carries (one index change) and sends
/// a stream being turned off as `StreamEnabled=false` alone: DynamoDB refuses a view type with
/// it, and a merge patch that turns the stream off leaves the old view type in the spec.
pub fn update_input(
    desired: &Table,
    latest: &Table,
    group: &Delta,
    rest: &Delta,
    input: UpdateTableFluentBuilder,
) -> Result<UpdateTableFluentBuilder, ReconcileError> {
    let stream_off = desired
        .spec
        .stream_specification
        .as_ref()
        .is_some_and(|s| s.stream_enabled != Some(true));
    let input = if group.contains("spec.streamSpecification") && stream_off {
        input.stream_specification(
            sdk::StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .map_err(|e| {
                    ReconcileError::terminal(
                        "InvalidSpec",
                        format!("spec.streamSpecification: {e}"),
                    )
                })?,
        )
    } else {
        input
    };
    if rest.is_empty() {
        return Ok(input);
    }
    if rest.contains("spec.tableReplicas") {
        if !streams_new_and_old_images(desired) {
            return Err(replicas_need_streams());
        }
        if let Some(busy) = replica_in_progress(latest) {
            return Err(ReconcileError::pending(
                "ReplicaUpdating",
                format!("waiting for the replica in {busy} before the next replica change"),
            ));
        }
        return match replica_change(desired, latest) {
            Some(change) => Ok(input.replica_updates(replica_update(&change)?)),
            None => Ok(input),
        };
    }
    if let Some(path) = rest
        .paths
        .iter()
        .find(|p| *p != "spec.globalSecondaryIndexes")
    {
        return Err(ReconcileError::terminal(
            "UnsupportedUpdate",
            format!("{path} cannot be changed by this controller"),
        ));
    }
    // Index creation needs the definitions of its key attributes; deletion and throughput
    // changes send none.
    let Some(change) = gsi_change(desired, latest) else {
        return Ok(input);
    };
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
        ReconcileError::terminal("InvalidSpec", format!("spec.globalSecondaryIndexes: {e}"))
    };
    let action = match change {
        GsiChange::Delete(name) => sdk::GlobalSecondaryIndexUpdate::builder()
            .delete(
                sdk::DeleteGlobalSecondaryIndexAction::builder()
                    .index_name(name)
                    .build()
                    .map_err(invalid)?,
            )
            .build(),
        GsiChange::Create(index) => {
            let index =
                table_convert::to_sdk_global_secondary_index(index, "spec.globalSecondaryIndexes")?;
            sdk::GlobalSecondaryIndexUpdate::builder()
                .create(
                    sdk::CreateGlobalSecondaryIndexAction::builder()
                        .index_name(index.index_name)
                        .set_key_schema(Some(index.key_schema))
                        .set_projection(index.projection)
                        .set_provisioned_throughput(index.provisioned_throughput)
                        .set_on_demand_throughput(index.on_demand_throughput)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
        GsiChange::Update(index) => {
            let index =
                table_convert::to_sdk_global_secondary_index(index, "spec.globalSecondaryIndexes")?;
            sdk::GlobalSecondaryIndexUpdate::builder()
                .update(
                    sdk::UpdateGlobalSecondaryIndexAction::builder()
                        .index_name(index.index_name)
                        .set_provisioned_throughput(index.provisioned_throughput)
                        .set_on_demand_throughput(index.on_demand_throughput)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
    };
    let input = match change {
        GsiChange::Create(_) => input,
        _ => input.set_attribute_definitions(None),
    };
    Ok(input.global_secondary_index_updates(action))
}

/// A table (and each of its indexes) takes changes only once ACTIVE.
pub fn is_synced(latest: &Table) -> bool {
    let Some(status) = latest.status.as_ref() else {
        return false;
    };
    let indexes_active = status
        .global_secondary_indexes_descriptions
        .iter()
        .flatten()
        .all(|d| d.index_status.as_deref().is_none_or(|s| s == "ACTIVE"));
    status.table_status.as_deref() == Some("ACTIVE")
        && indexes_active
        && replica_in_progress(latest).is_none()
}

/// DeleteTable refuses a protected table: protection is turned off first. Replicas go before
/// the table, one per call (as ACK does): DeleteTable would remove only this region's replica
/// and leave the others behind.
pub async fn before_delete(
    client: &aws_sdk_dynamodb::Client,
    latest: &Table,
) -> Result<(), ReconcileError> {
    if latest.spec.deletion_protection_enabled == Some(true) {
        client
            .update_table()
            .table_name(&latest.spec.table_name)
            .deletion_protection_enabled(false)
            .send()
            .await
            .map_err(update_table_error)?;
    }
    let Some(region) = latest
        .spec
        .table_replicas
        .iter()
        .flatten()
        .find_map(|r| r.region_name.clone())
    else {
        return Ok(());
    };
    if let Some(busy) = replica_in_progress(latest) {
        return Err(ReconcileError::pending(
            "ReplicaUpdating",
            format!("waiting for the replica in {busy} before deleting the table"),
        ));
    }
    client
        .update_table()
        .table_name(&latest.spec.table_name)
        .replica_updates(replica_update(&ReplicaChange::Delete(region.clone()))?)
        .send()
        .await
        .map_err(update_table_error)?;
    Err(ReconcileError::pending(
        "ReplicaDeleting",
        format!("removing the replica in {region} before deleting the table"),
    ))
}

/// An UpdateTable error made outside the generated manager, classified as it classifies them.
fn update_table_error(
    e: aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_table::UpdateTableError,
    >,
) -> ReconcileError {
    let code = e.code().map(str::to_string);
    let message = e.message().unwrap_or("UpdateTable failed").to_string();
    let status = e.raw_response().map(|r| r.status().as_u16());
    match code.as_deref() {
        Some(c @ ("ResourceInUseException" | "LimitExceededException")) => {
            ReconcileError::recoverable(c, message)
        }
        c => ReconcileError::from_aws(
            c,
            message,
            status,
            &["ValidationException"],
            &["ResourceNotFoundException"],
        ),
    }
}

/// DescribeTimeToLive's status as the spec's `{enabled, attributeName}`.
pub fn time_to_live_from_aws(
    value: Option<&sdk::TimeToLiveDescription>,
) -> Option<TimeToLiveSpecification> {
    let d = value?;
    let enabled = matches!(
        d.time_to_live_status.as_ref()?.as_str(),
        "ENABLED" | "ENABLING"
    );
    Some(TimeToLiveSpecification {
        attribute_name: d.attribute_name.clone(),
        enabled: Some(enabled),
    })
}

/// DescribeContinuousBackups's point-in-time recovery as the spec's.
pub fn continuous_backups_from_aws(
    value: Option<&sdk::ContinuousBackupsDescription>,
) -> Option<PointInTimeRecoverySpecification> {
    let pitr = value?.point_in_time_recovery_description.as_ref()?;
    Some(PointInTimeRecoverySpecification {
        point_in_time_recovery_enabled: Some(
            pitr.point_in_time_recovery_status.as_ref()?.as_str() == "ENABLED",
        ),
        recovery_period_in_days: pitr.recovery_period_in_days.map(i64::from),
    })
}

/// DescribeContributorInsights's status as the action that leads to it.
pub fn contributor_insights_from_aws(
    value: Option<&sdk::ContributorInsightsStatus>,
) -> Option<String> {
    match value?.as_str() {
        "ENABLED" | "ENABLING" => Some("ENABLE".into()),
        "DISABLED" | "DISABLING" => Some("DISABLE".into()),
        _ => None,
    }
}

/// The action UpdateContributorInsights takes for the spec's value: ACK accepts the action
/// (`ENABLE`) and the status it leads to (`ENABLED`), as its own manifests write the latter.
pub fn contributor_insights_to_aws(value: &str) -> Result<String, ReconcileError> {
    match value {
        "ENABLE" | "ENABLED" => Ok("ENABLE".into()),
        "DISABLE" | "DISABLED" => Ok("DISABLE".into()),
        other => Err(ReconcileError::terminal(
            "InvalidContributorInsights",
            format!("spec.contributorInsights: {other:?} is neither ENABLE(D) nor DISABLE(D)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{KeySchemaElement, Projection};
    use crate::{TableSpec, TableStatus};

    fn replicated(regions: &[(&str, Option<&str>)]) -> Table {
        Table::new(
            "t",
            TableSpec {
                table_replicas: Some(
                    regions
                        .iter()
                        .map(|(r, class)| CreateReplicationGroupMemberAction {
                            region_name: Some(r.to_string()),
                            table_class_override: class.map(str::to_string),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            },
        )
    }

    #[test]
    fn replica_changes_come_one_at_a_time_creations_first() {
        let latest = replicated(&[("eu-west-1", Some("STANDARD")), ("us-east-2", None)]);
        // Same set, settings the spec leaves out are AWS's: nothing to do.
        let same = replicated(&[("eu-west-1", None), ("us-east-2", None)]);
        assert_eq!(replica_change(&same, &latest), None);
        // Not declared: not managed.
        let undeclared = Table::new("t", TableSpec::default());
        assert_eq!(replica_change(&undeclared, &latest), None);
        let wanted = replicated(&[
            ("eu-west-1", Some("STANDARD_INFREQUENT_ACCESS")),
            ("ap-south-1", None),
        ]);
        let Some(ReplicaChange::Create(r)) = replica_change(&wanted, &latest) else {
            panic!("a creation first");
        };
        assert_eq!(r.region_name.as_deref(), Some("ap-south-1"));
        let wanted = replicated(&[("eu-west-1", Some("STANDARD_INFREQUENT_ACCESS"))]);
        assert!(matches!(
            replica_change(&wanted, &latest),
            Some(ReplicaChange::Update(r)) if r.region_name.as_deref() == Some("eu-west-1")
        ));
        let wanted = replicated(&[("eu-west-1", None)]);
        assert_eq!(
            replica_change(&wanted, &latest),
            Some(ReplicaChange::Delete("us-east-2".into()))
        );
        let none = replicated(&[]);
        assert!(matches!(
            replica_change(&none, &latest),
            Some(ReplicaChange::Delete(_))
        ));
    }

    #[test]
    fn contributor_insights_take_the_action_or_the_status_spelling() {
        for (spec, action) in [
            ("ENABLE", "ENABLE"),
            ("ENABLED", "ENABLE"),
            ("DISABLE", "DISABLE"),
            ("DISABLED", "DISABLE"),
        ] {
            assert_eq!(contributor_insights_to_aws(spec).unwrap(), action);
        }
        let err = contributor_insights_to_aws("ON").unwrap_err();
        assert!(
            err.to_string().contains("spec.contributorInsights"),
            "{err}"
        );
    }

    fn key(name: &str) -> Vec<KeySchemaElement> {
        vec![KeySchemaElement {
            attribute_name: Some(name.into()),
            key_type: Some("HASH".into()),
        }]
    }

    fn gsi(name: &str, key_name: &str, read: Option<i64>) -> GlobalSecondaryIndex {
        GlobalSecondaryIndex {
            index_name: Some(name.into()),
            key_schema: Some(key(key_name)),
            projection: Some(Projection {
                projection_type: Some("ALL".into()),
                ..Default::default()
            }),
            provisioned_throughput: read.map(|r| ProvisionedThroughput {
                read_capacity_units: Some(r),
                write_capacity_units: Some(1),
            }),
            ..Default::default()
        }
    }

    fn table(spec: TableSpec) -> Table {
        Table::new("t", spec)
    }

    fn paths(list: &[&str]) -> Delta {
        Delta {
            paths: list.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn one_kind_of_change_per_call_with_capacity_beside_its_mode() {
        let desired = table(TableSpec {
            billing_mode: Some(PROVISIONED.into()),
            provisioned_throughput: Some(ProvisionedThroughput {
                read_capacity_units: Some(5),
                write_capacity_units: Some(5),
            }),
            global_secondary_indexes: Some(vec![gsi("a", "x", None)]),
            ..Default::default()
        });
        let latest = table(TableSpec::default());
        let delta = paths(&[
            "spec.billingMode",
            "spec.deletionProtectionEnabled",
            "spec.streamSpecification",
            "spec.globalSecondaryIndexes",
        ]);
        let calls: Vec<Vec<String>> = before_update(&desired, &latest, &delta)
            .into_iter()
            .map(|d| d.paths)
            .collect();
        assert_eq!(
            calls,
            [
                vec!["spec.billingMode", "spec.provisionedThroughput"],
                vec!["spec.streamSpecification"],
                vec!["spec.deletionProtectionEnabled"],
                vec!["spec.globalSecondaryIndexes", "spec.attributeDefinitions"],
            ]
        );
        // Going on-demand never sends capacity.
        let on_demand = table(TableSpec {
            billing_mode: Some(PAY_PER_REQUEST.into()),
            ..desired.spec.clone()
        });
        let calls = before_update(
            &on_demand,
            &latest,
            &paths(&["spec.billingMode", "spec.provisionedThroughput"]),
        );
        assert_eq!(calls[0].paths, ["spec.billingMode"]);
    }

    #[test]
    fn index_changes_delete_then_create_then_update_one_at_a_time() {
        let latest = table(TableSpec {
            global_secondary_indexes: Some(vec![gsi("gone", "x", None), gsi("kept", "y", Some(1))]),
            ..Default::default()
        });
        let desired = table(TableSpec {
            global_secondary_indexes: Some(vec![gsi("kept", "y", Some(2)), gsi("new", "z", None)]),
            ..Default::default()
        });
        assert_eq!(
            gsi_change(&desired, &latest),
            Some(GsiChange::Delete("gone"))
        );
        let mut after_delete = latest.clone();
        after_delete.spec.global_secondary_indexes = Some(vec![gsi("kept", "y", Some(1))]);
        assert!(matches!(
            gsi_change(&desired, &after_delete),
            Some(GsiChange::Create(g)) if g.index_name.as_deref() == Some("new")
        ));
        after_delete
            .spec
            .global_secondary_indexes
            .as_mut()
            .unwrap()
            .push(gsi("new", "z", None));
        assert!(matches!(
            gsi_change(&desired, &after_delete),
            Some(GsiChange::Update(g)) if g.index_name.as_deref() == Some("kept")
        ));
        // A new key schema for an index is a deletion first.
        let rekeyed = table(TableSpec {
            global_secondary_indexes: Some(vec![gsi("kept", "other", Some(1))]),
            ..Default::default()
        });
        let only_kept = table(TableSpec {
            global_secondary_indexes: Some(vec![gsi("kept", "y", Some(1))]),
            ..Default::default()
        });
        assert_eq!(
            gsi_change(&rekeyed, &only_kept),
            Some(GsiChange::Delete("kept"))
        );
        assert_eq!(gsi_change(&only_kept, &only_kept), None);
    }

    #[test]
    fn reporting_differences_are_no_delta() {
        let desired = table(TableSpec {
            stream_specification: Some(StreamSpecification {
                stream_enabled: Some(false),
                stream_view_type: None,
            }),
            sse_specification: Some(SseSpecification {
                enabled: Some(true),
                ..Default::default()
            }),
            time_to_live: Some(TimeToLiveSpecification {
                attribute_name: Some("ttl".into()),
                enabled: Some(false),
            }),
            global_secondary_indexes: Some(vec![gsi("a", "x", None)]),
            ..Default::default()
        });
        let latest = table(TableSpec {
            sse_specification: Some(SseSpecification {
                enabled: Some(true),
                sse_type: Some("KMS".into()),
                kms_master_key_id: Some("arn:aws:kms:k".into()),
                ..Default::default()
            }),
            time_to_live: Some(TimeToLiveSpecification {
                attribute_name: None,
                enabled: Some(false),
            }),
            // AWS reports capacity for indexes the spec leaves to it.
            global_secondary_indexes: Some(vec![gsi("a", "x", Some(0))]),
            ..Default::default()
        });
        let mut d = paths(&[
            "spec.streamSpecification",
            "spec.sseSpecification",
            "spec.timeToLive",
            "spec.globalSecondaryIndexes",
            "spec.billingMode",
        ]);
        delta(&desired, &latest, &mut d);
        assert_eq!(d.paths, ["spec.billingMode"]);

        let enabled = table(TableSpec {
            time_to_live: Some(TimeToLiveSpecification {
                attribute_name: Some("ttl".into()),
                enabled: Some(true),
            }),
            ..Default::default()
        });
        let mut d = paths(&["spec.timeToLive"]);
        delta(&enabled, &latest, &mut d);
        assert_eq!(d.paths, ["spec.timeToLive"]);
    }

    #[test]
    fn synced_only_when_the_table_and_its_indexes_are_active() {
        let mut t = table(TableSpec::default());
        assert!(!is_synced(&t));
        let status = |table_status: &str, index: Option<&str>| TableStatus {
            table_status: Some(table_status.into()),
            global_secondary_indexes_descriptions: index.map(|s| {
                vec![crate::table::GlobalSecondaryIndexDescription {
                    index_status: Some(s.into()),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        };
        for (table_status, index, synced) in [
            ("ACTIVE", None, true),
            ("ACTIVE", Some("ACTIVE"), true),
            ("CREATING", None, false),
            ("UPDATING", Some("ACTIVE"), false),
            ("ACTIVE", Some("CREATING"), false),
        ] {
            t.status = Some(status(table_status, index));
            assert_eq!(is_synced(&t), synced, "{table_status} {index:?}");
        }
    }

    #[test]
    fn setter_values_from_aws() {
        let ttl = sdk::TimeToLiveDescription::builder()
            .time_to_live_status(sdk::TimeToLiveStatus::Enabled)
            .attribute_name("expires")
            .build();
        assert_eq!(
            time_to_live_from_aws(Some(&ttl)),
            Some(TimeToLiveSpecification {
                attribute_name: Some("expires".into()),
                enabled: Some(true),
            })
        );
        assert_eq!(time_to_live_from_aws(None), None);
        assert_eq!(
            contributor_insights_from_aws(Some(&sdk::ContributorInsightsStatus::Disabling)),
            Some("DISABLE".into())
        );
    }
}
