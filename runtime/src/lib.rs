//! The one generic reconciler every ack-rs service controller runs.
//!
//! Decision modules (pure, no I/O; each one concept):
//!
//! | module          | concept                                                   |
//! |-----------------|-----------------------------------------------------------|
//! | [`tags`]        | user, default and `aws:` system tags; tag change plans    |
//! | [`annotations`] | ACK's annotation names and their parsers                  |
//! | [`adopt`]       | adoption policy → create / adopt / manage / terminal      |
//! | [`conditions`]  | ACK's status conditions and the derived `Ready`           |
//! | [`error`]       | Terminal / Recoverable / NotFound classification          |
//! | [`requeue`]     | when to reconcile again                                   |
//! | [`deletion`]    | deletion policy precedence and read-only                  |
//! | [`throttle`]    | `--aws-api-throttle`: token buckets per service/operation |
//!
//! The reconciler built on them:
//!
//! | module          | concept                                                   |
//! |-----------------|-----------------------------------------------------------|
//! | [`manager`]     | the contract a generated service manager implements       |
//! | [`status`]      | the `status` fields every ACK resource shares             |
//! | [`reconcile`]   | one reconcile of one CR, returning what to write back     |
//! | [`field_export`]| ACK's FieldExport: a field copied into a ConfigMap/Secret   |
//! | [`controller`]  | kube-runtime `Controller` wiring, applying write-backs    |
//! | [`flags`]       | ACK's controller flags (also from the environment)        |
//! | [`aws`]         | SDK config (retries, timeouts), call counter, rate limits |
//! | [`carm`]        | cross-account: owner account / team → role, from the maps  |
//! | [`clients`]     | a CR's region; one manager per (role, region), cached      |
//! | [`metrics`]     | Prometheus metrics with ACK's names                       |
//! | [`plan`]        | what managing a CR would change, read without writing     |
//! | [`process`]     | the process every service `main` calls                    |
//!
//! No module names an AWS service: service differences are parameters
//! (tag API style, terminal and not-found error codes, service alias).

pub mod adopt;
pub mod annotations;
pub mod aws;
pub mod carm;
pub mod clients;
pub mod conditions;
pub mod controller;
pub mod deletion;
pub mod error;
pub mod field_export;
pub mod flags;
pub mod manager;
pub mod metrics;
pub mod plan;
pub mod process;
pub mod reconcile;
pub mod references;
pub mod requeue;
pub mod served;
pub mod status;
pub mod tags;
pub mod throttle;
pub mod typed;

pub use adopt::{AdoptionDecision, Remote};
pub use annotations::{AdoptionFields, AdoptionPolicy, AnnotationError, DeletionPolicy};
pub use conditions::{Condition, Status};
pub use deletion::{DeletionAction, DeletionError};
pub use error::{ErrorClass, ReconcileError};
pub use manager::{AckResource, Delta, ResourceManager};
pub use reconcile::{Settings, Writeback};
pub use requeue::{RequeueConfig, RequeueDecision};
pub use tags::{DefaultTags, TagApiStyle, TagContext, TagError, TagPlan, Tags};
