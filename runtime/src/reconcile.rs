//! One reconcile of one CR: read → decide → create / adopt / update / delete, with tags and
//! conditions. The only I/O here is through the [`ResourceManager`]; what must be written back to
//! Kubernetes is returned as a [`Writeback`] so unit tests can drive every path with a fake manager.

use std::collections::BTreeMap;

use kube::Resource;
use serde_json::{Map, Value};

use crate::adopt::{self, AdoptionDecision, Remote};
use crate::annotations::{self, AdoptionFields, AdoptionPolicy, Annotations, DeletionPolicy};
use crate::conditions::{self, Condition, Status};
use crate::deletion::{self, DeletionAction};
use crate::error::ReconcileError;
use crate::flags::FeatureGates;
use crate::manager::{AckResource, Delta, ResourceManager};
use crate::plan;
use crate::references::{self, References};
use crate::requeue::{self, Outcome, RequeueConfig, RequeueDecision};
use crate::status::{self, ResourceMetadata};
use crate::tags::{self, DefaultTags, Tags};

/// Controller-wide settings (from flags).
#[derive(Clone, Debug)]
pub struct Settings {
    pub controller_version: String,
    pub default_tags: DefaultTags,
    pub deletion_policy: DeletionPolicy,
    pub requeue: RequeueConfig,
    pub region: String,
    pub account_id: Option<String>,
    /// `--feature-gates`: whether the adoption and read-only annotations are honoured.
    pub feature_gates: FeatureGates,
    /// `--enable-carm`: a namespace's `services.k8s.aws/owner-account-id` is managed through the
    /// role the account map names (see [`crate::carm`]).
    pub enable_carm: bool,
    /// The controller's own namespace, where the CARM ConfigMaps live.
    pub system_namespace: String,
    /// This cluster's identity in ownership tags (`--cluster-id`, else the `kube-system`
    /// namespace's UID).
    pub cluster_id: String,
}

/// A Kubernetes Event to publish about the CR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventNote {
    pub warning: bool,
    pub reason: &'static str,
    pub note: String,
}

/// What one reconcile asks the caller to write to Kubernetes.
#[derive(Clone, Debug, PartialEq)]
pub enum Writeback {
    /// Add our finalizer, then reconcile again at once: nothing is created or adopted in AWS until
    /// the finalizer is stored, so a crash can never leak an AWS resource.
    AddFinalizer,
    /// Deletion finished (or the resource is retained): remove our finalizer.
    RemoveFinalizer {
        events: Vec<EventNote>,
    },
    Update(Box<Update>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// Store our finalizer (set when adopting).
    pub add_finalizer: bool,
    /// Annotations to set (e.g. `services.k8s.aws/adopted`).
    pub annotations: BTreeMap<String, String>,
    /// The new `spec` (adoption, late initialisation), when it changed.
    pub spec: Option<Value>,
    /// The full new `status`.
    pub status: Map<String, Value>,
    pub events: Vec<EventNote>,
    pub outcome: Outcome,
    pub requeue: RequeueDecision,
}

/// `finalizers.<group>/<Kind>`, as ACK names it.
pub fn finalizer_name<K: Resource<DynamicType = ()>>() -> String {
    format!("finalizers.{}/{}", K::group(&()), K::kind(&()))
}

/// Everything a reconcile needs besides the CR.
pub struct Input<'a> {
    pub settings: &'a Settings,
    pub namespace_annotations: Option<&'a Annotations>,
    /// The region the CR's AWS calls go to (see [`crate::clients`]); the manager serves it.
    pub region: &'a str,
    /// The account the CR's calls act in (an assumed role's, or the controller's own).
    pub owner_account: Option<&'a str>,
    /// Consecutive reconciles of this CR that did not end synced.
    pub attempt: u32,
    /// RFC 3339 time used for condition transitions.
    pub now: &'a str,
    /// This reconcile's first pass read AWS, found nothing and stopped to store the finalizer,
    /// and nothing else changed since (the finalizer write is guarded by the resourceVersion):
    /// that read still stands, so the second pass creates without reading again. A crash after
    /// the finalizer is stored starts over with a read, so nothing can leak.
    pub known_absent: bool,
    /// The CR's references, resolved by the caller before any AWS call.
    pub references: &'a References,
}

pub async fn reconcile<M: ResourceManager>(
    manager: &M,
    cr: &M::Resource,
    input: &Input<'_>,
) -> Writeback {
    let has_finalizer = cr
        .meta()
        .finalizers
        .as_ref()
        .is_some_and(|f| f.contains(&finalizer_name::<M::Resource>()));
    if cr.meta().deletion_timestamp.is_some() {
        if !has_finalizer {
            return Writeback::RemoveFinalizer { events: vec![] };
        }
        return finalize(manager, cr, input).await;
    }
    let mut run = Run::new(manager, cr, input);
    let result = run.sync(has_finalizer).await;
    run.finish(result)
}

async fn finalize<M: ResourceManager>(
    manager: &M,
    cr: &M::Resource,
    input: &Input<'_>,
) -> Writeback {
    // With the ReadOnlyResources gate off, the read-only annotation means nothing (as in ACK).
    let mut resource_annotations = cr.meta().annotations.clone();
    if let Some(a) = resource_annotations
        .as_mut()
        .filter(|_| !input.settings.feature_gates.read_only_resources)
    {
        a.remove(annotations::READ_ONLY);
    }
    let plan = deletion::plan(
        resource_annotations.as_ref(),
        cr.meta().namespace.as_deref().unwrap_or_default(),
        input.namespace_annotations,
        manager.service(),
        input.settings.deletion_policy,
    );
    let run = Run::new(manager, cr, input);
    match plan {
        Err(e) => run.finish(Err(Stop::Failed(e.into()))),
        Ok(DeletionAction::RemoveFinalizerOnly(reason)) => Writeback::RemoveFinalizer {
            events: vec![EventNote {
                warning: false,
                reason: "Retained",
                note: format!("AWS resource left in place ({reason:?})"),
            }],
        },
        Ok(DeletionAction::DeleteInAws) => {
            // A resource another cluster or CR holds is never deleted from here: this CR lets
            // go of it and AWS keeps it.
            let owner = plan::owner_of(cr, &input.settings.cluster_id);
            let deleted = async {
                if let Some(latest) = manager.read_one(cr).await? {
                    let observed = manager.read_tags(&latest).await?;
                    if let Some(value) = tags::foreign_owner(&observed, &owner) {
                        return Ok(Some(value.to_owned()));
                    }
                    manager.delete(&latest).await?;
                }
                Ok::<_, ReconcileError>(None)
            };
            match deleted.await {
                Ok(Some(foreign)) => Writeback::RemoveFinalizer {
                    events: vec![EventNote {
                        warning: true,
                        reason: "Retained",
                        note: format!(
                            "AWS resource left in place: it is owned by {} (tag {}), not by \
                             this CR",
                            tags::describe_owner(&foreign),
                            tags::OWNER_KEY
                        ),
                    }],
                },
                Ok(None) | Err(ReconcileError::NotFound) => Writeback::RemoveFinalizer {
                    events: vec![EventNote {
                        warning: false,
                        reason: "Deleted",
                        note: "AWS resource deleted".into(),
                    }],
                },
                Err(e) => run.finish(Err(Stop::Failed(e))),
            }
        }
    }
}

/// The state of one non-deleting reconcile.
struct Run<'a, M: ResourceManager> {
    manager: &'a M,
    cr: &'a M::Resource,
    input: &'a Input<'a>,
    status: Map<String, Value>,
    conditions: Vec<Condition>,
    annotations: BTreeMap<String, String>,
    spec: Option<Value>,
    add_finalizer: bool,
    events: Vec<EventNote>,
}

/// How a successful sync ended.
enum Synced {
    Yes,
    /// AWS still converging, or drift a read-only resource may only report.
    No {
        reason: &'static str,
        message: String,
    },
}

impl<'a, M: ResourceManager> Run<'a, M> {
    fn new(manager: &'a M, cr: &'a M::Resource, input: &'a Input<'a>) -> Self {
        let status = status::status_object(cr);
        let conditions = status::conditions(&status);
        Self {
            manager,
            cr,
            input,
            status,
            conditions,
            annotations: BTreeMap::new(),
            spec: None,
            add_finalizer: false,
            events: Vec::new(),
        }
    }

    fn annotations(&self) -> Option<&'a Annotations> {
        self.cr.meta().annotations.as_ref()
    }

    async fn sync(&mut self, has_finalizer: bool) -> Result<Synced, Stop> {
        let m = self.manager;
        // Everything the user wrote is checked before the first AWS call.
        // A reference not resolved yet stops the reconcile before any AWS call.
        let resolved = match self.input.references {
            References::None => None,
            References::Unresolved(why) => {
                self.set(
                    Condition::new(conditions::REFERENCES_RESOLVED, Status::False)
                        .with_reason("ReferenceUnresolved")
                        .with_message(why.clone()),
                );
                return Err(ReconcileError::recoverable("ReferenceUnresolved", why.clone()).into());
            }
            References::Resolved(values) => {
                self.set(Condition::new(
                    conditions::REFERENCES_RESOLVED,
                    Status::True,
                ));
                Some(values)
            }
        };
        // ACK's ReadOnlyResources and ResourceAdoption gates turn these annotations off.
        let gates = self.input.settings.feature_gates;
        let read_only = gates.read_only_resources && annotations::read_only(self.annotations())?;
        // A deletion policy nobody can follow is refused now, not when the CR is deleted.
        deletion::plan(
            self.annotations(),
            self.cr.meta().namespace.as_deref().unwrap_or_default(),
            self.input.namespace_annotations,
            m.service(),
            self.input.settings.deletion_policy,
        )
        .map_err(ReconcileError::from)?;
        let policy = if gates.resource_adoption {
            AdoptionPolicy::from_annotations(self.annotations())?
        } else {
            None
        };
        if let Some(tags) = m.spec_tags(self.cr) {
            tags::validate_user_tags(&tags)?;
        }
        let take_over = annotations::take_ownership(self.annotations())?;
        // A read-only CR only observes, so it may point at anything that exists.
        let managed = read_only
            || annotations::is_adopted(self.annotations())
            || (has_finalizer && (policy.is_none() || self.has_arn()));
        let mut desired = match resolved {
            Some(values) => with_references(self.cr, values)?,
            None => self.cr.clone(),
        };
        if let Some(policy) = policy.filter(|_| !managed) {
            match AdoptionFields::from_annotations(self.annotations(), m.adoption_keys())? {
                Some(fields) => {
                    annotations::check_adoption_region(fields.get("region"), self.input.region)?;
                    m.apply_adoption_fields(&mut desired, &fields)?
                }
                // adopt-or-create may name the resource through its spec alone (as ACK's
                // manifests do); plain adopt must say what to adopt.
                None if policy == AdoptionPolicy::AdoptOrCreate => {}
                None => {
                    return Err(Stop::from(ReconcileError::terminal(
                        "InvalidAdoptionFields",
                        format!(
                            "annotation {} is set but {} is missing; it must name {}",
                            annotations::ADOPTION_POLICY,
                            annotations::ADOPTION_FIELDS,
                            m.adoption_keys().join(", ")
                        ),
                    )));
                }
            }
        }

        let latest = if self.input.known_absent {
            None
        } else {
            m.read_one(&desired).await?
        };
        let remote = if latest.is_some() {
            Remote::Found
        } else {
            Remote::NotFound
        };
        let decision = adopt::decide(policy, remote, managed);
        if !has_finalizer && decision == AdoptionDecision::Create && !read_only {
            return Err(Stop::NeedFinalizer);
        }
        // Adopting creates nothing in AWS, so its finalizer is stored with the adoption itself.
        self.add_finalizer = !has_finalizer && !read_only;
        match (decision, latest) {
            (AdoptionDecision::Terminal(message), _) => {
                Err(ReconcileError::terminal("AdoptionRefused", message).into())
            }
            (AdoptionDecision::Create, _) if read_only => Ok(Synced::No {
                reason: "ReadOnly",
                message:
                    "the resource does not exist in AWS and is read-only, so it is not created"
                        .into(),
            }),
            (AdoptionDecision::Create, _) => {
                // Where the create call takes tags, every wanted tag (defaults included) goes
                // with it. A resource this call just made has no tags but those, so none are
                // read back; a tag call follows only where the create call takes none.
                let wanted = self.wanted_tags(&desired, &Tags::new(), Some(&self.owner()));
                let mut to_create = desired.clone();
                let mut sent = Tags::new();
                if m.create_takes_tags() && !wanted.is_empty() {
                    m.set_spec_tags(&mut to_create, wanted.clone());
                    sent = wanted.clone();
                }
                let latest = m.create(&to_create).await?;
                self.event(false, "Created", "AWS resource created");
                if let Some(plan) = tags::plan(m.tag_api_style(), &wanted, &sent) {
                    m.sync_tags(&latest, &plan).await?;
                }
                // Late-initialised from what create returned: the spec write goes with this
                // reconcile instead of needing another one (and its reads) later.
                let desired = self.late_initialize(desired, &latest);
                self.record(&latest);
                // Some fields no create call takes (DynamoDB replicas go in after the table
                // exists): what the create did not apply is still to do, so never Synced yet.
                let remaining = m.delta(&desired, &latest);
                if !remaining.is_empty() {
                    return Ok(Synced::No {
                        reason: "Pending",
                        message: format!(
                            "created; {} still to be applied",
                            remaining.paths.join(", ")
                        ),
                    });
                }
                Ok(self.converging(&latest))
            }
            (AdoptionDecision::Adopt, Some(latest)) => {
                let observed = m.read_tags(&latest).await?;
                // Adopting changes nothing in AWS but the ownership stamp; a resource held
                // elsewhere is refused before it. A kind AWS keeps no tags on has no stamp.
                if !read_only && m.has_tags() {
                    let owner = self.owner();
                    tags::check_owner(&observed, &owner, take_over)?;
                    let mut stamped = observed.clone();
                    stamped.extend([owner.tag()]);
                    if let Some(plan) = tags::plan(m.tag_api_style(), &stamped, &observed) {
                        m.sync_tags(&latest, &plan).await?;
                    }
                }
                let mut adopted = latest.clone();
                let keys = self.input.settings.default_tags.keys();
                if observed.is_empty() {
                    m.clear_spec_tags(&mut adopted);
                } else {
                    m.set_spec_tags(&mut adopted, tags::user_visible_tags(&observed, &keys));
                }
                self.spec = Some(status::spec_value(&adopted));
                self.mark_adopted();
                self.record(&latest);
                Ok(self.converging(&latest))
            }
            (AdoptionDecision::AdoptThenDrive, Some(latest)) => {
                let synced = self.manage(desired, latest, read_only, take_over).await?;
                self.mark_adopted();
                Ok(synced)
            }
            (AdoptionDecision::Manage, Some(latest)) => {
                self.manage(desired, latest, read_only, take_over).await
            }
            (AdoptionDecision::Adopt | AdoptionDecision::AdoptThenDrive, None)
            | (AdoptionDecision::Manage, None) => {
                unreachable!("adopt::decide only adopts or manages what it found")
            }
        }
    }

    async fn manage(
        &mut self,
        desired: M::Resource,
        latest: M::Resource,
        read_only: bool,
        take_over: bool,
    ) -> Result<Synced, Stop> {
        let m = self.manager;
        let desired = self.late_initialize(desired, &latest);
        let delta = m.delta(&desired, &latest);
        if let Some(path) = m.immutable_fields().iter().find(|p| delta.contains(p)) {
            return Err(ReconcileError::terminal(
                "ImmutableFieldChanged",
                format!(
                    "{path} cannot be changed after the resource is created; set it back to the \
                     value AWS has, or create a new resource"
                ),
            )
            .into());
        }
        let tag_plan = self
            .tag_plan(&desired, &latest, read_only, take_over)
            .await?;
        if read_only {
            self.record(&latest);
            return Ok(drift_report(&delta, tag_plan.is_some()));
        }
        if delta.is_empty() {
            if let Some(plan) = tag_plan {
                m.sync_tags(&latest, &plan).await?;
            }
            self.record(&latest);
            return Ok(self.converging(&latest));
        }
        let updated = m.update(&desired, &latest, &delta).await?;
        self.event(
            false,
            "Updated",
            &format!("updated in AWS: {}", delta.paths.join(", ")),
        );
        if let Some(plan) = tag_plan {
            m.sync_tags(&updated, &plan).await?;
        }
        // What an update returns is what the manager sent or what AWS answered at once, not
        // what AWS has applied: read again and stay unsynced (requeued soon) while anything
        // still differs, so an update that took only part of the change is never reported
        // done. The spec says what to read; the status is the one the manager just recorded.
        let Some(latest) = m
            .read_one(&status::with_status_of(&desired, &updated))
            .await?
        else {
            return Err(ReconcileError::NotFound.into());
        };
        self.record(&latest);
        let remaining = m.delta(&desired, &latest);
        if !remaining.is_empty() {
            return Ok(Synced::No {
                reason: "Pending",
                message: format!(
                    "AWS has not applied the change to {} yet",
                    remaining.paths.join(", ")
                ),
            });
        }
        Ok(self.converging(&latest))
    }

    /// Fills the spec fields the user left unset from `latest`; the spec is written back when
    /// anything changed.
    fn late_initialize(&mut self, mut desired: M::Resource, latest: &M::Resource) -> M::Resource {
        if self.manager.late_initialize(&mut desired, latest) {
            self.spec = Some(status::spec_value(&desired));
            self.set(Condition::new(conditions::LATE_INITIALIZED, Status::True));
        }
        desired
    }

    /// The tag change that brings AWS to the CR's tags plus default tags and the ownership
    /// stamp, system tags preserved. A resource another cluster or CR holds stops here, before
    /// any change: Terminal, unless the CR takes it over. A read-only CR neither stamps nor
    /// checks: it only observes.
    async fn tag_plan(
        &self,
        desired: &M::Resource,
        latest: &M::Resource,
        read_only: bool,
        take_over: bool,
    ) -> Result<Option<tags::TagPlan>, ReconcileError> {
        let m = self.manager;
        let observed = m.read_tags(latest).await?;
        let owner = (!read_only).then(|| self.owner());
        if let Some(owner) = &owner {
            tags::check_owner(&observed, owner, take_over)?;
        }
        let wanted = self.wanted_tags(desired, &observed, owner.as_ref());
        Ok(tags::plan(m.tag_api_style(), &wanted, &observed))
    }

    /// The CR's tags plus the default tags plus `owner`'s stamp; a spec that declares no tags
    /// keeps the user tags AWS has (`observed`).
    fn wanted_tags(
        &self,
        desired: &M::Resource,
        observed: &Tags,
        owner: Option<&tags::Owner>,
    ) -> Tags {
        let settings = self.input.settings;
        plan::wanted_tags(
            self.manager,
            desired,
            observed,
            &settings.default_tags,
            &settings.controller_version,
            owner,
        )
    }

    /// This CR's ownership stamp.
    fn owner(&self) -> tags::Owner {
        plan::owner_of(self.cr, &self.input.settings.cluster_id)
    }

    fn converging(&self, latest: &M::Resource) -> Synced {
        if self.manager.is_synced(latest) {
            Synced::Yes
        } else {
            Synced::No {
                reason: "Pending",
                message: "AWS is still applying the change".into(),
            }
        }
    }

    fn mark_adopted(&mut self) {
        self.annotations.insert(
            annotations::ADOPTED.into(),
            annotations::ADOPTED_TRUE.into(),
        );
        self.event(false, "Adopted", "existing AWS resource adopted");
    }

    /// Keeps the status the manager read from AWS, plus the shared metadata.
    fn record(&mut self, latest: &M::Resource) {
        let mut status = status::status_object(latest);
        let arn = self.manager.arn(latest);
        let metadata = ResourceMetadata {
            owner_account_id: arn
                .as_deref()
                .and_then(status::account_from_arn)
                .or_else(|| self.input.owner_account.map(str::to_string))
                .or_else(|| self.input.settings.account_id.clone()),
            arn,
            region: Some(self.input.region.to_string()),
        };
        status::set_metadata(&mut status, &metadata);
        self.status = status;
    }

    fn has_arn(&self) -> bool {
        status::metadata(&self.status).arn.is_some()
    }

    fn event(&mut self, warning: bool, reason: &'static str, note: &str) {
        self.events.push(EventNote {
            warning,
            reason,
            note: note.to_string(),
        });
    }

    fn set(&mut self, condition: Condition) {
        conditions::set_condition(&mut self.conditions, condition, self.input.now);
    }

    fn finish(mut self, result: Result<Synced, Stop>) -> Writeback {
        let result = match result {
            Err(Stop::NeedFinalizer) => return Writeback::AddFinalizer,
            Err(Stop::Failed(e)) => Err(e),
            Ok(synced) => Ok(synced),
        };
        // Waiting for AWS is progress, however the wait was reported.
        let result = match result {
            Err(ReconcileError::Pending { code, message }) => Ok(Synced::No {
                reason: "Pending",
                message: format!("{code}: {message}"),
            }),
            other => other,
        };
        let outcome = match &result {
            Ok(Synced::Yes) => Outcome::Synced,
            Ok(Synced::No { .. }) => Outcome::NotSynced,
            Err(e) => Outcome::from(e),
        };
        let (synced, terminal, recoverable) = match result {
            Ok(Synced::Yes) => (
                Condition::new(conditions::RESOURCE_SYNCED, Status::True),
                None,
                None,
            ),
            Ok(Synced::No { reason, message }) => (
                Condition::new(conditions::RESOURCE_SYNCED, Status::False)
                    .with_reason(reason)
                    .with_message(message),
                None,
                None,
            ),
            Err(e) => {
                let code = e.code().unwrap_or("NotFound").to_string();
                let message = match &e {
                    ReconcileError::Terminal { message, .. }
                    | ReconcileError::Recoverable { message, .. }
                    | ReconcileError::Pending { message, .. } => message.clone(),
                    ReconcileError::NotFound => "resource not found in AWS".into(),
                };
                let failed = Condition::new(conditions::RESOURCE_SYNCED, Status::False)
                    .with_reason(code.clone())
                    .with_message(message.clone());
                let cause = Condition::new("", Status::True)
                    .with_reason(code)
                    .with_message(message);
                if e.is_terminal() {
                    self.event(true, "Terminal", &e.to_string());
                    (failed, Some(cause), None)
                } else {
                    (failed, None, Some(cause))
                }
            }
        };
        self.set(synced);
        for (type_, cause) in [
            (conditions::TERMINAL, terminal),
            (conditions::RECOVERABLE, recoverable),
        ] {
            match cause {
                Some(c) => self.set(Condition {
                    type_: type_.into(),
                    ..c
                }),
                None => {
                    conditions::remove_condition(&mut self.conditions, type_);
                }
            }
        }
        let ready = conditions::derive_ready(&self.conditions);
        self.set(ready);
        status::set_conditions(&mut self.status, &self.conditions);
        let requeue = requeue::decide(
            outcome,
            self.input.attempt,
            &M::Resource::kind(&()),
            &self.input.settings.requeue,
        );
        // A resolved reference is used, never stored in the spec (as in ACK).
        if let (Some(spec), References::Resolved(values)) = (&mut self.spec, self.input.references)
        {
            let original = status::spec_value(self.cr);
            references::restore(spec, &original, values);
        }
        Writeback::Update(Box::new(Update {
            add_finalizer: self.add_finalizer,
            annotations: self.annotations,
            spec: self.spec,
            status: self.status,
            events: self.events,
            outcome,
            requeue,
        }))
    }
}

/// `cr` with its resolved reference values in their spec fields.
fn with_references<K: AckResource>(
    cr: &K,
    values: &[(&'static str, String)],
) -> Result<K, ReconcileError> {
    let mut value = serde_json::to_value(cr).map_err(|e| {
        ReconcileError::terminal("InvalidSpec", format!("the resource cannot be read: {e}"))
    })?;
    references::apply(&mut value["spec"], values);
    serde_json::from_value(value).map_err(|e| {
        ReconcileError::terminal(
            "InvalidReference",
            format!("a referenced value does not fit the field: {e}"),
        )
    })
}

/// Why a sync stopped before its end.
enum Stop {
    /// The finalizer must be stored before AWS is touched.
    NeedFinalizer,
    Failed(ReconcileError),
}

impl From<ReconcileError> for Stop {
    fn from(e: ReconcileError) -> Self {
        Stop::Failed(e)
    }
}

impl From<annotations::AnnotationError> for Stop {
    fn from(e: annotations::AnnotationError) -> Self {
        Stop::Failed(e.into())
    }
}

impl From<tags::ForeignOwner> for Stop {
    fn from(e: tags::ForeignOwner) -> Self {
        Stop::Failed(e.into())
    }
}

impl From<tags::TagError> for Stop {
    fn from(e: tags::TagError) -> Self {
        Stop::Failed(e.into())
    }
}

fn drift_report(delta: &Delta, tags_drift: bool) -> Synced {
    let mut fields = delta.paths.clone();
    if tags_drift {
        fields.push("tags".into());
    }
    if fields.is_empty() {
        Synced::Yes
    } else {
        Synced::No {
            reason: "ReadOnlyDrift",
            message: format!(
                "read-only: AWS differs from the spec in {}; nothing was changed",
                fields.join(", ")
            ),
        }
    }
}
