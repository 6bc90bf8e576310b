//! Where a CR's AWS calls go, and the service managers that make them: one per (role, region),
//! made on first use and kept for the life of the process.
//!
//! A CR's region is its `services.k8s.aws/region` annotation, else its namespace's, else
//! `--aws-region` ([`region_for`]). Once AWS has the resource, its region is recorded in
//! `status.ackResourceMetadata.region` and may not change ([`check_region_unchanged`]): the
//! same spec in another region is another resource.
//!
//! Managers hold their SDK clients, so the runtime asks [`Managers`] for the one that serves a
//! [`Target`] instead of holding one manager; each service's `main` only says how to build a
//! manager from an SDK config ([`MakeManager`]), which stays free of regions and accounts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use crate::annotations::{self, Annotations};
use crate::error::ReconcileError;
use crate::manager::ResourceManager;
use crate::metrics::Metrics;

/// What a service's manager is built from.
#[derive(Clone)]
pub struct ManagerContext {
    /// Credentials and region of the [`Target`] the manager serves.
    pub sdk: SdkConfig,
    pub metrics: Metrics,
    /// `--aws-endpoint-use-path-style`: address buckets by path, not by host name (only
    /// services with buckets look at it).
    pub use_path_style: bool,
}

/// Builds a service manager from an SDK config (a service's `main` passes one).
pub type MakeManager<M> =
    Arc<dyn Fn(ManagerContext) -> BoxFuture<'static, anyhow::Result<M>> + Send + Sync>;

/// Where one CR's AWS calls go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub region: String,
    /// The role assumed for another owner account (cross-account resource management);
    /// `None`: the controller's own identity.
    pub role_arn: Option<String>,
}

impl Target {
    /// The controller's own identity in `region`.
    pub fn own(region: &str) -> Self {
        Self {
            region: region.to_string(),
            role_arn: None,
        }
    }
}

/// The region a CR belongs in: its own annotation, else its namespace's, else the default
/// (`--aws-region`). A value that cannot be a region name is refused before any AWS call.
pub fn region_for(
    resource: Option<&Annotations>,
    namespace: Option<&Annotations>,
    default: &str,
) -> Result<String, ReconcileError> {
    let named = [("the resource's", resource), ("the namespace's", namespace)]
        .into_iter()
        .find_map(|(whose, a)| Some((whose, a?.get(annotations::REGION)?)));
    let Some((whose, region)) = named else {
        return Ok(default.to_string());
    };
    let well_formed = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !well_formed {
        return Err(ReconcileError::terminal(
            "InvalidRegion",
            format!(
                "{whose} annotation {} is {region:?}, which is not an AWS region name (such as \
                 us-west-2); nothing was done in AWS",
                annotations::REGION
            ),
        ));
    }
    Ok(region.clone())
}

/// Refuses to move a resource AWS already has (its region recorded in the status) to another
/// region: that would be a different resource, and the one recorded would be left unmanaged.
pub fn check_region_unchanged(recorded: Option<&str>, wanted: &str) -> Result<(), ReconcileError> {
    match recorded {
        Some(recorded) if recorded != wanted => Err(ReconcileError::terminal(
            "RegionChanged",
            format!(
                "the resource exists in region {recorded} (status.ackResourceMetadata.region), \
                 but {} now asks for {wanted}; a resource cannot move between regions. Set the \
                 annotation back to {recorded}, or create a new resource for {wanted}; nothing was \
                 done in AWS",
                annotations::REGION
            ),
        )),
        _ => Ok(()),
    }
}

/// The managers of one kind, one per [`Target`].
pub struct Managers<M> {
    source: Source<M>,
    /// The region the controller serves by default (`--aws-region`).
    default_region: Option<String>,
    cache: Mutex<HashMap<Target, Arc<OnceCell<Arc<M>>>>>,
}

enum Source<M> {
    /// One manager built by the caller: it serves the default region with the controller's
    /// own identity only (in-process harnesses that build their own client).
    Fixed(Arc<M>),
    Built {
        make: MakeManager<M>,
        /// The controller's own SDK config; each target's is derived from it.
        base: Box<SdkConfig>,
        metrics: Metrics,
        use_path_style: bool,
    },
}

impl<M: ResourceManager> From<M> for Managers<M> {
    fn from(manager: M) -> Self {
        Self {
            source: Source::Fixed(Arc::new(manager)),
            default_region: None,
            cache: Mutex::default(),
        }
    }
}

impl<M: ResourceManager> Managers<M> {
    /// Managers made by `make` on first use, from `base` with each target's region (and
    /// credentials).
    pub fn new<F, Fut>(make: F, base: SdkConfig, metrics: Metrics, use_path_style: bool) -> Self
    where
        F: Fn(ManagerContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<M>> + Send + 'static,
    {
        Self {
            source: Source::Built {
                make: Arc::new(move |ctx| Box::pin(make(ctx))),
                base: Box::new(base),
                metrics,
                use_path_style,
            },
            default_region: None,
            cache: Mutex::default(),
        }
    }

    /// Sets the region served when a CR names none (`--aws-region`).
    #[must_use]
    pub fn with_default_region(mut self, region: &str) -> Self {
        self.default_region = Some(region.to_string());
        self
    }

    /// The manager for `target`, built on first use. Building is not an AWS call; an error
    /// building it is Recoverable.
    pub async fn get(&self, target: &Target) -> Result<Arc<M>, ReconcileError> {
        let (make, base, metrics, use_path_style) = match &self.source {
            Source::Fixed(manager) => {
                let own = target.role_arn.is_none()
                    && self
                        .default_region
                        .as_deref()
                        .is_none_or(|r| r == target.region);
                if own {
                    return Ok(manager.clone());
                }
                return Err(ReconcileError::terminal(
                    "TargetNotServed",
                    format!(
                        "this controller was started with one AWS client, for region {} and its \
                         own identity; it cannot serve region {}{}",
                        self.default_region.as_deref().unwrap_or("?"),
                        target.region,
                        target
                            .role_arn
                            .as_deref()
                            .map(|r| format!(" as role {r}"))
                            .unwrap_or_default()
                    ),
                ));
            }
            Source::Built {
                make,
                base,
                metrics,
                use_path_style,
            } => (make, base, metrics, *use_path_style),
        };
        let cell = self
            .cache
            .lock()
            .expect("managers lock")
            .entry(target.clone())
            .or_default()
            .clone();
        let manager = cell
            .get_or_try_init(|| async {
                let sdk = target_config(base, target).await?;
                let ctx = ManagerContext {
                    sdk,
                    metrics: metrics.clone(),
                    use_path_style,
                };
                make(ctx).await.map(Arc::new).map_err(|e| {
                    ReconcileError::recoverable(
                        "ClientUnavailable",
                        format!(
                            "building the AWS client for region {}: {e:#}",
                            target.region
                        ),
                    )
                })
            })
            .await?;
        Ok(manager.clone())
    }
}

/// `base` pointed at the target's region, with the target's role's credentials when it names
/// one. The role is assumed once here, so a role that cannot be assumed is reported (and no
/// manager made) before any call; the SDK's identity cache then keeps the credentials and
/// assumes the role again before they expire. Calls of such a manager only ever carry the
/// role's credentials: there is no fallback to the controller's own.
async fn target_config(base: &SdkConfig, target: &Target) -> Result<SdkConfig, ReconcileError> {
    let region = Region::new(target.region.clone());
    let mut config = base.to_builder().region(region.clone());
    if let Some(role) = &target.role_arn {
        let provider = AssumeRoleProvider::builder(role.clone())
            .session_name("ack-rs-controller")
            .region(region)
            .configure(base)
            .build()
            .await;
        provider.provide_credentials().await.map_err(|e| {
            ReconcileError::recoverable(
                "AssumeRoleFailed",
                format!(
                    "assuming role {role} (STS AssumeRole) failed: {}; nothing was done in AWS",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
            )
        })?;
        config = config.credentials_provider(SharedCredentialsProvider::new(provider));
    }
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotated(region: &str) -> Annotations {
        [(annotations::REGION.to_string(), region.to_string())].into()
    }

    #[test]
    fn the_resource_wins_then_the_namespace_then_the_flag() {
        let cr = annotated("eu-west-1");
        let ns = annotated("ap-south-1");
        assert_eq!(
            region_for(Some(&cr), Some(&ns), "us-west-2").unwrap(),
            "eu-west-1"
        );
        assert_eq!(
            region_for(None, Some(&ns), "us-west-2").unwrap(),
            "ap-south-1"
        );
        assert_eq!(
            region_for(Some(&Annotations::new()), None, "us-west-2").unwrap(),
            "us-west-2"
        );
    }

    #[test]
    fn a_malformed_region_is_terminal_and_names_where_it_came_from() {
        let err = region_for(None, Some(&annotated("EU West")), "us-west-2").unwrap_err();
        assert!(err.is_terminal());
        assert_eq!(err.code(), Some("InvalidRegion"));
        assert!(err.to_string().contains("namespace's"), "{err}");
        assert!(region_for(Some(&annotated("")), None, "us-west-2").is_err());
    }

    #[test]
    fn a_recorded_region_cannot_change() {
        assert!(check_region_unchanged(None, "eu-west-1").is_ok());
        assert!(check_region_unchanged(Some("eu-west-1"), "eu-west-1").is_ok());
        let err = check_region_unchanged(Some("us-west-2"), "eu-west-1").unwrap_err();
        assert!(err.is_terminal());
        assert!(err.to_string().contains("us-west-2"), "{err}");
        assert!(err.to_string().contains("eu-west-1"), "{err}");
    }
}
