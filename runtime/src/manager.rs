//! The contract a generated service manager implements: translate between a CR and AWS calls.
//! Everything else — adoption, tags, conditions, deletion policy, requeue — is the runtime's.

use std::fmt::Debug;
use std::future::Future;

use kube::Resource;
use kube::core::NamespaceResourceScope;
use kube::core::object::HasSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::annotations::AdoptionFields;
use crate::error::ReconcileError;
use crate::tags::{TagApiStyle, TagPlan, Tags};

/// What a CR type must be for the runtime to reconcile it.
pub trait AckResource:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasSpec<Spec: Default + Serialize>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<T> AckResource for T where
    T: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasSpec<Spec: Default + Serialize>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// Field paths (e.g. `spec.delaySeconds`) where desired and latest differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub paths: Vec<String>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }
}

/// A service's manager for one resource kind. Implemented by generated code plus hooks.
///
/// Every method that calls AWS returns an already classified [`ReconcileError`] (the generated
/// code knows the service's terminal and not-found codes). Methods receive the whole CR so they
/// can read identifiers from spec or status.
pub trait ResourceManager: Send + Sync + 'static {
    type Resource: AckResource;

    /// The service alias (`s3`, `sqs`, …): tag templates and the namespace deletion-policy
    /// annotation `<service>.services.k8s.aws/deletion-policy` use it.
    fn service(&self) -> &'static str;

    /// Keys `services.k8s.aws/adoption-fields` must carry, e.g. `["name"]`.
    fn adoption_keys(&self) -> &'static [&'static str];

    /// Writes the identifiers from `adoption-fields` into the CR so [`read_one`](Self::read_one)
    /// can find the resource.
    fn apply_adoption_fields(
        &self,
        resource: &mut Self::Resource,
        fields: &AdoptionFields,
    ) -> Result<(), ReconcileError>;

    /// The resource as AWS has it: `desired` with spec and status fields overwritten by what AWS
    /// reports; `Ok(None)` when it does not exist.
    fn read_one(
        &self,
        desired: &Self::Resource,
    ) -> impl Future<Output = Result<Option<Self::Resource>, ReconcileError>> + Send;

    fn create(
        &self,
        desired: &Self::Resource,
    ) -> impl Future<Output = Result<Self::Resource, ReconcileError>> + Send;

    /// Applies `delta` (never containing tags or immutable fields) and returns the new latest.
    fn update(
        &self,
        desired: &Self::Resource,
        latest: &Self::Resource,
        delta: &Delta,
    ) -> impl Future<Output = Result<Self::Resource, ReconcileError>> + Send;

    fn delete(
        &self,
        latest: &Self::Resource,
    ) -> impl Future<Output = Result<(), ReconcileError>> + Send;

    /// Spec differences that matter, tags excluded (the runtime compares tags itself).
    fn delta(&self, desired: &Self::Resource, latest: &Self::Resource) -> Delta;

    /// Delta paths that cannot change after creation; a change is Terminal before any AWS call.
    fn immutable_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// False while AWS is still converging (e.g. a table that is CREATING): requeue soon.
    fn is_synced(&self, _latest: &Self::Resource) -> bool {
        true
    }

    /// Fills fields the user left unset with the values AWS chose; true when anything changed.
    fn late_initialize(&self, _desired: &mut Self::Resource, _latest: &Self::Resource) -> bool {
        false
    }

    /// The resource's ARN once it exists, for `status.ackResourceMetadata.arn`.
    fn arn(&self, latest: &Self::Resource) -> Option<String>;

    fn tag_api_style(&self) -> TagApiStyle;

    /// The kind's reference fields (`…Ref`), resolved before every reconcile.
    fn references(&self) -> &'static [crate::references::Reference] {
        &[]
    }

    /// False for a kind AWS keeps no tags on: the runtime then wants none (not even the
    /// default tags), so it plans no tag call.
    fn has_tags(&self) -> bool {
        true
    }

    /// True when [`create`](Self::create) sends the spec's tags with the create call (the
    /// create API takes tags): the runtime then puts every wanted tag, defaults included, into
    /// the resource it passes to `create`, and neither reads nor writes tags after it.
    fn create_takes_tags(&self) -> bool {
        false
    }

    /// The tags the CR's spec declares (user tags only); `None` when the spec has no tag field
    /// set, in which case the runtime leaves existing user tags alone.
    fn spec_tags(&self, resource: &Self::Resource) -> Option<Tags>;

    /// Replaces the spec's tags (used when adopting: the runtime passes user-visible tags only).
    /// As ACK writes them: an empty set is no list or map at all (the structure holding it, if
    /// any, stays).
    fn set_spec_tags(&self, resource: &mut Self::Resource, tags: Tags);

    /// Leaves the spec without a tag field, for adopting a resource that has no tags at all
    /// (ACK leaves the field out; a resource with only system tags gets [`set_spec_tags`]
    /// with none). By default the same as setting no tags.
    ///
    /// [`set_spec_tags`]: Self::set_spec_tags
    fn clear_spec_tags(&self, resource: &mut Self::Resource) {
        self.set_spec_tags(resource, Tags::new());
    }

    /// Every tag AWS has on the resource, system tags included.
    fn read_tags(
        &self,
        latest: &Self::Resource,
    ) -> impl Future<Output = Result<Tags, ReconcileError>> + Send;

    /// Applies a plan the runtime made; it already preserves system tags.
    fn sync_tags(
        &self,
        latest: &Self::Resource,
        plan: &TagPlan,
    ) -> impl Future<Output = Result<(), ReconcileError>> + Send;
}
