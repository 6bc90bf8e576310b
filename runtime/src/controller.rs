//! The kube-runtime `Controller` around [`reconcile`](crate::reconcile): watching, predicates,
//! concurrency, and applying a [`Writeback`] to Kubernetes.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
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
use tracing::{info, warn};

use crate::manager::ResourceManager;
use crate::metrics::Metrics;
use crate::reconcile::{self, EventNote, Input, Settings, Update, Writeback};
use crate::requeue::{self, Outcome};

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
    /// Only this namespace; all namespaces when `None`.
    pub watch_namespace: Option<String>,
    /// At most this many reconciles at once (0: unbounded).
    pub max_concurrent_syncs: u16,
}

struct Context<M> {
    manager: M,
    /// The kind, for the untyped API the controller watches and writes through.
    resource: ApiResource,
    client: Client,
    settings: Settings,
    recorder: Recorder,
    metrics: Metrics,
    /// Consecutive unsynced reconciles per object, for backoff.
    attempts: Mutex<HashMap<String, u32>>,
}

/// Runs the controller for `M`'s kind until the process is asked to stop.
pub async fn run<M: ResourceManager>(
    manager: M,
    client: Client,
    settings: Settings,
    options: Options,
    metrics: Metrics,
) {
    // Watched untyped: one CR that does not fit the Rust type must not stop the watch for all
    // others (see `typed`).
    let resource = ApiResource::erase::<M::Resource>(&());
    let api: Api<DynamicObject> = match &options.watch_namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let writer = reflector::store::Writer::new(resource.clone());
    let reader = writer.as_reader();
    // Generation alone would miss annotation edits (adoption, deletion policy, read-only,
    // refresh-requested-at) — ACK's known trap. Status writes still do not trigger.
    let changes = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::annotations)
                .combine(predicates::finalizers)
                .combine(deletion_requested::<DynamicObject>),
            Default::default(),
        );
    let reporter = Reporter {
        controller: format!("ack-{}-controller", manager.service()),
        instance: std::env::var("POD_NAME").ok(),
    };
    let context = Arc::new(Context {
        resource: resource.clone(),
        recorder: Recorder::new(client.clone(), reporter),
        manager,
        client,
        settings,
        metrics,
        attempts: Mutex::default(),
    });
    Controller::for_stream_with(changes, reader, resource)
        .with_config(controller::Config::default().concurrency(options.max_concurrent_syncs))
        .graceful_shutdown_on(shutdown_signal())
        .run(reconcile_one, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                warn!(error = %e, "reconcile failed");
            }
        })
        .await;
}

fn deletion_requested<K: Resource>(obj: &K) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    obj.meta()
        .deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut hasher);
    Some(hasher.finish())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

fn error_policy<M: ResourceManager>(
    _obj: Arc<DynamicObject>,
    error: &Error,
    _ctx: Arc<Context<M>>,
) -> Action {
    warn!(%error, "kubernetes write failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile_one<M: ResourceManager>(
    obj: Arc<DynamicObject>,
    ctx: Arc<Context<M>>,
) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &namespace, &ctx.resource);
    let mut current: M::Resource = match crate::typed::from_dynamic(&obj) {
        Ok(typed) => typed,
        Err(e) => {
            let mut status = crate::status::status_object(&*obj);
            mark_terminal(
                &mut status,
                "InvalidSpec",
                &format!("the resource does not fit its kind: {e}"),
            );
            write_status(&api, &*obj, &status).await?;
            return Ok(Action::requeue(ctx.settings.requeue.terminal_retry));
        }
    };
    let namespace_annotations = Api::<Namespace>::all(ctx.client.clone())
        .get_opt(&namespace)
        .await?
        .map(|ns| ns.metadata.annotations.unwrap_or_default());
    let started = std::time::Instant::now();
    let key = format!("{namespace}/{}", obj.name_any());
    let attempt = ctx
        .attempts
        .lock()
        .expect("attempts lock")
        .get(&key)
        .copied()
        .unwrap_or(0);
    let now = Timestamp::now().to_string();
    let input = Input {
        settings: &ctx.settings,
        namespace_annotations: namespace_annotations.as_ref(),
        attempt,
        now: &now,
    };
    let finalizer = reconcile::finalizer_name::<M::Resource>();
    // At most two passes: the first may only store the finalizer.
    for _ in 0..2 {
        match reconcile::reconcile(&ctx.manager, &current, &input).await {
            Writeback::AddFinalizer => {
                let mut finalizers = current.finalizers().to_vec();
                finalizers.push(finalizer.clone());
                current = patch_finalizers(&api, &current, finalizers).await?;
            }
            Writeback::RemoveFinalizer { events } => {
                let finalizers = current
                    .finalizers()
                    .iter()
                    .filter(|f| **f != finalizer)
                    .cloned()
                    .collect();
                publish(&ctx, &current, &events).await;
                patch_finalizers(&api, &current, finalizers).await?;
                ctx.attempts.lock().expect("attempts lock").remove(&key);
                return Ok(Action::await_change());
            }
            Writeback::Update(update) => {
                if apply_update(&api, &current, &update).await? == Applied::SpecRejected {
                    return Ok(Action::requeue(ctx.settings.requeue.terminal_retry));
                }
                publish(&ctx, &current, &update.events).await;
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
                info!(name = %current.name_any(), namespace, outcome = ?update.outcome,
                      requeue_after = ?update.requeue.after(), "reconciled");
                // Spread, so resources applied together do not resync or retry together.
                let after = requeue::jitter(update.requeue.after(), fastrand::f64());
                return Ok(Action::requeue(after));
            }
        }
    }
    Ok(Action::requeue(Duration::from_secs(1)))
}

/// Replaces the finalizer list, guarded by the resourceVersion we read (a conflict is retried by
/// the controller with a fresh object).
async fn patch_finalizers<K: crate::AckResource>(
    api: &Api<DynamicObject>,
    obj: &K,
    finalizers: Vec<String>,
) -> Result<K, Error> {
    let patch = json!({
        "metadata": {
            "resourceVersion": obj.resource_version(),
            "finalizers": finalizers,
        }
    });
    let patched = api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(crate::typed::from_dynamic(&patched)?)
}

async fn apply_update<K: crate::AckResource>(
    api: &Api<DynamicObject>,
    obj: &K,
    update: &Update,
) -> Result<Applied, Error> {
    let name = obj.name_any();
    if update.add_finalizer || !update.annotations.is_empty() || update.spec.is_some() {
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
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {}
            // The apiserver refused what we would write (e.g. an adopted value breaks a CRD
            // rule): say so in the status instead of failing silently.
            Err(kube::Error::Api(e)) if e.code == 422 => {
                let mut status = update.status.clone();
                let message = format!(
                    "Kubernetes refused the spec the controller wrote: {}",
                    e.message
                );
                mark_terminal(&mut status, "SpecRejected", &message);
                write_status(api, obj, &status).await?;
                return Ok(Applied::SpecRejected);
            }
            Err(e) => return Err(e.into()),
        }
    }
    write_status(api, obj, &update.status).await?;
    Ok(Applied::Done)
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
    status: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Error> {
    let current = crate::status::status_object(obj);
    if current != *status {
        let patch = json!({ "status": status_merge_patch(&current, status) });
        api.patch_status(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    Ok(())
}

/// Records a Terminal failure found outside [`reconcile`] (writing or reading the CR itself).
fn mark_terminal(
    status: &mut serde_json::Map<String, serde_json::Value>,
    reason: &str,
    message: &str,
) {
    use crate::conditions::{self, Condition, Status};
    let now = Timestamp::now().to_string();
    let mut list = crate::status::conditions(status);
    for (type_, status) in [
        (conditions::TERMINAL, Status::True),
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

async fn publish<M: ResourceManager>(ctx: &Context<M>, obj: &M::Resource, events: &[EventNote]) {
    let reference = obj.object_ref(&());
    for note in events {
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
