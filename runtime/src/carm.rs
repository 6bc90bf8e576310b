//! Cross-account resource management (CARM), as ACK documents it: a namespace annotated
//! `services.k8s.aws/owner-account-id` holds resources of that AWS account, managed through the
//! IAM role the `ack-role-account-map` ConfigMap (in the controller's own namespace) names for
//! the account; with the `TeamLevelCARM` gate, a namespace annotated `services.k8s.aws/team-id`
//! uses the role `ack-role-team-map` names for the team; with `ServiceLevelCARM`, a key
//! `<service>.<id>` in either map wins over `<id>`.
//!
//! The decisions here are pure; the controller reads the namespace and the map and hands them
//! in. A CR that needs a role the maps do not name is never reconciled with the controller's
//! own identity: it gets `ACK.Recoverable` naming the missing entry, and nothing is sent to AWS.

use std::collections::BTreeMap;

use crate::annotations::{self, Annotations};
use crate::error::ReconcileError;
use crate::flags::FeatureGates;

/// The ConfigMap mapping account ids to role ARNs.
pub const ACCOUNT_MAP: &str = "ack-role-account-map";
/// The ConfigMap mapping team ids to role ARNs (`TeamLevelCARM`).
pub const TEAM_MAP: &str = "ack-role-team-map";

/// Which role map, and which entry, a CR's calls need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The controller's own identity and account.
    Own,
    /// The role for this account, from [`ACCOUNT_MAP`].
    Account(String),
    /// The role for this team, from [`TEAM_MAP`].
    Team(String),
}

impl Lookup {
    /// The ConfigMap to read, `None` for [`Lookup::Own`].
    pub fn map(&self) -> Option<&'static str> {
        match self {
            Lookup::Own => None,
            Lookup::Account(_) => Some(ACCOUNT_MAP),
            Lookup::Team(_) => Some(TEAM_MAP),
        }
    }
}

/// What decides a CR's identity besides its namespace.
#[derive(Clone, Copy, Debug)]
pub struct Rules<'a> {
    /// `--enable-carm`.
    pub enabled: bool,
    pub gates: FeatureGates,
    /// The account the controller's own credentials belong to.
    pub own_account: Option<&'a str>,
}

/// Whose role a CR in a namespace with `namespace` annotations needs. `recorded` is the
/// `status.ackResourceMetadata.ownerAccountID` of a resource AWS already has: once a resource
/// belongs to another account it keeps being managed there, even if the annotation goes.
pub fn lookup(namespace: Option<&Annotations>, recorded: Option<&str>, rules: Rules<'_>) -> Lookup {
    let annotation = |key| {
        namespace
            .and_then(|a| a.get(key))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if rules.gates.team_level_carm
        && let Some(team) = annotation(annotations::TEAM_ID)
    {
        return Lookup::Team(team);
    }
    if !rules.enabled {
        return Lookup::Own;
    }
    let owner = annotation(annotations::OWNER_ACCOUNT_ID).or_else(|| recorded.map(str::to_string));
    match owner {
        Some(owner) if rules.own_account != Some(owner.as_str()) => Lookup::Account(owner),
        _ => Lookup::Own,
    }
}

/// The role ARN `map` (the ConfigMap's data, `None` when it does not exist) names for
/// `lookup`, with `<service>.<id>` first under `ServiceLevelCARM`.
pub fn role_for(
    lookup: &Lookup,
    map: Option<&BTreeMap<String, String>>,
    service: &str,
    gates: FeatureGates,
    system_namespace: &str,
) -> Result<Option<Role>, ReconcileError> {
    let (id, what, annotation) = match lookup {
        Lookup::Own => return Ok(None),
        Lookup::Account(id) => (id, "account", annotations::OWNER_ACCOUNT_ID),
        Lookup::Team(id) => (id, "team", annotations::TEAM_ID),
    };
    let name = lookup.map().expect("not Own");
    let service_key = format!("{service}.{id}");
    let keys: Vec<&str> = if gates.service_level_carm {
        vec![service_key.as_str(), id.as_str()]
    } else {
        vec![id.as_str()]
    };
    let found = map.and_then(|m| keys.iter().find_map(|k| m.get(*k)));
    let Some(arn) = found.map(|a| a.trim()).filter(|a| !a.is_empty()) else {
        let missing = if map.is_none() {
            format!("ConfigMap {system_namespace}/{name} does not exist")
        } else {
            format!(
                "ConfigMap {system_namespace}/{name} has no {}",
                keys.iter()
                    .map(|k| format!("key {k:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        return Err(ReconcileError::recoverable(
            "RoleNotFound",
            format!(
                "the namespace's {annotation} annotation asks for {what} {id}, but {missing}; \
                 the controller does not act with its own identity instead, so nothing was done \
                 in AWS (add the role ARN to the ConfigMap)"
            ),
        ));
    };
    let account = account_of_role(arn).ok_or_else(|| {
        ReconcileError::terminal(
            "InvalidRoleARN",
            format!(
                "ConfigMap {system_namespace}/{name} names {arn:?} for {what} {id}, which is not \
                 an IAM role ARN (arn:aws:iam::<account>:role/<name>); nothing was done in AWS"
            ),
        )
    })?;
    if let Lookup::Account(id) = lookup
        && *id != account
    {
        return Err(ReconcileError::terminal(
            "InvalidRoleARN",
            format!(
                "ConfigMap {system_namespace}/{name} names role {arn} (account {account}) for \
                 account {id}; nothing was done in AWS"
            ),
        ));
    }
    Ok(Some(Role {
        arn: arn.to_string(),
        account,
    }))
}

/// An IAM role to assume, and the account it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub account: String,
}

/// The account of `arn:<partition>:iam::<account>:role/<name>`.
pub fn account_of_role(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, region, account, resource] = parts[..] else {
        return None;
    };
    let valid = prefix == "arn"
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty());
    valid.then(|| account.to_string())
}

/// Refuses to move a resource AWS already has (its owner account recorded in the status) to
/// another account.
pub fn check_account_unchanged(
    recorded: Option<&str>,
    wanted: Option<&str>,
) -> Result<(), ReconcileError> {
    match (recorded, wanted) {
        (Some(recorded), Some(wanted)) if recorded != wanted => Err(ReconcileError::terminal(
            "AccountChanged",
            format!(
                "the resource exists in account {recorded} \
                 (status.ackResourceMetadata.ownerAccountID), but its namespace now maps it to \
                 account {wanted}; a resource cannot move between accounts; nothing was done in AWS"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "123456789012";
    const OTHER: &str = "111122223333";

    fn ns(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rules(gates: FeatureGates) -> Rules<'static> {
        Rules {
            enabled: true,
            gates,
            own_account: Some(OWN),
        }
    }

    #[test]
    fn the_namespace_annotation_then_the_recorded_owner_decide() {
        let gates = FeatureGates::default();
        let other = ns(&[(annotations::OWNER_ACCOUNT_ID, OTHER)]);
        let own = ns(&[(annotations::OWNER_ACCOUNT_ID, OWN)]);
        assert_eq!(
            lookup(Some(&other), None, rules(gates)),
            Lookup::Account(OTHER.into())
        );
        assert_eq!(lookup(Some(&own), None, rules(gates)), Lookup::Own);
        assert_eq!(lookup(None, None, rules(gates)), Lookup::Own);
        assert_eq!(
            lookup(None, Some(OTHER), rules(gates)),
            Lookup::Account(OTHER.into())
        );
        assert_eq!(lookup(None, Some(OWN), rules(gates)), Lookup::Own);
        let off = Rules {
            enabled: false,
            ..rules(gates)
        };
        assert_eq!(lookup(Some(&other), None, off), Lookup::Own);
    }

    #[test]
    fn team_ids_count_only_with_their_gate() {
        let mut gates = FeatureGates::default();
        let team = ns(&[
            (annotations::TEAM_ID, "payments"),
            (annotations::OWNER_ACCOUNT_ID, OTHER),
        ]);
        assert_eq!(
            lookup(Some(&team), None, rules(gates)),
            Lookup::Account(OTHER.into())
        );
        gates.team_level_carm = true;
        assert_eq!(
            lookup(Some(&team), None, rules(gates)),
            Lookup::Team("payments".into())
        );
    }

    #[test]
    fn roles_come_from_the_map_and_misses_say_what_is_missing() {
        let gates = FeatureGates::default();
        let role = format!("arn:aws:iam::{OTHER}:role/ack");
        let map: BTreeMap<String, String> = [(OTHER.to_string(), role.clone())].into();
        let account = Lookup::Account(OTHER.into());
        let found = role_for(&account, Some(&map), "sqs", gates, "ack-system").unwrap();
        assert_eq!(
            found,
            Some(Role {
                arn: role.clone(),
                account: OTHER.into()
            })
        );
        assert_eq!(
            role_for(&Lookup::Own, None, "sqs", gates, "ack-system").unwrap(),
            None
        );

        let missing = Lookup::Account("444455556666".into());
        let err = role_for(&missing, Some(&map), "sqs", gates, "ack-system").unwrap_err();
        assert!(!err.is_terminal());
        assert_eq!(err.code(), Some("RoleNotFound"));
        let text = err.to_string();
        assert!(text.contains("444455556666") && text.contains("ack-system/ack-role-account-map"));
        let err = role_for(&account, None, "sqs", gates, "ack-system").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");

        // A role of another account than the key is refused.
        let wrong: BTreeMap<String, String> =
            [(OTHER.to_string(), format!("arn:aws:iam::{OWN}:role/ack"))].into();
        let err = role_for(&account, Some(&wrong), "sqs", gates, "ack-system").unwrap_err();
        assert!(err.is_terminal(), "{err}");
    }

    #[test]
    fn service_level_keys_win_under_their_gate() {
        let mut gates = FeatureGates::default();
        let general = format!("arn:aws:iam::{OTHER}:role/general");
        let sqs = format!("arn:aws:iam::{OTHER}:role/sqs");
        let map: BTreeMap<String, String> = [
            (OTHER.to_string(), general.clone()),
            (format!("sqs.{OTHER}"), sqs.clone()),
        ]
        .into();
        let account = Lookup::Account(OTHER.into());
        let arn = |gates| {
            role_for(&account, Some(&map), "sqs", gates, "ns")
                .unwrap()
                .unwrap()
                .arn
        };
        assert_eq!(arn(gates), general);
        gates.service_level_carm = true;
        assert_eq!(arn(gates), sqs);
    }

    #[test]
    fn role_arns_are_checked() {
        assert_eq!(
            account_of_role("arn:aws:iam::111122223333:role/a/b").as_deref(),
            Some("111122223333")
        );
        for bad in [
            "arn:aws:iam::1111:role/a",
            "arn:aws:sts::111122223333:role/a",
            "arn:aws:iam::111122223333:user/a",
            "arn:aws:iam::111122223333:role/",
            "role/a",
        ] {
            assert_eq!(account_of_role(bad), None, "{bad}");
        }
        assert!(check_account_unchanged(Some(OWN), Some(OWN)).is_ok());
        assert!(check_account_unchanged(None, Some(OTHER)).is_ok());
        assert!(
            check_account_unchanged(Some(OWN), Some(OTHER))
                .unwrap_err()
                .is_terminal()
        );
    }
}

// ---------------------------------------------------------------------------
// IAMRoleSelector (the `IAMRoleSelector` gate): a cluster-scoped kind naming a role for the
// resources it selects, by namespace (names, labels), resource type and resource labels. It
// takes precedence over the maps above.

/// `spec` of ACK's IAMRoleSelector.
#[derive(kube::CustomResource, Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[kube(
    group = "services.k8s.aws",
    version = "v1alpha1",
    kind = "IAMRoleSelector",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct IamRoleSelectorSpec {
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub namespace_selector: NamespaceSelector,
    #[serde(default)]
    pub resource_type_selector: Vec<ResourceType>,
    #[serde(default)]
    pub resource_label_selector: LabelSelector,
}

#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub label_selector: LabelSelector,
}

#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct ResourceType {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

/// What a selector is matched against.
pub struct Subject<'a> {
    pub namespace: &'a str,
    pub namespace_labels: &'a BTreeMap<String, String>,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

fn labels_match(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether `spec` selects `subject`: every part that is set must match (an empty part matches
/// everything; in a resource type, an empty group, version or kind matches any).
pub fn selects(spec: &IamRoleSelectorSpec, subject: &Subject<'_>) -> bool {
    let ns = &spec.namespace_selector;
    let namespace = (ns.names.is_empty() || ns.names.iter().any(|n| n == subject.namespace))
        && labels_match(&ns.label_selector, subject.namespace_labels);
    let kind = spec.resource_type_selector.is_empty()
        || spec.resource_type_selector.iter().any(|t| {
            (t.group.is_empty() || t.group == subject.group)
                && (t.version.is_empty() || t.version == subject.version)
                && (t.kind.is_empty() || t.kind == subject.kind)
        });
    namespace && kind && labels_match(&spec.resource_label_selector, subject.labels)
}

/// Why a selector cannot be used (it then selects nothing).
pub fn invalid(spec: &IamRoleSelectorSpec) -> Option<String> {
    if account_of_role(&spec.arn).is_none() {
        return Some(format!("spec.arn {:?} is not an IAM role ARN", spec.arn));
    }
    if spec.namespace_selector.names.iter().any(String::is_empty) {
        return Some("spec.namespaceSelector.names has an empty name".into());
    }
    let empty_type = spec
        .resource_type_selector
        .iter()
        .any(|t| t.group.is_empty() && t.version.is_empty() && t.kind.is_empty());
    if empty_type {
        return Some("a spec.resourceTypeSelector entry names no group, version or kind".into());
    }
    None
}

/// The role of the one valid selector that selects `subject`; `None` when none does; more than
/// one is Terminal (which role to use is the user's to say).
pub fn selected_role<'a>(
    selectors: impl IntoIterator<Item = &'a IAMRoleSelector>,
    subject: &Subject<'_>,
) -> Result<Option<(String, Role)>, ReconcileError> {
    let matching: Vec<&IAMRoleSelector> = selectors
        .into_iter()
        .filter(|s| invalid(&s.spec).is_none() && selects(&s.spec, subject))
        .collect();
    match matching[..] {
        [] => Ok(None),
        [one] => {
            let arn = one.spec.arn.clone();
            let account = account_of_role(&arn).expect("validated");
            let name = one.metadata.name.clone().unwrap_or_default();
            Ok(Some((name, Role { arn, account })))
        }
        _ => Err(ReconcileError::terminal(
            "MultipleRoleSelectors",
            format!(
                "IAMRoleSelectors {} all select this resource; make exactly one select it \
                 (nothing was done in AWS)",
                matching
                    .iter()
                    .map(|s| s.metadata.name.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod selector_tests {
    use super::*;

    fn selector(name: &str, spec: serde_json::Value) -> IAMRoleSelector {
        let mut s = IAMRoleSelector::new(name, serde_json::from_value(spec).unwrap());
        s.metadata.name = Some(name.into());
        s
    }

    #[test]
    fn selectors_match_namespace_type_and_labels_and_one_wins() {
        let empty = BTreeMap::new();
        let team: BTreeMap<String, String> = [("team".to_string(), "a".to_string())].into();
        let subject = Subject {
            namespace: "apps",
            namespace_labels: &team,
            group: "sqs.services.k8s.aws",
            version: "v1alpha1",
            kind: "Queue",
            labels: &empty,
        };
        let arn = "arn:aws:iam::444455556666:role/apps";
        let by_name = selector(
            "by-name",
            serde_json::json!({"arn": arn,
            "namespaceSelector": {"names": ["apps"]},
            "resourceTypeSelector": [{"group": "sqs.services.k8s.aws", "version": "", "kind": "Queue"}]}),
        );
        let other_ns = selector(
            "other",
            serde_json::json!({"arn": arn,
            "namespaceSelector": {"names": ["web"]}}),
        );
        let by_label = selector(
            "by-label",
            serde_json::json!({"arn": arn,
            "namespaceSelector": {"names": [], "labelSelector": {"matchLabels": {"team": "a"}}}}),
        );
        let other_kind = selector(
            "tables",
            serde_json::json!({"arn": arn,
            "resourceTypeSelector": [{"group": "", "version": "", "kind": "Table"}]}),
        );
        let bad = selector("bad", serde_json::json!({"arn": "not-an-arn"}));
        assert!(selects(&by_name.spec, &subject));
        assert!(selects(&by_label.spec, &subject));
        assert!(!selects(&other_ns.spec, &subject));
        assert!(!selects(&other_kind.spec, &subject));
        assert!(invalid(&bad.spec).is_some());

        let (name, role) = selected_role([&by_name, &other_ns, &other_kind, &bad], &subject)
            .unwrap()
            .unwrap();
        assert_eq!(
            (name.as_str(), role.account.as_str()),
            ("by-name", "444455556666")
        );
        assert_eq!(selected_role([&other_ns], &subject).unwrap(), None);
        let err = selected_role([&by_name, &by_label], &subject).unwrap_err();
        assert!(
            err.is_terminal() && err.to_string().contains("by-name, by-label"),
            "{err}"
        );
    }
}
