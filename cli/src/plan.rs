//! `ack-rs plan`: what switching CRs to managed would do in AWS, from the services' generated
//! managers and the runtime's own plan (`ack_runtime::plan`) — the same code the controllers run,
//! reading AWS only.

use ack_runtime::plan::{self, Plan};
use ack_runtime::typed;
use ack_runtime::{DefaultTags, ResourceManager};
use anyhow::{Context, Result, bail};
use kube::api::DynamicObject;
use serde::Serialize;

/// The managers of every kind the tool can plan, with their SDK clients.
pub struct Managers {
    pub bucket: ack_s3::BucketManager,
    pub queue: ack_sqs::QueueManager,
    pub table: ack_dynamodb::TableManager,
}

impl Managers {
    /// Clients from the SDK's usual configuration; S3 uses path-style addressing when a custom
    /// endpoint is set (as the controllers' `--aws-endpoint-url` does with an emulator).
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self {
            bucket: ack_s3::BucketManager::new(aws_sdk_s3::Client::from_conf(s3)),
            queue: ack_sqs::QueueManager::new(aws_sdk_sqs::Client::new(sdk)),
            table: ack_dynamodb::TableManager::new(aws_sdk_dynamodb::Client::new(sdk)),
        }
    }
}

/// One CR's plan.
#[derive(Clone, Debug, Serialize)]
pub struct Planned {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(flatten)]
    pub plan: Plan,
}

/// Whether the tool can plan this kind (`group`, `kind`).
pub fn plannable(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("s3.services.k8s.aws", "Bucket")
            | ("sqs.services.k8s.aws", "Queue")
            | ("dynamodb.services.k8s.aws", "Table")
    )
}

pub async fn plan_object(
    managers: &Managers,
    obj: &DynamicObject,
    defaults: &DefaultTags,
    cluster_id: &str,
) -> Result<Planned> {
    let types = obj
        .types
        .as_ref()
        .context("the object has no apiVersion/kind")?;
    let group = types.api_version.split('/').next().unwrap_or_default();
    let plan = match (group, types.kind.as_str()) {
        ("s3.services.k8s.aws", "Bucket") => {
            one(&managers.bucket, obj, defaults, cluster_id).await?
        }
        ("sqs.services.k8s.aws", "Queue") => {
            one(&managers.queue, obj, defaults, cluster_id).await?
        }
        ("dynamodb.services.k8s.aws", "Table") => {
            one(&managers.table, obj, defaults, cluster_id).await?
        }
        (_, kind) => bail!("ack-rs cannot plan {kind} ({})", types.api_version),
    };
    Ok(Planned {
        kind: types.kind.clone(),
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
        plan,
    })
}

async fn one<M: ResourceManager>(
    manager: &M,
    obj: &DynamicObject,
    defaults: &DefaultTags,
    cluster_id: &str,
) -> Result<Plan> {
    let cr: M::Resource = typed::from_dynamic(obj).context("the CR does not fit its kind")?;
    plan::plan(
        manager,
        &cr,
        defaults,
        env!("CARGO_PKG_VERSION"),
        cluster_id,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The plans for people: one block per CR, one line per change.
pub fn render(plans: &[Planned]) -> String {
    let mut out = String::new();
    for p in plans {
        let header = format!("{} {}/{}", p.kind, p.namespace, p.name);
        match &p.plan {
            Plan::Create => {
                out += &format!("{header}: not in AWS — managing would create it\n");
            }
            Plan::Refused { message, .. } => {
                out += &format!("{header}: refused — {message}\n");
            }
            plan if plan.is_empty() => out += &format!("{header}: no change\n"),
            Plan::Update { fields, tags } => {
                out += &format!("{header}:\n");
                for f in fields {
                    let note = if f.immutable {
                        "   (immutable: managing would stop Terminal)"
                    } else {
                        ""
                    };
                    out += &format!("  ~ {}: {} → {}{note}\n", f.path, f.aws, f.spec);
                }
                if let Some(api) = tags.api {
                    out += &format!("  tags ({api}):\n");
                }
                for (k, v) in &tags.add {
                    out += &format!("    + {k}={v}\n");
                }
                for (k, (old, new)) in &tags.change {
                    out += &format!("    ~ {k}: {old} → {new}\n");
                }
                for k in &tags.remove {
                    out += &format!("    - {k}\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ack_runtime::plan::{FieldChange, TagChanges};
    use serde_json::json;

    #[test]
    fn plans_read_as_changes() {
        let mut tags = TagChanges {
            api: Some("tag and untag calls"),
            ..Default::default()
        };
        tags.add.insert("team".into(), "platform".into());
        tags.change
            .insert("app".into(), ("old".into(), "new".into()));
        tags.remove.push("stale".into());
        let plans = [
            Planned {
                kind: "Queue".into(),
                namespace: "app".into(),
                name: "jobs".into(),
                plan: Plan::Update {
                    fields: vec![FieldChange {
                        path: "spec.delaySeconds".into(),
                        aws: json!("0"),
                        spec: json!("7"),
                        immutable: false,
                    }],
                    tags,
                },
            },
            Planned {
                kind: "Table".into(),
                namespace: "app".into(),
                name: "items".into(),
                plan: Plan::Update {
                    fields: vec![],
                    tags: TagChanges::default(),
                },
            },
        ];
        assert_eq!(
            render(&plans),
            "Queue app/jobs:\n  ~ spec.delaySeconds: \"0\" → \"7\"\n  tags (tag and untag calls):\n    + team=platform\n    ~ app: old → new\n    - stale\nTable app/items: no change\n"
        );
    }
}
