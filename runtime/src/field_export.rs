//! ACK's `FieldExport` (group `services.k8s.aws`): copies one field of a resource this
//! controller serves — a queue URL, a table ARN — into a key of a ConfigMap or Secret that an
//! application mounts. One reconciler serves every kind the controller serves; FieldExports whose
//! source belongs to another controller's group are left to that controller, untouched.
//!
//! - The value is written once the source is `ACK.ResourceSynced=True`, and again whenever it
//!   changes: the source kinds are watched and each change is mapped to the FieldExports that
//!   name it.
//! - A missing target is created, in the FieldExport's own namespace only, with an owner
//!   reference to the FieldExport; deleting the FieldExport deletes the targets it created (the
//!   finalizer does it, so no garbage collector is needed) and leaves targets it only wrote a
//!   key into alone.
//! - `spec.from.path` is jq's field syntax as ACK documents it (`.status.queueURL`,
//!   `.spec.tags[0]`, `."a.b"`); strings are copied, numbers and booleans written as text.
//! - Conditions on the FieldExport: `ACK.ResourceSynced`, with `ACK.Terminal` for what only the
//!   user can fix (a path that does not parse, a cross-namespace target with
//!   `--enable-cross-namespace=false`) and `ACK.Recoverable` for what may right itself (the source
//!   missing or not synced yet, the field not there yet, a write Kubernetes refused).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Client, CustomResource, Resource, ResourceExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::conditions::{self, Condition, Status};

/// ACK's finalizer name for FieldExports.
pub const FINALIZER: &str = "finalizers.services.k8s.aws/FieldExport";

/// `spec` of ACK's FieldExport.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "services.k8s.aws",
    version = "v1alpha1",
    kind = "FieldExport",
    namespaced,
    status = "FieldExportStatus",
    schema = "disabled"
)]
pub struct FieldExportSpec {
    #[serde(default)]
    pub from: FieldSelector,
    #[serde(default)]
    pub to: ExportTarget,
}

/// `spec.from`: a resource in the FieldExport's namespace and a path in it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FieldSelector {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub resource: SourceResource,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct SourceResource {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// `spec.to`: where the value goes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ExportTarget {
    /// `configmap` or `secret`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Default: `<namespace>.<name>` of the FieldExport, as in ACK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FieldExportStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// Where and how the reconciler works.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only FieldExports (and sources) in these namespaces; all when empty.
    pub watch_namespaces: Vec<String>,
    /// `--enable-cross-namespace`: may a FieldExport write into another namespace.
    pub enable_cross_namespace: bool,
    /// How long a synced export waits before it is checked again (the target may have been
    /// edited by someone else).
    pub resync: Duration,
}

// ---------------------------------------------------------------------------
// The path: jq's field and index syntax, which is all ACK's documentation uses.

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// Parses `.a.b[0]."c.d"`; anything else of jq is refused with the reason.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut rest = path.trim();
    if !rest.starts_with('.') {
        return Err(format!(
            "{path:?} must start with '.' (such as .status.queueURL)"
        ));
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| format!("{path:?}: '[' without ']'"))?;
            let index = after[..end]
                .trim()
                .parse()
                .map_err(|_| format!("{path:?}: [{}] is not a list index", &after[..end]))?;
            steps.push(Step::Index(index));
            rest = &after[end + 1..];
            continue;
        }
        let Some(after) = rest.strip_prefix('.') else {
            return Err(format!(
                "{path:?}: unexpected {:?}; only .field, .\"field\" and [index] are supported",
                rest.chars().next().unwrap_or_default()
            ));
        };
        if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| format!("{path:?}: unterminated quoted field"))?;
            steps.push(Step::Field(quoted[..end].to_string()));
            rest = &quoted[end + 1..];
            continue;
        }
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        if end == 0 {
            if after.is_empty() && steps.is_empty() {
                return Err(format!(
                    "{path:?} names no field (such as .status.queueURL)"
                ));
            }
            if !after.starts_with('[') {
                return Err(format!(
                    "{path:?}: only .field, .\"field\" and [index] are supported"
                ));
            }
        } else {
            steps.push(Step::Field(after[..end].to_string()));
        }
        rest = &after[end..];
    }
    if steps.is_empty() {
        return Err(format!(
            "{path:?} names no field (such as .status.queueURL)"
        ));
    }
    Ok(steps)
}

/// What the path finds in `object`.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Value(String),
    Missing,
    /// An object, list or null: nothing to write as text.
    NotScalar(&'static str),
}

pub fn extract(object: &Value, steps: &[Step]) -> Found {
    let mut at = object;
    for step in steps {
        let next = match step {
            Step::Field(name) => at.get(name),
            Step::Index(i) => at.get(*i),
        };
        match next {
            Some(value) => at = value,
            None => return Found::Missing,
        }
    }
    match at {
        Value::String(s) => Found::Value(s.clone()),
        Value::Bool(b) => Found::Value(b.to_string()),
        Value::Number(n) => Found::Value(n.to_string()),
        Value::Null => Found::NotScalar("null"),
        Value::Array(_) => Found::NotScalar("a list"),
        Value::Object(_) => Found::NotScalar("an object"),
    }
}

// ---------------------------------------------------------------------------

/// Why an export did not complete.
#[derive(Debug)]
enum Failure {
    Terminal(&'static str, String),
    Recoverable(&'static str, String),
    /// Nothing to do until the source changes (not there, not synced): shown, not retried.
    Waiting(&'static str, String),
}

struct Context {
    client: Client,
    served: Vec<ApiResource>,
    options: Options,
}

/// Runs the FieldExport reconciler for the `served` kinds until the process is asked to stop.
pub async fn run(client: Client, served: Vec<ApiResource>, options: Options) {
    let apis: Vec<Option<String>> = if options.watch_namespaces.is_empty() {
        vec![None]
    } else {
        options.watch_namespaces.iter().cloned().map(Some).collect()
    };
    let context = Arc::new(Context {
        client: client.clone(),
        served: served.clone(),
        options,
    });
    let controllers = apis.into_iter().map(|namespace| {
        let exports: Api<FieldExport> = match &namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let (reader, writer) = kube::runtime::reflector::store();
        // Status writes (ours) do not trigger; spec, finalizer and deletion changes do.
        let changes = watcher(exports.clone(), watcher::Config::default())
            .default_backoff()
            .reflect(writer)
            .applied_objects()
            .predicate_filter(
                predicates::generation
                    .combine(predicates::finalizers)
                    .combine(crate::controller::deletion_requested::<FieldExport>),
                Default::default(),
            );
        let mut controller = Controller::for_stream(changes, reader.clone());
        for kind in &served {
            let api: Api<DynamicObject> = match &namespace {
                Some(ns) => Api::namespaced_with(client.clone(), ns, kind),
                None => Api::all_with(client.clone(), kind),
            };
            let exports = reader.clone();
            let source = kind.clone();
            controller = controller.watches_with(
                api,
                kind.clone(),
                watcher::Config::default(),
                move |obj| exports_of(&exports, &source, &obj),
            );
        }
        controller
            .graceful_shutdown_on(crate::controller::shutdown_signal())
            .run(reconcile, error_policy, context.clone())
            .for_each(|result| async move {
                if let Err(e) = result {
                    warn!(error = %e, "field export reconcile failed");
                }
            })
    });
    futures::future::join_all(controllers).await;
}

/// The FieldExports that read `obj`.
fn exports_of(
    exports: &Store<FieldExport>,
    kind: &ApiResource,
    obj: &DynamicObject,
) -> Vec<ObjectRef<FieldExport>> {
    let namespace = obj.namespace();
    exports
        .state()
        .iter()
        .filter(|fe| {
            let from = &fe.spec.from.resource;
            fe.namespace() == namespace
                && from.group == kind.group
                && from.kind.eq_ignore_ascii_case(&kind.kind)
                && from.name == obj.name_any()
        })
        .map(|fe| ObjectRef::from_obj(&**fe))
        .collect()
}

fn error_policy(_fe: Arc<FieldExport>, error: &kube::Error, _ctx: Arc<Context>) -> Action {
    warn!(%error, "kubernetes call failed for a field export; retrying");
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(fe: Arc<FieldExport>, ctx: Arc<Context>) -> Result<Action, kube::Error> {
    let from = &fe.spec.from.resource;
    // Another controller's source: its controller handles the FieldExport.
    let Some(kind) = ctx
        .served
        .iter()
        .find(|k| k.group == from.group && k.kind.eq_ignore_ascii_case(&from.kind))
    else {
        return Ok(Action::await_change());
    };
    let namespace = fe.namespace().unwrap_or_default();
    let exports: Api<FieldExport> = Api::namespaced(ctx.client.clone(), &namespace);
    let has_finalizer = fe.finalizers().iter().any(|f| f == FINALIZER);
    if fe.meta().deletion_timestamp.is_some() {
        if has_finalizer {
            delete_created(&ctx.client, &fe).await?;
            let finalizers: Vec<_> = fe
                .finalizers()
                .iter()
                .filter(|f| *f != FINALIZER)
                .cloned()
                .collect();
            set_finalizers(&exports, &fe, finalizers).await?;
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        // Stored before anything is written, so nothing it creates can outlive it.
        let mut finalizers = fe.finalizers().to_vec();
        finalizers.push(FINALIZER.to_string());
        set_finalizers(&exports, &fe, finalizers).await?;
    }
    let outcome = export(&ctx, &fe, kind, &namespace).await;
    let requeue = match &outcome {
        Ok(()) => Action::requeue(ctx.options.resync),
        Err(Failure::Recoverable(..)) => Action::requeue(Duration::from_secs(10)),
        Err(Failure::Terminal(..) | Failure::Waiting(..)) => Action::await_change(),
    };
    write_status(&exports, &fe, outcome).await?;
    Ok(requeue)
}

async fn export(
    ctx: &Context,
    fe: &FieldExport,
    kind: &ApiResource,
    namespace: &str,
) -> Result<(), Failure> {
    let spec = &fe.spec;
    let steps = parse_path(&spec.from.path).map_err(|e| {
        Failure::Terminal(
            "InvalidPath",
            format!("spec.from.path {e}; nothing was written"),
        )
    })?;
    let target_namespace = spec
        .to
        .namespace
        .clone()
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| namespace.to_string());
    if target_namespace != namespace && !ctx.options.enable_cross_namespace {
        return Err(Failure::Terminal(
            "CrossNamespaceDisabled",
            format!(
                "spec.to.namespace {target_namespace:?} is another namespace, and \
                 --enable-cross-namespace=false forbids writing there; nothing was written"
            ),
        ));
    }
    let sources: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), namespace, kind);
    let source_name = &spec.from.resource.name;
    let source = sources
        .get_opt(source_name)
        .await
        .map_err(|e| {
            Failure::Recoverable("SourceUnreadable", format!("reading {source_name}: {e}"))
        })?
        .ok_or_else(|| {
            Failure::Waiting(
                "SourceNotFound",
                format!(
                    "{} {source_name} does not exist in namespace {namespace}",
                    kind.kind
                ),
            )
        })?;
    let source = serde_json::to_value(&source).unwrap_or_default();
    let synced = source["status"]["conditions"]
        .as_array()
        .is_some_and(|list| {
            list.iter()
                .any(|c| c["type"] == conditions::RESOURCE_SYNCED && c["status"] == "True")
        });
    if !synced {
        return Err(Failure::Waiting(
            "SourceNotSynced",
            format!(
                "{} {source_name} is not {} yet; its value is exported once it is",
                kind.kind,
                conditions::RESOURCE_SYNCED
            ),
        ));
    }
    let value = match extract(&source, &steps) {
        Found::Value(v) => v,
        Found::Missing => {
            return Err(Failure::Waiting(
                "PathNotFound",
                format!("{} {source_name} has no {}", kind.kind, spec.from.path),
            ));
        }
        Found::NotScalar(what) => {
            return Err(Failure::Terminal(
                "PathNotScalar",
                format!(
                    "{} of {} {source_name} is {what}; only strings, numbers and booleans are \
                     exported",
                    spec.from.path, kind.kind
                ),
            ));
        }
    };
    let key = spec
        .to
        .key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| format!("{namespace}.{}", fe.name_any()));
    let owner = (target_namespace == namespace).then(|| owner_reference(fe));
    let target = Target {
        name: &spec.to.name,
        namespace: &target_namespace,
        key: &key,
        value: &value,
        owner,
    };
    match spec.to.kind.to_ascii_lowercase().as_str() {
        "configmap" => write::<ConfigMap>(&ctx.client, &target).await,
        "secret" => write::<Secret>(&ctx.client, &target).await,
        other => Err(Failure::Terminal(
            "InvalidTarget",
            format!("spec.to.kind {other:?} is neither configmap nor secret"),
        )),
    }
}

struct Target<'a> {
    name: &'a str,
    namespace: &'a str,
    key: &'a str,
    value: &'a str,
    /// Set when a missing target may be created (it is in the FieldExport's namespace).
    owner: Option<OwnerReference>,
}

/// A ConfigMap or a Secret, as far as an export needs one.
trait Data:
    Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
    + Clone
    + std::fmt::Debug
    + Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    const WHAT: &'static str;
    fn value(&self, key: &str) -> Option<String>;
    fn data_field() -> &'static str;
}

impl Data for ConfigMap {
    const WHAT: &'static str = "ConfigMap";
    fn value(&self, key: &str) -> Option<String> {
        self.data.as_ref()?.get(key).cloned()
    }
    fn data_field() -> &'static str {
        "data"
    }
}

impl Data for Secret {
    const WHAT: &'static str = "Secret";
    fn value(&self, key: &str) -> Option<String> {
        let bytes = self.data.as_ref()?.get(key)?;
        String::from_utf8(bytes.0.clone()).ok()
    }
    // The apiserver encodes stringData into data.
    fn data_field() -> &'static str {
        "stringData"
    }
}

async fn write<K: Data>(client: &Client, target: &Target<'_>) -> Result<(), Failure> {
    let api: Api<K> = Api::namespaced(client.clone(), target.namespace);
    let refused = |e: kube::Error| {
        let forbidden = matches!(&e, kube::Error::Api(s) if s.code == 403);
        let reason = if forbidden {
            "WriteForbidden"
        } else {
            "WriteFailed"
        };
        Failure::Recoverable(
            reason,
            format!(
                "writing key {:?} of {} {}/{}: {e}",
                target.key,
                K::WHAT,
                target.namespace,
                target.name
            ),
        )
    };
    let current = api.get_opt(target.name).await.map_err(refused)?;
    match current {
        Some(current) if current.value(target.key).as_deref() == Some(target.value) => Ok(()),
        Some(_) => {
            let patch = json!({ K::data_field(): { target.key: target.value } });
            api.patch(target.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(refused)?;
            Ok(())
        }
        None => {
            let Some(owner) = &target.owner else {
                return Err(Failure::Recoverable(
                    "TargetNotFound",
                    format!(
                        "{} {}/{} does not exist; a FieldExport creates its target only in its \
                         own namespace (an owner reference cannot cross namespaces)",
                        K::WHAT,
                        target.namespace,
                        target.name
                    ),
                ));
            };
            let object = json!({
                "apiVersion": K::api_version(&()),
                "kind": K::kind(&()),
                "metadata": ObjectMeta {
                    name: Some(target.name.to_string()),
                    namespace: Some(target.namespace.to_string()),
                    owner_references: Some(vec![owner.clone()]),
                    ..Default::default()
                },
                K::data_field(): { target.key: target.value },
            });
            let object: K = serde_json::from_value(object).map_err(|e| {
                Failure::Recoverable("WriteFailed", format!("building the {}: {e}", K::WHAT))
            })?;
            api.create(&PostParams::default(), &object)
                .await
                .map_err(refused)?;
            info!(
                kind = K::WHAT,
                name = target.name,
                "created the export target"
            );
            Ok(())
        }
    }
}

fn owner_reference(fe: &FieldExport) -> OwnerReference {
    OwnerReference {
        api_version: FieldExport::api_version(&()).to_string(),
        kind: FieldExport::kind(&()).to_string(),
        name: fe.name_any(),
        uid: fe.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

/// Deletes the ConfigMaps and Secrets this FieldExport created (those it owns).
async fn delete_created(client: &Client, fe: &FieldExport) -> Result<(), kube::Error> {
    let Some(uid) = fe.uid() else {
        return Ok(());
    };
    let to = &fe.spec.to;
    let namespace = fe.namespace().unwrap_or_default();
    if to
        .namespace
        .as_deref()
        .is_some_and(|ns| !ns.is_empty() && ns != namespace)
    {
        return Ok(());
    }
    async fn delete_owned<K: Data>(
        client: &Client,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<(), kube::Error> {
        let api: Api<K> = Api::namespaced(client.clone(), namespace);
        let Some(object) = api.get_opt(name).await? else {
            return Ok(());
        };
        let owned = object.owner_references().iter().any(|o| o.uid == uid);
        if owned {
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    match to.kind.to_ascii_lowercase().as_str() {
        "configmap" => delete_owned::<ConfigMap>(client, &namespace, &to.name, &uid).await,
        "secret" => delete_owned::<Secret>(client, &namespace, &to.name, &uid).await,
        _ => Ok(()),
    }
}

async fn set_finalizers(
    api: &Api<FieldExport>,
    fe: &FieldExport,
    finalizers: Vec<String>,
) -> Result<(), kube::Error> {
    let patch = json!({
        "metadata": { "resourceVersion": fe.resource_version(), "finalizers": finalizers }
    });
    api.patch(
        &fe.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

async fn write_status(
    api: &Api<FieldExport>,
    fe: &FieldExport,
    outcome: Result<(), Failure>,
) -> Result<(), kube::Error> {
    let now = Timestamp::now().to_string();
    let mut list = fe.status.clone().unwrap_or_default().conditions;
    let before = list.clone();
    let (synced, cause) = match outcome {
        Ok(()) => (
            Condition::new(conditions::RESOURCE_SYNCED, Status::True),
            None,
        ),
        Err(failure) => {
            let (type_, reason, message) = match failure {
                Failure::Terminal(r, m) => (Some(conditions::TERMINAL), r, m),
                Failure::Recoverable(r, m) => (Some(conditions::RECOVERABLE), r, m),
                Failure::Waiting(r, m) => (None, r, m),
            };
            let synced = Condition::new(conditions::RESOURCE_SYNCED, Status::False)
                .with_reason(reason)
                .with_message(message.clone());
            let cause = type_.map(|t| {
                Condition::new(t, Status::True)
                    .with_reason(reason)
                    .with_message(message)
            });
            (synced, cause)
        }
    };
    conditions::set_condition(&mut list, synced, &now);
    for type_ in [conditions::TERMINAL, conditions::RECOVERABLE] {
        match &cause {
            Some(c) if c.type_ == type_ => {
                conditions::set_condition(&mut list, c.clone(), &now);
            }
            _ => {
                conditions::remove_condition(&mut list, type_);
            }
        }
    }
    if list == before {
        return Ok(());
    }
    let patch = json!({ "status": { "conditions": list } });
    api.patch_status(
        &fe.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_jq_field_syntax_parse() {
        use Step::*;
        assert_eq!(
            parse_path(".status.queueURL").unwrap(),
            [Field("status".into()), Field("queueURL".into())]
        );
        assert_eq!(
            parse_path(".spec.tags[1].value").unwrap(),
            [
                Field("spec".into()),
                Field("tags".into()),
                Index(1),
                Field("value".into())
            ]
        );
        assert_eq!(
            parse_path(r#".status."ackResourceMetadata".arn"#).unwrap(),
            [
                Field("status".into()),
                Field("ackResourceMetadata".into()),
                Field("arn".into())
            ]
        );
        for bad in ["status.queueURL", ".", "", ".a | .b", ".a[x]", ".a[0"] {
            assert!(parse_path(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn scalars_are_written_as_text_and_the_rest_refused() {
        let obj = json!({"status": {"url": "u", "n": 3, "on": true, "list": [1], "none": null}});
        let at = |p: &str| extract(&obj, &parse_path(p).unwrap());
        assert_eq!(at(".status.url"), Found::Value("u".into()));
        assert_eq!(at(".status.n"), Found::Value("3".into()));
        assert_eq!(at(".status.on"), Found::Value("true".into()));
        assert_eq!(at(".status.list[0]"), Found::Value("1".into()));
        assert_eq!(at(".status.list"), Found::NotScalar("a list"));
        assert_eq!(at(".status.none"), Found::NotScalar("null"));
        assert_eq!(at(".status.gone"), Found::Missing);
        assert_eq!(at(".status.list[3]"), Found::Missing);
    }
}
