//! What happens on AWS when a custom resource is deleted.
//!
//! The deletion policy comes from, in order of precedence:
//! 1. the CR's `services.k8s.aws/deletion-policy` annotation;
//! 2. its namespace's `<service>.services.k8s.aws/deletion-policy` annotation;
//! 3. the controller's `--deletion-policy` flag (default `delete`).
//!
//! A read-only resource (`services.k8s.aws/read-only: "true"`) is never
//! deleted on AWS, whatever the policy: only the finalizer goes.
//!
//! A bad annotation is an error, never a fallback to the next source: if a
//! user wrote `retain` with a typo, falling back to the flag's `delete` would
//! destroy what they meant to keep. Callers must keep the finalizer and report
//! the error.

use thiserror::Error;

use crate::annotations::{self, AnnotationError, Annotations, DELETION_POLICY, DeletionPolicy};

/// A deletion policy or read-only annotation could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeletionError {
    /// On the custom resource.
    #[error("annotation {annotation:?} on the resource: {error}")]
    Resource {
        annotation: &'static str,
        error: AnnotationError,
    },
    /// On the resource's namespace.
    #[error("annotation {annotation:?} on namespace {namespace:?}: {error}")]
    Namespace {
        annotation: String,
        namespace: String,
        error: AnnotationError,
    },
    /// The CR's `services.k8s.aws/read-only` annotation; its message names
    /// the annotation already.
    #[error(transparent)]
    ReadOnly(AnnotationError),
}

/// What the finalizer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeletionAction {
    /// Delete the AWS resource, then remove the finalizer once it is gone.
    DeleteInAws,
    /// Leave the AWS resource; remove the finalizer only.
    RemoveFinalizerOnly(RetainReason),
}

/// Why the AWS resource is left in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetainReason {
    /// The deletion policy is `retain`.
    Policy,
    /// The resource is read-only.
    ReadOnly,
}

/// Applies the precedence: CR > namespace > flag.
pub fn resolve_policy(
    resource: Option<DeletionPolicy>,
    namespace: Option<DeletionPolicy>,
    flag: DeletionPolicy,
) -> DeletionPolicy {
    resource.or(namespace).unwrap_or(flag)
}

/// The action for a resolved policy. Read-only wins over everything.
pub fn action(policy: DeletionPolicy, read_only: bool) -> DeletionAction {
    match (read_only, policy) {
        (true, _) => DeletionAction::RemoveFinalizerOnly(RetainReason::ReadOnly),
        (false, DeletionPolicy::Retain) => {
            DeletionAction::RemoveFinalizerOnly(RetainReason::Policy)
        }
        (false, DeletionPolicy::Delete) => DeletionAction::DeleteInAws,
    }
}

/// Reads the policy from the CR's and namespace's annotations and applies
/// the precedence.
///
/// `namespace_annotations` is `None` for a cluster-scoped resource or when
/// the namespace has none. `namespace` is only used in error messages.
pub fn policy_from_annotations(
    resource_annotations: Option<&Annotations>,
    namespace: &str,
    namespace_annotations: Option<&Annotations>,
    service: &str,
    flag: DeletionPolicy,
) -> Result<DeletionPolicy, DeletionError> {
    let resource = resource_annotations
        .and_then(|a| a.get(DELETION_POLICY))
        .map(|v| v.parse())
        .transpose()
        .map_err(|error| DeletionError::Resource {
            annotation: DELETION_POLICY,
            error,
        })?;
    let ns_key = annotations::namespace_deletion_policy_annotation(service);
    let ns = namespace_annotations
        .and_then(|a| a.get(&ns_key))
        .map(|v| v.parse())
        .transpose()
        .map_err(|error| DeletionError::Namespace {
            annotation: ns_key.clone(),
            namespace: namespace.to_owned(),
            error,
        })?;
    Ok(resolve_policy(resource, ns, flag))
}

/// The full decision for a CR being deleted: policy from annotations and
/// flag, then read-only.
///
/// Errors on any unreadable annotation, even one that would not change the
/// outcome (a bad namespace policy under a valid CR policy is reported
/// anyway, since the user should fix it before it matters).
pub fn plan(
    resource_annotations: Option<&Annotations>,
    namespace: &str,
    namespace_annotations: Option<&Annotations>,
    service: &str,
    flag: DeletionPolicy,
) -> Result<DeletionAction, DeletionError> {
    let policy = policy_from_annotations(
        resource_annotations,
        namespace,
        namespace_annotations,
        service,
        flag,
    )?;
    let read_only =
        annotations::read_only(resource_annotations).map_err(DeletionError::ReadOnly)?;
    Ok(action(policy, read_only))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::READ_ONLY;
    use DeletionPolicy::{Delete, Retain};

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NS_KEY: &str = "svc.services.k8s.aws/deletion-policy";

    #[test]
    fn precedence_exhaustive() {
        let opts = [None, Some(Delete), Some(Retain)];
        for resource in opts {
            for ns in opts {
                for flag in [Delete, Retain] {
                    let expected = match (resource, ns) {
                        (Some(p), _) => p,
                        (None, Some(p)) => p,
                        (None, None) => flag,
                    };
                    assert_eq!(resolve_policy(resource, ns, flag), expected);
                }
            }
        }
    }

    #[test]
    fn action_table() {
        assert_eq!(action(Delete, false), DeletionAction::DeleteInAws);
        assert_eq!(
            action(Retain, false),
            DeletionAction::RemoveFinalizerOnly(RetainReason::Policy)
        );
        assert_eq!(
            action(Delete, true),
            DeletionAction::RemoveFinalizerOnly(RetainReason::ReadOnly)
        );
        assert_eq!(
            action(Retain, true),
            DeletionAction::RemoveFinalizerOnly(RetainReason::ReadOnly)
        );
    }

    #[test]
    fn plan_table() {
        use DeletionAction::*;
        let retained = RemoveFinalizerOnly(RetainReason::Policy);
        let read_only = RemoveFinalizerOnly(RetainReason::ReadOnly);
        let cr_retain = ann(&[(DELETION_POLICY, "retain")]);
        let cr_delete = ann(&[(DELETION_POLICY, "delete")]);
        let ns_retain = ann(&[(NS_KEY, "retain")]);
        let ns_delete = ann(&[(NS_KEY, "delete")]);
        let other_service = ann(&[("other.services.k8s.aws/deletion-policy", "retain")]);
        let ro = ann(&[(READ_ONLY, "true")]);
        let ro_false_retain = ann(&[(READ_ONLY, "false"), (DELETION_POLICY, "retain")]);
        #[rustfmt::skip]
        let cases: Vec<(Option<&Annotations>, Option<&Annotations>, DeletionPolicy, DeletionAction)> = vec![
            (None,             None,                 Delete, DeleteInAws),
            (None,             None,                 Retain, retained),
            (None,             Some(&ns_retain),     Delete, retained),
            (None,             Some(&ns_delete),     Retain, DeleteInAws),
            (None,             Some(&other_service), Delete, DeleteInAws),
            (Some(&cr_delete), Some(&ns_retain),     Retain, DeleteInAws),
            (Some(&cr_retain), Some(&ns_delete),     Delete, retained),
            (Some(&ro),        Some(&ns_delete),     Delete, read_only),
            (Some(&ro_false_retain), None,           Delete, retained),
        ];
        for (cr, ns, flag, expected) in cases {
            assert_eq!(
                plan(cr, "ns1", ns, "svc", flag),
                Ok(expected),
                "{cr:?} {ns:?} {flag:?}"
            );
        }
    }

    #[test]
    fn bad_annotations_are_errors_not_fallbacks() {
        let bad_cr = ann(&[(DELETION_POLICY, "Retain")]);
        let bad_ns = ann(&[(NS_KEY, "keep")]);
        let bad_ro = ann(&[(READ_ONLY, "yes")]);
        let cases: Vec<(Option<&Annotations>, Option<&Annotations>, &str)> = vec![
            (
                Some(&bad_cr),
                None,
                r#"annotation "services.k8s.aws/deletion-policy" on the resource: unknown deletion policy "Retain"; expected "delete" or "retain""#,
            ),
            (
                None,
                Some(&bad_ns),
                r#"annotation "svc.services.k8s.aws/deletion-policy" on namespace "ns1": unknown deletion policy "keep"; expected "delete" or "retain""#,
            ),
            (
                Some(&bad_ro),
                None,
                r#"invalid read-only value "yes" in annotation "services.k8s.aws/read-only"; expected "true" or "false""#,
            ),
        ];
        for (cr, ns, expected) in cases {
            let err = plan(cr, "ns1", ns, "svc", Delete).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }
}
