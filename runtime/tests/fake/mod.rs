//! A fake service for driving the reconciler: an in-memory "AWS" with a call log, and a CR kind
//! shaped like ACK's (name, a mutable setting, an immutable one, tags).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use ack_runtime::annotations::AdoptionFields;
use ack_runtime::flags::FeatureGates;
use ack_runtime::manager::{Delta, ResourceManager};
use ack_runtime::reconcile::{Input, Settings, Writeback, finalizer_name, reconcile};
use ack_runtime::references::References;
use ack_runtime::requeue::RequeueConfig;
use ack_runtime::tags::{DefaultTags, TagApiStyle, TagPlan, Tags};
use ack_runtime::{DeletionPolicy, ReconcileError};
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(CustomResource, Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[kube(
    group = "fake.services.k8s.aws",
    version = "v1alpha1",
    kind = "Thing",
    namespaced,
    status = "ThingStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct ThingSpec {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ThingStatus {
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// What the fake AWS holds for one resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Remote {
    pub size: i64,
    pub zone: String,
    pub tags: Tags,
}

#[derive(Default)]
pub struct FakeAws {
    pub resources: BTreeMap<String, Remote>,
    pub calls: Vec<String>,
    /// Fail the next call of this operation with this error.
    pub fail: Option<(&'static str, ReconcileError)>,
}

pub struct FakeManager {
    pub aws: Mutex<FakeAws>,
    pub style: TagApiStyle,
    /// `is_synced` answers this (false models a resource still being created).
    pub ready: bool,
    /// The create call takes the spec's tags (like CreateQueue and CreateTable).
    pub tags_with_create: bool,
    /// AWS accepts updates but applies none of them (yet): a change that takes several calls or
    /// reconciles, or one AWS silently ignores.
    pub updates_lag: std::sync::atomic::AtomicBool,
}

impl FakeManager {
    pub fn new(style: TagApiStyle) -> Self {
        Self {
            aws: Mutex::default(),
            style,
            ready: true,
            tags_with_create: false,
            updates_lag: Default::default(),
        }
    }

    pub fn with_remote(self, name: &str, remote: Remote) -> Self {
        self.aws
            .lock()
            .unwrap()
            .resources
            .insert(name.into(), remote);
        self
    }

    pub fn remote(&self, name: &str) -> Option<Remote> {
        self.aws.lock().unwrap().resources.get(name).cloned()
    }

    pub fn calls(&self) -> Vec<String> {
        self.aws.lock().unwrap().calls.clone()
    }

    /// Calls that change AWS.
    pub fn mutations(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.starts_with("read"))
            .collect()
    }

    fn call(&self, op: &'static str) -> Result<std::sync::MutexGuard<'_, FakeAws>, ReconcileError> {
        let mut aws = self.aws.lock().unwrap();
        aws.calls.push(op.to_string());
        if aws.fail.as_ref().is_some_and(|(o, _)| *o == op) {
            return Err(aws.fail.take().unwrap().1);
        }
        Ok(aws)
    }
}

fn arn(name: &str) -> String {
    format!("arn:aws:fake:us-west-2:123456789012:{name}")
}

impl ResourceManager for FakeManager {
    type Resource = Thing;

    fn service(&self) -> &'static str {
        "fake"
    }

    fn adoption_keys(&self) -> &'static [&'static str] {
        &["name"]
    }

    fn apply_adoption_fields(
        &self,
        resource: &mut Thing,
        fields: &AdoptionFields,
    ) -> Result<(), ReconcileError> {
        resource.spec.name = fields.get("name").unwrap_or_default().to_string();
        Ok(())
    }

    async fn read_one(&self, desired: &Thing) -> Result<Option<Thing>, ReconcileError> {
        let aws = self.call("read_one")?;
        Ok(aws.resources.get(&desired.spec.name).map(|r| {
            let mut latest = desired.clone();
            latest.spec.size = Some(r.size);
            latest.spec.zone = Some(r.zone.clone());
            let mut status = ThingStatus::default();
            status.fields.insert(
                "ackResourceMetadata".into(),
                serde_json::json!({ "arn": arn(&desired.spec.name) }),
            );
            latest.status = Some(status);
            latest
        }))
    }

    async fn create(&self, desired: &Thing) -> Result<Thing, ReconcileError> {
        {
            let mut aws = self.call("create")?;
            let remote = Remote {
                size: desired.spec.size.unwrap_or(1),
                zone: desired.spec.zone.clone().unwrap_or_else(|| "a".into()),
                tags: match self.tags_with_create {
                    true => desired.spec.tags.clone().unwrap_or_default(),
                    false => Tags::new(),
                },
            };
            aws.resources.insert(desired.spec.name.clone(), remote);
        }
        Ok(self.read_one(desired).await?.expect("just created"))
    }

    async fn update(
        &self,
        desired: &Thing,
        latest: &Thing,
        delta: &Delta,
    ) -> Result<Thing, ReconcileError> {
        let lag = self.updates_lag.load(std::sync::atomic::Ordering::SeqCst);
        let mut aws = self.call("update")?;
        let remote = aws.resources.get_mut(&desired.spec.name).expect("exists");
        let mut updated = latest.clone();
        if delta.contains("spec.size") {
            if !lag {
                remote.size = desired.spec.size.unwrap_or(1);
            }
            // Like the generated managers: the answer is what was sent, not a fresh read.
            updated.spec.size = desired.spec.size;
        }
        Ok(updated)
    }

    async fn delete(&self, latest: &Thing) -> Result<(), ReconcileError> {
        let mut aws = self.call("delete")?;
        aws.resources.remove(&latest.spec.name);
        Ok(())
    }

    fn delta(&self, desired: &Thing, latest: &Thing) -> Delta {
        let mut paths = Vec::new();
        if desired.spec.size.is_some() && desired.spec.size != latest.spec.size {
            paths.push("spec.size".to_string());
        }
        if desired.spec.zone.is_some() && desired.spec.zone != latest.spec.zone {
            paths.push("spec.zone".to_string());
        }
        Delta { paths }
    }

    fn immutable_fields(&self) -> &'static [&'static str] {
        &["spec.zone"]
    }

    fn is_synced(&self, _latest: &Thing) -> bool {
        self.ready
    }

    fn late_initialize(&self, desired: &mut Thing, latest: &Thing) -> bool {
        if desired.spec.zone.is_none() {
            desired.spec.zone = latest.spec.zone.clone();
            return true;
        }
        false
    }

    fn arn(&self, latest: &Thing) -> Option<String> {
        Some(arn(&latest.spec.name))
    }

    fn tag_api_style(&self) -> TagApiStyle {
        self.style
    }

    fn create_takes_tags(&self) -> bool {
        self.tags_with_create
    }

    fn spec_tags(&self, resource: &Thing) -> Option<Tags> {
        resource.spec.tags.clone()
    }

    fn set_spec_tags(&self, resource: &mut Thing, tags: Tags) {
        resource.spec.tags = Some(tags);
    }

    async fn read_tags(&self, latest: &Thing) -> Result<Tags, ReconcileError> {
        let aws = self.call("read_tags")?;
        Ok(aws
            .resources
            .get(&latest.spec.name)
            .map(|r| r.tags.clone())
            .unwrap_or_default())
    }

    async fn sync_tags(&self, latest: &Thing, plan: &TagPlan) -> Result<(), ReconcileError> {
        let mut aws = self.call("sync_tags")?;
        let remote = aws.resources.get_mut(&latest.spec.name).expect("exists");
        match plan {
            TagPlan::Replace(all) => {
                // Like S3: a full replacement must carry every system tag unchanged.
                for (k, v) in remote.tags.iter().filter(|(k, _)| k.starts_with("aws:")) {
                    assert_eq!(all.get(k), Some(v), "system tag {k} dropped or changed");
                }
                remote.tags = all.clone();
            }
            TagPlan::AddRemove(p) => {
                for k in &p.to_remove {
                    assert!(!k.starts_with("aws:"), "untagging system tag {k}");
                    remote.tags.remove(k);
                }
                for (k, v) in &p.to_set {
                    assert!(!k.starts_with("aws:"), "tagging system key {k}");
                    remote.tags.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }
}

pub fn settings() -> Settings {
    Settings {
        controller_version: "v0.1.0".into(),
        default_tags: DefaultTags::default(),
        deletion_policy: DeletionPolicy::Delete,
        requeue: RequeueConfig::default(),
        region: "us-west-2".into(),
        account_id: None,
        feature_gates: FeatureGates::default(),
        enable_carm: true,
        system_namespace: "ack-system".into(),
        cluster_id: "test-cluster".into(),
    }
}

pub fn thing(name: &str) -> Thing {
    let mut t = Thing::new(
        "t",
        ThingSpec {
            name: name.into(),
            ..Default::default()
        },
    );
    t.metadata.namespace = Some("ns".into());
    t
}

pub fn with_finalizer(mut t: Thing) -> Thing {
    t.metadata.finalizers = Some(vec![finalizer_name::<Thing>()]);
    t
}

pub fn annotate(mut t: Thing, key: &str, value: &str) -> Thing {
    t.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(key.into(), value.into());
    t
}

pub async fn run(m: &FakeManager, cr: &Thing) -> Writeback {
    run_with(m, cr, &settings(), None).await
}

pub async fn run_with(
    m: &FakeManager,
    cr: &Thing,
    settings: &Settings,
    namespace_annotations: Option<&BTreeMap<String, String>>,
) -> Writeback {
    let input = Input {
        settings,
        namespace_annotations,
        region: &settings.region,
        owner_account: None,
        attempt: 0,
        now: "2026-11-26T00:00:00Z",
        known_absent: false,
        references: &References::None,
    };
    reconcile(m, cr, &input).await
}

/// A reconcile whose references the controller resolved (or could not) as `references` says.
pub async fn run_with_references(
    m: &FakeManager,
    cr: &Thing,
    references: &References,
) -> Writeback {
    let settings = settings();
    let input = Input {
        settings: &settings,
        namespace_annotations: None,
        region: &settings.region,
        attempt: 0,
        now: "2026-11-26T00:00:00Z",
        known_absent: false,
        owner_account: None,
        references,
    };
    reconcile(m, cr, &input).await
}

/// The second pass of a reconcile whose first pass found nothing and stored the finalizer.
pub async fn run_known_absent(m: &FakeManager, cr: &Thing) -> Writeback {
    let settings = settings();
    let input = Input {
        settings: &settings,
        namespace_annotations: None,
        region: &settings.region,
        owner_account: None,
        attempt: 0,
        now: "2026-11-26T00:00:00Z",
        known_absent: true,
        references: &References::None,
    };
    reconcile(m, cr, &input).await
}

/// Applies a write-back to the CR the way the controller would (for multi-step scenarios).
pub fn apply(cr: &Thing, wb: &Writeback) -> Thing {
    let mut next = cr.clone();
    match wb {
        Writeback::AddFinalizer => next = with_finalizer(next),
        Writeback::RemoveFinalizer { .. } => next.metadata.finalizers = None,
        Writeback::Update(u) => {
            if u.add_finalizer {
                next = with_finalizer(next);
            }
            for (k, v) in &u.annotations {
                next = annotate(next, k, v);
            }
            if let Some(spec) = &u.spec {
                next.spec = serde_json::from_value(spec.clone()).unwrap();
            }
            next.status = Some(ThingStatus {
                fields: u.status.clone(),
            });
        }
    }
    next
}

/// `(status, reason, message)` of a condition in a write-back's status.
pub fn condition(wb: &Writeback, type_: &str) -> Option<(String, String, String)> {
    let Writeback::Update(u) = wb else {
        return None;
    };
    u.status["conditions"].as_array()?.iter().find_map(|c| {
        (c["type"] == type_).then(|| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
    })
}

pub fn update(wb: &Writeback) -> &ack_runtime::reconcile::Update {
    match wb {
        Writeback::Update(u) => u,
        other => panic!("expected an update, got {other:?}"),
    }
}

pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
