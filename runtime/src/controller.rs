//! The kube-runtime `Controller` around [`reconcile`](crate::reconcile): watching, predicates,
//! concurrency, and applying a [`Writeback`] to Kubernetes.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::predicates;
use kube::runtime::reflector;
use kube::runtime::watcher;
use kube::runtime::{Predicate, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::Semaphore;
use tracing::{Instrument, info, info_span, warn};

use crate::carm;
use crate::clients::{self, Managers, Target};
use crate::error::ReconcileError;
use crate::manager::ResourceManager;
use crate::metrics::{self, Metrics, Phase};
use crate::reconcile::{self, EventNote, Input, Settings, Update, Writeback};
use crate::references::{self, References};
use crate::requeue::{self, Outcome, RequeueDecision};

/// Errors talking to Kubernetes (AWS errors end up in conditions, not here).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("reading the object the apiserver returned: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// Where and how fast to reconcile.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only these namespaces; all namespaces when empty.
    pub watch_namespaces: Vec<String>,
    /// Only CRs matching this Kubernetes label selector (`--watch-selectors`); all when `None`.
    pub label_selector: Option<String>,
    /// At most this many reconciles at once, over all watched namespaces (0: unbounded).
    pub max_concurrent_syncs: u16,
}

struct Context<M> {
    /// One manager per (role, region), made on first use.
    managers: Managers<M>,
    /// The service alias (`sqs`, …), for service-level CARM keys.
    service: &'static str,
    /// IAMRoleSelectors, watched while the `IAMRoleSelector` gate is on.
    selectors: Option<reflector::Store<carm::IAMRoleSelector>>,
    /// The kind, for the untyped API the controller watches and writes through.
    resource: ApiResource,
    client: Client,
    settings: Settings,
    recorder: Recorder,
    metrics: Metrics,
    /// Consecutive unsynced reconciles per object, for backoff.
    attempts: Mutex<HashMap<String, u32>>,
    /// Per object, when its next reconcile became due (a watch event or a requeue): the
    /// queue-wait phase is measured from it.
    due: Arc<Mutex<HashMap<String, Instant>>>,
    /// Per object, the fingerprint of the state our last metadata or spec write produces. Its
    /// watch event is not reconciled again: that state was just reconciled (see `fingerprint`).
    own: Arc<Mutex<HashMap<String, u64>>>,
    /// Bounds reconciles across the per-namespace controllers (`None`: unbounded).
    permits: Option<Semaphore>,
}

/// Runs the controller for `M`'s kind until the process is asked to stop. `managers` is one
/// manager (it then serves `settings.region` only) or [`Managers`] that make one per target.
pub async fn run<M: ResourceManager>(
    managers: impl Into<Managers<M>>,
    client: Client,
    settings: Settings,
    options: Options,
    metrics: Metrics,
) {
    let managers = managers.into().with_default_region(&settings.region);
    let service = match managers.get(&Target::own(&settings.region)).await {
        Ok(manager) => manager.service(),
        Err(e) => {
            tracing::error!(error = %e, "no AWS client for the default region; not starting");
            return;
        }
    };
    // Watched untyped: one CR that does not fit the Rust type must not stop the watch for all
    // others (see `typed`).
    let resource = ApiResource::erase::<M::Resource>(&());
    let due: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let own: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let reporter = Reporter {
        controller: format!("ack-{service}-controller"),
        instance: std::env::var("POD_NAME").ok(),
    };
    let permits = (options.max_concurrent_syncs > 0)
        .then(|| Semaphore::new(options.max_concurrent_syncs.into()));
    let selectors = settings.feature_gates.iam_role_selector.then(|| {
        let (reader, writer) = reflector::store();
        let watch = watcher(
            Api::<carm::IAMRoleSelector>::all(client.clone()),
            watcher::Config::default(),
        )
        .default_backoff()
        .reflect(writer)
        .for_each(|_| std::future::ready(()));
        tokio::spawn(watch);
        reader
    });
    if let Some(selectors) = &selectors {
        // A CR must not be reconciled as if no selector existed while they are being listed.
        if selectors.wait_until_ready().await.is_err() {
            tracing::error!("the IAMRoleSelector watch stopped before it listed; not starting");
            return;
        }
    }
    let context = Arc::new(Context {
        selectors,
        resource: resource.clone(),
        recorder: Recorder::new(client.clone(), reporter),
        managers,
        service,
        client: client.clone(),
        settings,
        metrics,
        attempts: Mutex::default(),
        due: due.clone(),
        own: own.clone(),
        permits,
    });
    // One watch per namespace (one reflector store cannot be fed by several watches); the
    // shared permits keep the concurrency limit global, as ACK's is per kind.
    let apis: Vec<Api<DynamicObject>> = if options.watch_namespaces.is_empty() {
        vec![Api::all_with(client.clone(), &resource)]
    } else {
        options
            .watch_namespaces
            .iter()
            .map(|ns| Api::namespaced_with(client.clone(), ns, &resource))
            .collect()
    };
    let mut watch_config = watcher::Config::default();
    if let Some(selector) = &options.label_selector {
        watch_config = watch_config.labels(selector);
    }
    let controllers = apis.into_iter().map(|api| {
        let writer = reflector::store::Writer::new(resource.clone());
        let reader = writer.as_reader();
        let arrived = due.clone();
        let echoes = own.clone();
        // Generation alone would miss annotation edits (adoption, deletion policy, read-only,
        // refresh-requested-at) — ACK's known trap. Status writes still do not trigger.
        let changes = watcher(api, watch_config.clone())
            .default_backoff()
            .modify(slim)
            .reflect(writer)
            .applied_objects()
            .predicate_filter(
                predicates::generation
                    .combine(predicates::annotations)
                    .combine(predicates::finalizers)
                    .combine(deletion_requested::<DynamicObject>),
                Default::default(),
            )
            .try_filter(move |obj| {
                let key = key_of(obj);
                let mut own = echoes.lock().expect("own-writes lock");
                let echo = own.get(&key) == Some(&fingerprint(obj));
                if echo {
                    own.remove(&key);
                }
                std::future::ready(!echo)
            })
            .inspect_ok(move |obj| {
                let now = Instant::now();
                let mut due = arrived.lock().expect("due lock");
                let at = due.entry(key_of(obj)).or_insert(now);
                *at = (*at).min(now);
            });
        Controller::for_stream_with(changes, reader, resource.clone())
            .with_config(controller::Config::default().concurrency(options.max_concurrent_syncs))
            .graceful_shutdown_on(shutdown_signal())
            .run(reconcile_one, error_policy, context.clone())
            .for_each(|result| async move {
                if let Err(e) = result {
                    warn!(error = %e, "reconcile failed");
                }
            })
    });
    futures::future::join_all(controllers).await;
}

/// What the watch cache keeps of each CR: managedFields and kubectl's last-applied copy are
/// most of an object's size and nothing here reads them.
fn slim(obj: &mut DynamicObject) {
    obj.metadata.managed_fields = None;
    if let Some(annotations) = obj.metadata.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// What the watch predicates react to, with the spec itself in place of its generation: an
/// event carrying exactly the state the controller just wrote and reconciled has nothing new
/// to reconcile, whenever it arrives. A user's edit made meanwhile differs from it and passes.
fn fingerprint(obj: &DynamicObject) -> u64 {
    let meta = &obj.metadata;
    let state = (
        obj.data.get("spec"),
        meta.annotations.as_ref().filter(|a| !a.is_empty()),
        meta.finalizers.as_ref().filter(|f| !f.is_empty()),
        meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()),
    );
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(&state)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// `patch` applied to `target` as a JSON merge patch (RFC 7386) applies it.
fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let object = target.as_object_mut().expect("made an object");
    for (key, value) in fields {
        if value.is_null() {
            object.remove(key);
        } else {
            merge(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn key_of(obj: &impl Resource) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

pub(crate) fn deletion_requested<K: Resource>(obj: &K) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    obj.meta()
        .deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut hasher);
    Some(hasher.finish())
}

pub(crate) async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

fn error_policy<M: ResourceManager>(
    obj: Arc<DynamicObject>,
    error: &Error,
    ctx: Arc<Context<M>>,
) -> Action {
    warn!(%error, "kubernetes write failed; retrying");
    let after = Duration::from_secs(5);
    ctx.requeued(&key_of(&*obj), after);
    Action::requeue(after)
}

impl<M: ResourceManager> Context<M> {
    /// Notes when the object's next reconcile is due, for the queue-wait phase.
    fn requeued(&self, key: &str, after: Duration) {
        let at = Instant::now() + after;
        self.due
            .lock()
            .expect("due lock")
            .insert(key.to_string(), at);
    }
}

async fn reconcile_one<M: ResourceManager>(
    obj: Arc<DynamicObject>,
    ctx: Arc<Context<M>>,
) -> Result<Action, Error> {
    // Waiting for a permit counts as queue wait: the object is due meanwhile.
    let _permit = match &ctx.permits {
        Some(permits) => Some(
            permits
                .acquire()
                .await
                .expect("the semaphore is never closed"),
        ),
        None => None,
    };
    let span = info_span!(
        "reconcile",
        kind = %M::Resource::kind(&()),
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
    );
    let kind = M::Resource::kind(&()).to_string();
    let key = key_of(&*obj);
    let due = ctx.due.lock().expect("due lock").remove(&key);
    if let Some(due) = due {
        let waited = Instant::now().saturating_duration_since(due);
        ctx.metrics.record_phase(&kind, Phase::QueueWait, waited);
    }
    let mut writer = Writer {
        metrics: &ctx.metrics,
        kind: &kind,
        took: Duration::ZERO,
        own: &ctx.own,
        key: key.clone(),
        raw: (*obj).clone(),
    };
    let (action, aws) =
        metrics::aws_time(reconcile_inner(obj, &ctx, &mut writer).instrument(span)).await;
    ctx.metrics.record_phase(&kind, Phase::Aws, aws);
    ctx.metrics
        .record_phase(&kind, Phase::KubeWrite, writer.took);
    match &action {
        Ok(Some(after)) => ctx.requeued(&key, *after),
        Ok(None) => {
            ctx.due.lock().expect("due lock").remove(&key);
        }
        Err(_) => {}
    }
    action.map(|after| match after {
        Some(after) => Action::requeue(after),
        None => Action::await_change(),
    })
}

/// One reconcile and its write-backs; the requeue delay (`None`: wait for a change).
async fn reconcile_inner<M: ResourceManager>(
    obj: Arc<DynamicObject>,
    ctx: &Context<M>,
    writer: &mut Writer<'_>,
) -> Result<Option<Duration>, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &namespace, &ctx.resource);
    let mut current: M::Resource = match crate::typed::from_dynamic(&obj) {
        Ok(typed) => typed,
        Err(e) => {
            let mut status = crate::status::status_object(&*obj);
            mark_failed(
                &mut status,
                &ReconcileError::terminal(
                    "InvalidSpec",
                    format!("the resource does not fit its kind: {e}"),
                ),
            );
            writer.status(&api, &*obj, &status).await?;
            return Ok(Some(ctx.settings.requeue.terminal_retry));
        }
    };
    // The namespace's annotations matter to every reconcile (its region, its owner account,
    // its deletion policy); read fresh, so an annotation set just before the CR counts.
    let namespace_meta = Api::<Namespace>::all(ctx.client.clone())
        .get_opt(&namespace)
        .await?
        .map(|ns| ns.metadata);
    let namespace_labels = namespace_meta
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let namespace_annotations = namespace_meta.map(|m| m.annotations.unwrap_or_default());
    let deleting = obj.metadata.deletion_timestamp.is_some();
    let target = target_of(
        ctx,
        &current,
        namespace_annotations.as_ref(),
        &namespace_labels,
        deleting,
    )
    .await?;
    let manager = match target {
        Ok((target, account)) => ctx
            .managers
            .get(&target)
            .await
            .map(|m| (target, account, m)),
        Err(e) => Err(e),
    };
    let (target, owner_account, manager) = match manager {
        Ok(found) => found,
        Err(e) => {
            // Nothing is sent to AWS for a CR whose region or account cannot be served.
            let mut status = crate::status::status_object(&current);
            mark_failed(&mut status, &e);
            writer.status(&api, &current, &status).await?;
            let retry = if e.is_terminal() {
                ctx.settings.requeue.terminal_retry
            } else {
                ctx.settings.requeue.recoverable.base
            };
            return Ok(Some(retry));
        }
    };
    let started = Instant::now();
    let key = key_of(&*obj);
    let attempt = ctx
        .attempts
        .lock()
        .expect("attempts lock")
        .get(&key)
        .copied()
        .unwrap_or(0);
    let now = Timestamp::now().to_string();
    // Read before any AWS call; a CR being deleted needs none.
    let references = if deleting || manager.references().is_empty() {
        References::None
    } else {
        let spec = crate::status::spec_value(&current);
        references::resolve(&ctx.client, &namespace, &spec, manager.references()).await
    };
    let mut input = Input {
        settings: &ctx.settings,
        namespace_annotations: namespace_annotations.as_ref(),
        region: &target.region,
        owner_account: owner_account.as_deref(),
        attempt,
        now: &now,
        known_absent: false,
        references: &references,
    };
    let finalizer = reconcile::finalizer_name::<M::Resource>();
    // At most two passes: the first may only store the finalizer.
    for _ in 0..2 {
        match reconcile::reconcile(&*manager, &current, &input).await {
            Writeback::AddFinalizer => {
                let mut finalizers = current.finalizers().to_vec();
                finalizers.push(finalizer.clone());
                current = writer.finalizers(&api, &current, finalizers).await?;
                // The first pass found nothing in AWS; the guarded write changed nothing else.
                input.known_absent = true;
            }
            Writeback::RemoveFinalizer { events } => {
                let finalizers = current
                    .finalizers()
                    .iter()
                    .filter(|f| **f != finalizer)
                    .cloned()
                    .collect();
                writer.events(ctx, &current, &events).await;
                writer.remove_finalizer(&api, &current, finalizers).await?;
                ctx.attempts.lock().expect("attempts lock").remove(&key);
                return Ok(None);
            }
            Writeback::Update(update) => {
                if writer.update(&api, &current, &update).await? == Applied::SpecRejected {
                    return Ok(Some(ctx.settings.requeue.terminal_retry));
                }
                writer.events(ctx, &current, &update.events).await;
                let mut attempts = ctx.attempts.lock().expect("attempts lock");
                if update.outcome == Outcome::Synced {
                    attempts.remove(&key);
                } else {
                    *attempts.entry(key).or_default() += 1;
                }
                ctx.metrics.record_reconcile(
                    &M::Resource::kind(&()),
                    &format!("{:?}", update.outcome).to_lowercase(),
                    started.elapsed(),
                );
                // Spread, so resources applied together do not resync or retry together.
                let after = requeue::jitter(update.requeue.after(), fastrand::f64());
                if let RequeueDecision::Backoff(_) = update.requeue {
                    ctx.metrics
                        .record_phase(writer.kind, Phase::RequeueWait, after);
                }
                info!(outcome = ?update.outcome, requeue_after = ?after, "reconciled");
                return Ok(Some(after));
            }
        }
    }
    Ok(Some(Duration::from_secs(1)))
}

/// Applies write-backs to Kubernetes, counting each write and the time writes take.
struct Writer<'a> {
    metrics: &'a Metrics,
    kind: &'a str,
    took: Duration,
    own: &'a Mutex<HashMap<String, u64>>,
    key: String,
    /// The CR as the apiserver last gave it (slimmed), for the state a write will produce.
    raw: DynamicObject,
}

impl Writer<'_> {
    async fn timed<T>(&mut self, write: &'static str, f: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.instrument(info_span!("kube_write", write)).await;
        self.took += started.elapsed();
        self.metrics.count_write(self.kind, write);
        out
    }

    /// Notes the state a metadata or spec write is about to produce, so its watch event does
    /// not reconcile again (before the write: the event may arrive before the response).
    fn expect(&self, state: &DynamicObject) {
        let mut own = self.own.lock().expect("own-writes lock");
        own.insert(self.key.clone(), fingerprint(state));
    }

    fn expected_nothing(&self) {
        self.own.lock().expect("own-writes lock").remove(&self.key);
    }

    /// Stores the finalizer list; returns the CR as written.
    async fn finalizers<K: crate::AckResource>(
        &mut self,
        api: &Api<DynamicObject>,
        obj: &K,
        finalizers: Vec<String>,
    ) -> Result<K, Error> {
        let mut expected = self.raw.clone();
        expected.metadata.finalizers = Some(finalizers.clone());
        self.expect(&expected);
        match self
            .timed("finalizer", patch_finalizers(api, obj, finalizers))
            .await
        {
            Ok(mut patched) => {
                slim(&mut patched);
                let typed = crate::typed::from_dynamic(&patched)?;
                self.raw = patched;
                Ok(typed)
            }
            Err(e) => {
                self.expected_nothing();
                Err(e)
            }
        }
    }

    /// Removes our finalizer; the CR is usually gone after it, so no echo is expected.
    async fn remove_finalizer<K: crate::AckResource>(
        &mut self,
        api: &Api<DynamicObject>,
        obj: &K,
        finalizers: Vec<String>,
    ) -> Result<(), Error> {
        self.expected_nothing();
        self.timed("finalizer", patch_finalizers(api, obj, finalizers))
            .await?;
        Ok(())
    }

    async fn status(
        &mut self,
        api: &Api<DynamicObject>,
        obj: &(impl serde::Serialize + Resource),
        status: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Error> {
        let current = crate::status::status_object(obj);
        if current == *status {
            return Ok(());
        }
        self.timed("status", write_status(api, obj, &current, status))
            .await
    }

    async fn update<K: crate::AckResource>(
        &mut self,
        api: &Api<DynamicObject>,
        obj: &K,
        update: &Update,
    ) -> Result<Applied, Error> {
        if update.add_finalizer || !update.annotations.is_empty() || update.spec.is_some() {
            let write = if update.spec.is_some() {
                "spec"
            } else {
                "metadata"
            };
            let mut expected = self.raw.clone();
            let annotations = expected.metadata.annotations.get_or_insert_default();
            annotations.extend(update.annotations.clone());
            if update.add_finalizer {
                let mut finalizers = obj.finalizers().to_vec();
                finalizers.push(reconcile::finalizer_name::<K>());
                expected.metadata.finalizers = Some(finalizers);
            }
            if let Some(spec) = &update.spec {
                let target = expected
                    .data
                    .as_object_mut()
                    .map(|o| o.entry("spec").or_insert(serde_json::Value::Null));
                if let Some(target) = target {
                    merge(target, spec);
                }
            }
            // A plain adoption only records what AWS has; its echo is the reconcile that then
            // drives the resource (default tags), so only other writes are expected.
            if update.annotations.is_empty() {
                self.expect(&expected);
            } else {
                self.expected_nothing();
            }
            let written = self
                .timed(write, patch_metadata_and_spec(api, obj, update))
                .await;
            if written.is_err() {
                self.expected_nothing();
            }
            match written {
                Ok(()) => {}
                // The apiserver refused what we would write (e.g. an adopted value breaks a CRD
                // rule): say so in the status instead of failing silently.
                Err(kube::Error::Api(e)) if e.code == 422 => {
                    let mut status = update.status.clone();
                    let message = format!(
                        "Kubernetes refused the spec the controller wrote: {}",
                        e.message
                    );
                    mark_failed(
                        &mut status,
                        &ReconcileError::terminal("SpecRejected", message),
                    );
                    self.status(api, obj, &status).await?;
                    return Ok(Applied::SpecRejected);
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.status(api, obj, &update.status).await?;
        Ok(Applied::Done)
    }

    async fn events<M: ResourceManager>(
        &mut self,
        ctx: &Context<M>,
        obj: &M::Resource,
        events: &[EventNote],
    ) {
        for note in events {
            self.timed("event", publish(ctx, obj, note)).await;
        }
    }
}

/// Replaces the finalizer list, guarded by the resourceVersion we read (a conflict is retried by
/// the controller with a fresh object).
async fn patch_finalizers<K: crate::AckResource>(
    api: &Api<DynamicObject>,
    obj: &K,
    finalizers: Vec<String>,
) -> Result<DynamicObject, Error> {
    let patch = json!({
        "metadata": {
            "resourceVersion": obj.resource_version(),
            "finalizers": finalizers,
        }
    });
    Ok(api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?)
}

/// One merge patch of annotations, finalizer and spec.
async fn patch_metadata_and_spec<K: crate::AckResource>(
    api: &Api<DynamicObject>,
    obj: &K,
    update: &Update,
) -> Result<(), kube::Error> {
    let mut patch = json!({ "metadata": { "annotations": update.annotations } });
    if update.add_finalizer {
        let mut finalizers = obj.finalizers().to_vec();
        finalizers.push(reconcile::finalizer_name::<K>());
        patch["metadata"]["finalizers"] = json!(finalizers);
        patch["metadata"]["resourceVersion"] = json!(obj.resource_version());
    }
    if let Some(spec) = &update.spec {
        patch["spec"] = spec.clone();
    }
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// How applying a write-back went.
#[derive(PartialEq)]
enum Applied {
    Done,
    /// The spec write was refused; the status says why (Terminal).
    SpecRejected,
}

async fn write_status(
    api: &Api<DynamicObject>,
    obj: &(impl serde::Serialize + Resource),
    current: &serde_json::Map<String, serde_json::Value>,
    status: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Error> {
    let patch = json!({ "status": status_merge_patch(current, status) });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Where `obj`'s AWS calls go, and the account they act in: its region (see [`clients`]) and,
/// for a namespace of another owner account, the role the CARM maps name (see [`carm`]); a
/// deleting CR goes where its resource was recorded, whatever its annotations say now. The
/// outer error is Kubernetes failing; the inner one is the CR's (a condition).
async fn target_of<M: ResourceManager>(
    ctx: &Context<M>,
    obj: &M::Resource,
    namespace_annotations: Option<&crate::annotations::Annotations>,
    namespace_labels: &std::collections::BTreeMap<String, String>,
    deleting: bool,
) -> Result<Result<(Target, Option<String>), ReconcileError>, Error> {
    let (client, settings, service) = (&ctx.client, &ctx.settings, ctx.service);
    let recorded = crate::status::metadata(&crate::status::status_object(obj));
    let region = match recorded.region.clone() {
        Some(recorded) if deleting => Ok(recorded),
        recorded => clients::region_for(
            obj.meta().annotations.as_ref(),
            namespace_annotations,
            &settings.region,
        )
        .and_then(|region| {
            clients::check_region_unchanged(recorded.as_deref(), &region)?;
            Ok(region)
        }),
    };
    let region = match region {
        Ok(region) => region,
        Err(e) => return Ok(Err(e)),
    };
    let rules = carm::Rules {
        enabled: settings.enable_carm,
        gates: settings.feature_gates,
        own_account: settings.account_id.as_deref(),
    };
    let lookup = carm::lookup(
        namespace_annotations,
        recorded.owner_account_id.as_deref(),
        rules,
    );
    // The map is read only for a namespace that needs it, fresh each time (a role added to
    // it counts at the next retry).
    let map = match lookup.map() {
        Some(name) => Api::<ConfigMap>::namespaced(client.clone(), &settings.system_namespace)
            .get_opt(name)
            .await?
            .map(|cm| cm.data.unwrap_or_default()),
        None => None,
    };
    // An IAMRoleSelector that selects the CR wins over the maps (as in ACK).
    let selected = match &ctx.selectors {
        Some(selectors) => {
            let labels = obj.meta().labels.clone().unwrap_or_default();
            let subject = carm::Subject {
                namespace: obj.meta().namespace.as_deref().unwrap_or_default(),
                namespace_labels,
                group: &ctx.resource.group,
                version: &ctx.resource.version,
                kind: &ctx.resource.kind,
                labels: &labels,
            };
            let state = selectors.state();
            match carm::selected_role(state.iter().map(|s| &**s), &subject) {
                Ok(selected) => selected.map(|(_, role)| role),
                Err(e) => return Ok(Err(e)),
            }
        }
        None => None,
    };
    let role = match selected {
        Some(role) => Some(role),
        None => match carm::role_for(
            &lookup,
            map.as_ref(),
            service,
            settings.feature_gates,
            &settings.system_namespace,
        ) {
            Ok(role) => role,
            Err(e) => return Ok(Err(e)),
        },
    };
    let account = role
        .as_ref()
        .map(|r| r.account.clone())
        .or_else(|| settings.account_id.clone());
    if let Err(e) =
        carm::check_account_unchanged(recorded.owner_account_id.as_deref(), account.as_deref())
    {
        return Ok(Err(e));
    }
    let target = Target {
        region,
        role_arn: role.map(|r| r.arn),
    };
    Ok(Ok((target, account)))
}

/// Records a failure found outside [`reconcile`] (reading the CR itself, choosing where its
/// calls go, writing it) as [`reconcile`] would: Terminal or Recoverable, not Synced.
fn mark_failed(status: &mut serde_json::Map<String, serde_json::Value>, error: &ReconcileError) {
    use crate::conditions::{self, Condition, Status};
    let now = Timestamp::now().to_string();
    let mut list = crate::status::conditions(status);
    let (cause, other) = if error.is_terminal() {
        (conditions::TERMINAL, conditions::RECOVERABLE)
    } else {
        (conditions::RECOVERABLE, conditions::TERMINAL)
    };
    let reason = error.code().unwrap_or("NotFound");
    let message = match error {
        ReconcileError::Terminal { message, .. }
        | ReconcileError::Recoverable { message, .. }
        | ReconcileError::Pending { message, .. } => message.as_str(),
        ReconcileError::NotFound => "resource not found in AWS",
    };
    conditions::remove_condition(&mut list, other);
    for (type_, status) in [
        (cause, Status::True),
        (conditions::RESOURCE_SYNCED, Status::False),
    ] {
        let condition = Condition::new(type_, status)
            .with_reason(reason)
            .with_message(message);
        conditions::set_condition(&mut list, condition, &now);
    }
    let ready = conditions::derive_ready(&list);
    conditions::set_condition(&mut list, ready, &now);
    crate::status::set_conditions(status, &list);
}

/// A JSON merge patch turning `current` into `wanted`: fields that disappeared, at any depth of
/// nested objects, are sent as `null` (a merge patch leaves absent fields alone, so they would
/// go stale). Lists are replaced whole, as merge patches do.
fn status_merge_patch(
    current: &serde_json::Map<String, serde_json::Value>,
    wanted: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut patch = wanted.clone();
    for (key, old) in current {
        match (old, wanted.get(key)) {
            (_, None) => {
                patch.insert(key.clone(), serde_json::Value::Null);
            }
            (serde_json::Value::Object(old), Some(serde_json::Value::Object(new))) => {
                patch.insert(
                    key.clone(),
                    serde_json::Value::Object(status_merge_patch(old, new)),
                );
            }
            _ => {}
        }
    }
    patch
}

async fn publish<M: ResourceManager>(ctx: &Context<M>, obj: &M::Resource, note: &EventNote) {
    let reference = obj.object_ref(&());
    {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.to_string(),
            note: Some(note.note.chars().take(1000).collect()),
            action: note.reason.to_string(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &reference).await {
            warn!(error = %e, "publishing event failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::status_merge_patch;
    use serde_json::json;

    #[test]
    fn status_fields_that_disappear_are_removed() {
        let current = json!({"a": 1, "gone": "x", "meta": {"arn": "a", "old": 1}})
            .as_object()
            .unwrap()
            .clone();
        let wanted = json!({"a": 2, "new": true, "meta": {"arn": "b"}})
            .as_object()
            .unwrap()
            .clone();
        let patch = status_merge_patch(&current, &wanted);
        assert_eq!(
            serde_json::Value::Object(patch),
            json!({"a": 2, "new": true, "gone": null, "meta": {"arn": "b", "old": null}})
        );
    }
}
