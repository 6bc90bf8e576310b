//! What managing a CR would change in AWS, found without changing anything: the spec delta the
//! reconciler would apply and the tag changes it would make, from the same manager calls
//! (`read_one`, `late_initialize`, `delta`, `read_tags`) and the same tag rules the reconciler
//! uses. `ack-rs plan` shows it before a user switches an adopted or read-only CR to managed.

use std::collections::BTreeMap;

use kube::Resource;
use serde::Serialize;
use serde_json::Value;

use crate::annotations::{self, AdoptionFields};
use crate::error::ReconcileError;
use crate::manager::ResourceManager;
use crate::tags::{self, DefaultTags, Owner, TagApiStyle, TagContext, Tags};

/// One spec field managing would change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// The delta path, e.g. `spec.delaySeconds`.
    pub path: String,
    /// What AWS has (`null` when unset).
    pub aws: Value,
    /// What the spec says.
    pub spec: Value,
    /// AWS cannot change it: managing would stop Terminal instead.
    pub immutable: bool,
}

/// The tag changes managing would make. Never an `aws:` key.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TagChanges {
    /// How the service writes tags: one replacing call, or tag and untag calls.
    pub api: Option<&'static str>,
    pub add: Tags,
    /// key → (AWS value, new value).
    pub change: BTreeMap<String, (String, String)>,
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.change.is_empty() && self.remove.is_empty()
    }
}

/// What managing the CR would do.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Plan {
    /// The resource does not exist in AWS: managing would create it (or, with
    /// `adoption-policy: adopt`, stop Terminal).
    Create,
    Update {
        fields: Vec<FieldChange>,
        tags: TagChanges,
    },
    /// The resource's ownership tag names another cluster or CR: managing would stop Terminal
    /// and change nothing (unless the CR carries the take-ownership annotation).
    Refused {
        /// The ownership tag's value.
        owner: String,
        message: String,
    },
}

impl Plan {
    /// Whether managing would change nothing in AWS.
    pub fn is_empty(&self) -> bool {
        match self {
            Plan::Create | Plan::Refused { .. } => false,
            Plan::Update { fields, tags } => fields.is_empty() && tags.is_empty(),
        }
    }
}

/// The ownership stamp of `cr` for the cluster `cluster_id`.
pub fn owner_of<R: Resource<DynamicType = ()>>(cr: &R, cluster_id: &str) -> Owner {
    let meta = cr.meta();
    Owner::new(
        cluster_id,
        meta.namespace.as_deref().unwrap_or_default(),
        &R::kind(&()),
        meta.name.as_deref().unwrap_or_default(),
    )
}

/// The tags AWS should end with: the spec's user tags plus the rendered defaults plus the
/// ownership stamp (`owner`, none for a read-only CR); a spec that declares no tags keeps the
/// user tags AWS has.
pub fn wanted_tags<M: ResourceManager>(
    manager: &M,
    desired: &M::Resource,
    observed: &Tags,
    default_tags: &DefaultTags,
    controller_version: &str,
    owner: Option<&Owner>,
) -> Tags {
    if !manager.has_tags() {
        return Tags::new();
    }
    let meta = desired.meta();
    let label = |key: &str| {
        meta.labels
            .as_ref()
            .and_then(|l| l.get(key))
            .map_or("", String::as_str)
    };
    let ctx = TagContext {
        service: manager.service(),
        controller_version,
        namespace: meta.namespace.as_deref().unwrap_or_default(),
        name: meta.name.as_deref().unwrap_or_default(),
        kind: &M::Resource::kind(&()),
        managed_by: label(tags::MANAGED_BY_LABEL),
        kro_version: label(tags::KRO_VERSION_LABEL),
    };
    let defaults = default_tags.render(&ctx);
    let user: Tags = manager.spec_tags(desired).unwrap_or_else(|| {
        observed
            .iter()
            .filter(|(k, _)| !tags::is_system_key(k) && *k != tags::OWNER_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    let mut wanted = tags::desired_tags(&user, &defaults);
    wanted.extend(owner.map(Owner::tag));
    wanted
}

/// Reads AWS (never writes) and says what managing `cr` from the cluster `cluster_id` would
/// change, ownership stamp included. A CR still carrying adoption fields is first pointed at the
/// resource they name, as the reconciler does.
pub async fn plan<M: ResourceManager>(
    manager: &M,
    cr: &M::Resource,
    default_tags: &DefaultTags,
    controller_version: &str,
    cluster_id: &str,
) -> Result<Plan, ReconcileError> {
    let take_over = annotations::take_ownership(cr.meta().annotations.as_ref())?;
    let mut desired = cr.clone();
    if !annotations::is_adopted(cr.meta().annotations.as_ref())
        && let Some(fields) = AdoptionFields::from_annotations(
            cr.meta().annotations.as_ref(),
            manager.adoption_keys(),
        )?
    {
        manager.apply_adoption_fields(&mut desired, &fields)?;
    }
    // Observe as a read-only CR does: a manager then reads every field the spec declares,
    // rather than taking a newly declared one as unset to save the read.
    desired
        .meta_mut()
        .annotations
        .get_or_insert_with(Default::default)
        .insert(annotations::READ_ONLY.into(), "true".into());
    let Some(latest) = manager.read_one(&desired).await? else {
        return Ok(Plan::Create);
    };
    manager.late_initialize(&mut desired, &latest);
    let delta = manager.delta(&desired, &latest);
    let (desired_json, latest_json) = (json(&desired), json(&latest));
    let fields = delta
        .paths
        .iter()
        .map(|path| FieldChange {
            path: path.clone(),
            aws: at(&latest_json, path),
            spec: at(&desired_json, path),
            immutable: manager.immutable_fields().contains(&path.as_str()),
        })
        .collect();
    let observed = manager.read_tags(&latest).await?;
    let owner = owner_of(cr, cluster_id);
    if let Err(refused) = tags::check_owner(&observed, &owner, take_over) {
        return Ok(Plan::Refused {
            message: refused.to_string(),
            owner: refused.value,
        });
    }
    let wanted = wanted_tags(
        manager,
        &desired,
        &observed,
        default_tags,
        controller_version,
        Some(&owner),
    );
    let calls = tags::plan_add_remove(&wanted, &observed);
    let tags = TagChanges {
        api: (!calls.is_empty()).then_some(match manager.tag_api_style() {
            TagApiStyle::FullReplacement => "replace the whole tag set (system tags re-sent)",
            TagApiStyle::AddRemove => "tag and untag calls",
        }),
        add: calls
            .to_set
            .iter()
            .filter(|(k, _)| !observed.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        change: calls
            .to_set
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), (observed.get(k)?.clone(), v.clone()))))
            .collect(),
        remove: calls.to_remove,
    };
    Ok(Plan::Update { fields, tags })
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The value at a dotted delta path (`spec.a.b`), `null` when absent.
fn at(value: &Value, path: &str) -> Value {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_at_delta_paths() {
        let v = json!({"spec": {"a": {"b": 3}, "c": "x"}});
        assert_eq!(at(&v, "spec.a.b"), json!(3));
        assert_eq!(at(&v, "spec.c"), json!("x"));
        assert_eq!(at(&v, "spec.missing"), Value::Null);
    }

    #[test]
    fn an_empty_plan_changes_nothing() {
        let none = Plan::Update {
            fields: vec![],
            tags: TagChanges::default(),
        };
        assert!(none.is_empty());
        assert!(!Plan::Create.is_empty());
        assert!(
            !Plan::Refused {
                owner: "c/ns/Queue/q".into(),
                message: String::new()
            }
            .is_empty()
        );
        let mut tags = TagChanges::default();
        tags.remove.push("team".into());
        assert!(
            !Plan::Update {
                fields: vec![],
                tags
            }
            .is_empty()
        );
    }
}
