//! ACK's annotations: names and parsers.
//!
//! The names are ACK's, byte for byte, so manifests written for AWS's
//! controllers work unchanged. Parsers are strict and their errors quote the
//! offending value: a typo in a policy annotation must stop the reconcile
//! with a message the user can act on, never fall back to a default that
//! could, say, delete a resource the user meant to retain.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Annotations as they appear on Kubernetes objects.
pub type Annotations = BTreeMap<String, String>;

/// `adopt` or `adopt-or-create`; see [`AdoptionPolicy`].
pub const ADOPTION_POLICY: &str = "services.k8s.aws/adoption-policy";
/// JSON object of the identifying fields of the AWS resource to adopt; see [`AdoptionFields`].
pub const ADOPTION_FIELDS: &str = "services.k8s.aws/adoption-fields";
/// Set to `"true"` by the controller once it has adopted the resource.
pub const ADOPTED: &str = "services.k8s.aws/adopted";
/// `delete` or `retain`; see [`DeletionPolicy`].
pub const DELETION_POLICY: &str = "services.k8s.aws/deletion-policy";
/// `"true"` or `"false"`; see [`parse_read_only`].
pub const READ_ONLY: &str = "services.k8s.aws/read-only";
/// The AWS region the resource lives in, overriding the controller's.
pub const REGION: &str = "services.k8s.aws/region";
/// The AWS account that owns the resource (cross-account resource management).
pub const OWNER_ACCOUNT_ID: &str = "services.k8s.aws/owner-account-id";
/// Namespace annotation: the team whose role (`ack-role-team-map`) manages its resources.
pub const TEAM_ID: &str = "services.k8s.aws/team-id";
/// Changing its value asks for an immediate re-read from AWS.
pub const REFRESH_REQUESTED_AT: &str = "services.k8s.aws/refresh-requested-at";

/// `"true"` lets this CR take over an AWS resource whose ownership tag names another cluster or
/// another CR (ack-rs only; see [`crate::tags::Owner`]).
pub const TAKE_OWNERSHIP: &str = "ack-rs.dev/take-ownership";

/// The value [`ADOPTED`] is set to.
pub const ADOPTED_TRUE: &str = "true";

/// The namespace-level deletion policy annotation for one service, e.g.
/// `s3.services.k8s.aws/deletion-policy` for `service = "s3"`.
///
/// `service` is the controller's service alias as ACK spells it (lower case).
pub fn namespace_deletion_policy_annotation(service: &str) -> String {
    format!("{service}.{DELETION_POLICY}")
}

/// Why an annotation value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnnotationError {
    #[error("unknown adoption policy {value:?}; expected \"adopt\" or \"adopt-or-create\"")]
    UnknownAdoptionPolicy { value: String },
    #[error("unknown deletion policy {value:?}; expected \"delete\" or \"retain\"")]
    UnknownDeletionPolicy { value: String },
    #[error(
        "invalid read-only value {value:?} in annotation \"services.k8s.aws/read-only\"; expected \"true\" or \"false\""
    )]
    InvalidReadOnly { value: String },
    #[error(
        "annotation \"services.k8s.aws/adoption-fields\" is not valid JSON ({reason}): {text:?}"
    )]
    AdoptionFieldsMalformed { text: String, reason: String },
    #[error(
        "annotation \"services.k8s.aws/adoption-fields\" must be a JSON object of strings, got {text:?}"
    )]
    AdoptionFieldsNotObject { text: String },
    #[error(
        "annotation \"services.k8s.aws/adoption-fields\": value of key {key:?} must be a string, got {value}"
    )]
    AdoptionFieldsNotString { key: String, value: String },
    #[error("annotation \"services.k8s.aws/adoption-fields\" is missing required key {key:?}")]
    AdoptionFieldsMissing { key: String },
    #[error("annotation \"services.k8s.aws/adoption-fields\": required key {key:?} is empty")]
    AdoptionFieldsEmpty { key: String },
    #[error(
        "annotation \"services.k8s.aws/adoption-policy\" is set but \"services.k8s.aws/adoption-fields\" is missing"
    )]
    AdoptionFieldsAbsent,
    #[error(
        "invalid value {value:?} in annotation \"ack-rs.dev/take-ownership\"; expected \"true\" or \"false\""
    )]
    InvalidTakeOwnership { value: String },
    #[error(
        "adoption-fields key \"region\" names region {value:?}, but the resource's region is {resource:?} (its services.k8s.aws/region annotation, else its namespace's, else --aws-region); set the annotation to adopt in {value:?}"
    )]
    ForeignRegion { value: String, resource: String },
}

/// Refuses adoption fields that name a region other than the one the resource's calls go to:
/// adopting there would look for the resource in the wrong region.
pub fn check_adoption_region(
    adoption_region: Option<&str>,
    resource: &str,
) -> Result<(), AnnotationError> {
    match adoption_region {
        Some(value) if value != resource => Err(AnnotationError::ForeignRegion {
            value: value.to_string(),
            resource: resource.to_string(),
        }),
        _ => Ok(()),
    }
}

fn get<'a>(annotations: Option<&'a Annotations>, key: &str) -> Option<&'a str> {
    annotations.and_then(|a| a.get(key)).map(String::as_str)
}

// ---------------------------------------------------------------------------

/// How the controller may take over an existing AWS resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdoptionPolicy {
    /// `adopt`: the resource must exist; its state fills the spec.
    Adopt,
    /// `adopt-or-create`: adopt if it exists (then drive the spec onto it),
    /// create it otherwise.
    AdoptOrCreate,
}

impl AdoptionPolicy {
    /// The annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adopt => "adopt",
            Self::AdoptOrCreate => "adopt-or-create",
        }
    }

    /// Reads [`ADOPTION_POLICY`]. `Ok(None)` when absent; an empty or unknown
    /// value is an error (exact, case-sensitive match, as ACK).
    pub fn from_annotations(
        annotations: Option<&Annotations>,
    ) -> Result<Option<Self>, AnnotationError> {
        get(annotations, ADOPTION_POLICY)
            .map(str::parse)
            .transpose()
    }
}

impl FromStr for AdoptionPolicy {
    type Err = AnnotationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "adopt" => Ok(Self::Adopt),
            "adopt-or-create" => Ok(Self::AdoptOrCreate),
            _ => Err(AnnotationError::UnknownAdoptionPolicy {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for AdoptionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------

/// The identifying fields of the AWS resource to adopt, from
/// [`ADOPTION_FIELDS`]: a flat JSON object of string values, e.g.
/// `{"name": "my-bucket"}` or `{"arn": "arn:aws:..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdoptionFields(pub BTreeMap<String, String>);

impl AdoptionFields {
    /// Parses the annotation value and checks every `required_keys` entry is
    /// present and non-empty. Keys beyond the required ones are kept; the
    /// service decides what they mean.
    pub fn parse(json: &str, required_keys: &[&str]) -> Result<Self, AnnotationError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| AnnotationError::AdoptionFieldsMalformed {
                text: json.to_owned(),
                reason: e.to_string(),
            })?;
        let serde_json::Value::Object(object) = value else {
            return Err(AnnotationError::AdoptionFieldsNotObject {
                text: json.to_owned(),
            });
        };
        let mut fields = BTreeMap::new();
        for (key, value) in object {
            match value {
                serde_json::Value::String(s) => {
                    fields.insert(key, s);
                }
                other => {
                    return Err(AnnotationError::AdoptionFieldsNotString {
                        key,
                        value: other.to_string(),
                    });
                }
            }
        }
        for key in required_keys {
            match fields.get(*key) {
                None => {
                    return Err(AnnotationError::AdoptionFieldsMissing {
                        key: (*key).to_owned(),
                    });
                }
                Some(v) if v.is_empty() => {
                    return Err(AnnotationError::AdoptionFieldsEmpty {
                        key: (*key).to_owned(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Self(fields))
    }

    /// Reads and parses [`ADOPTION_FIELDS`]. `Ok(None)` when absent.
    pub fn from_annotations(
        annotations: Option<&Annotations>,
        required_keys: &[&str],
    ) -> Result<Option<Self>, AnnotationError> {
        get(annotations, ADOPTION_FIELDS)
            .map(|json| Self::parse(json, required_keys))
            .transpose()
    }

    /// One field's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

// ---------------------------------------------------------------------------

/// What happens to the AWS resource when its custom resource is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DeletionPolicy {
    /// `delete` (the default): delete the AWS resource too.
    #[default]
    Delete,
    /// `retain`: leave the AWS resource in place; only the finalizer goes.
    Retain,
}

impl DeletionPolicy {
    /// The annotation (and flag) value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Retain => "retain",
        }
    }
}

impl FromStr for DeletionPolicy {
    type Err = AnnotationError;

    /// Exact, case-sensitive match, as ACK.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "delete" => Ok(Self::Delete),
            "retain" => Ok(Self::Retain),
            _ => Err(AnnotationError::UnknownDeletionPolicy {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for DeletionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------

/// Parses a [`READ_ONLY`] value: exactly `"true"` or `"false"`.
///
/// Anything else is an error rather than `false`: treating a typo such as
/// `"True"` or `"yes"` as "not read-only" would let the controller modify or
/// delete a resource the user meant to protect.
pub fn parse_read_only(value: &str) -> Result<bool, AnnotationError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AnnotationError::InvalidReadOnly {
            value: value.to_owned(),
        }),
    }
}

/// Reads [`READ_ONLY`]; absent means `false`.
pub fn read_only(annotations: Option<&Annotations>) -> Result<bool, AnnotationError> {
    get(annotations, READ_ONLY).map_or(Ok(false), parse_read_only)
}

/// Reads [`TAKE_OWNERSHIP`]; absent means `false`.
pub fn take_ownership(annotations: Option<&Annotations>) -> Result<bool, AnnotationError> {
    match get(annotations, TAKE_OWNERSHIP) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(value) => Err(AnnotationError::InvalidTakeOwnership {
            value: value.to_owned(),
        }),
    }
}

/// Whether [`ADOPTED`] is `"true"`.
pub fn is_adopted(annotations: Option<&Annotations>) -> bool {
    get(annotations, ADOPTED) == Some(ADOPTED_TRUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_match_ack() {
        assert_eq!(ADOPTION_POLICY, "services.k8s.aws/adoption-policy");
        assert_eq!(ADOPTION_FIELDS, "services.k8s.aws/adoption-fields");
        assert_eq!(ADOPTED, "services.k8s.aws/adopted");
        assert_eq!(DELETION_POLICY, "services.k8s.aws/deletion-policy");
        assert_eq!(READ_ONLY, "services.k8s.aws/read-only");
        assert_eq!(REGION, "services.k8s.aws/region");
        assert_eq!(check_adoption_region(None, "us-west-2"), Ok(()));
        assert_eq!(
            check_adoption_region(Some("us-west-2"), "us-west-2"),
            Ok(())
        );
        let err = check_adoption_region(Some("eu-west-1"), "us-west-2")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("adoption-fields key \"region\"") && err.contains("eu-west-1"),
            "{err}"
        );
        assert_eq!(OWNER_ACCOUNT_ID, "services.k8s.aws/owner-account-id");
        assert_eq!(
            REFRESH_REQUESTED_AT,
            "services.k8s.aws/refresh-requested-at"
        );
        assert_eq!(
            namespace_deletion_policy_annotation("s3"),
            "s3.services.k8s.aws/deletion-policy"
        );
    }

    #[test]
    fn adoption_policy_table() {
        let cases: [(&str, Result<AdoptionPolicy, &str>); 7] = [
            ("adopt", Ok(AdoptionPolicy::Adopt)),
            ("adopt-or-create", Ok(AdoptionPolicy::AdoptOrCreate)),
            (
                "",
                Err(r#"unknown adoption policy ""; expected "adopt" or "adopt-or-create""#),
            ),
            (
                "Adopt",
                Err(r#"unknown adoption policy "Adopt"; expected "adopt" or "adopt-or-create""#),
            ),
            (
                " adopt",
                Err(r#"unknown adoption policy " adopt"; expected "adopt" or "adopt-or-create""#),
            ),
            (
                "create",
                Err(r#"unknown adoption policy "create"; expected "adopt" or "adopt-or-create""#),
            ),
            (
                "adopt_or_create",
                Err(
                    r#"unknown adoption policy "adopt_or_create"; expected "adopt" or "adopt-or-create""#,
                ),
            ),
        ];
        for (input, expected) in cases {
            let got = input.parse::<AdoptionPolicy>().map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(String::from), "{input:?}");
            if let Ok(p) = got {
                assert_eq!(p.as_str(), input);
                assert_eq!(p.to_string(), input);
            }
        }
    }

    #[test]
    fn adoption_policy_from_annotations() {
        assert_eq!(AdoptionPolicy::from_annotations(None), Ok(None));
        assert_eq!(AdoptionPolicy::from_annotations(Some(&ann(&[]))), Ok(None));
        assert_eq!(
            AdoptionPolicy::from_annotations(Some(&ann(&[(ADOPTION_POLICY, "adopt")]))),
            Ok(Some(AdoptionPolicy::Adopt))
        );
        assert_eq!(
            AdoptionPolicy::from_annotations(Some(&ann(&[(ADOPTION_POLICY, "nope")])))
                .unwrap_err()
                .to_string(),
            r#"unknown adoption policy "nope"; expected "adopt" or "adopt-or-create""#
        );
    }

    #[test]
    fn adoption_fields_ok() {
        let f = AdoptionFields::parse(r#"{"name":"b","region":"eu-west-1"}"#, &["name"]).unwrap();
        assert_eq!(f.get("name"), Some("b"));
        assert_eq!(f.get("region"), Some("eu-west-1"));
        assert_eq!(f.get("arn"), None);
        assert_eq!(
            AdoptionFields::parse("{}", &[]).unwrap(),
            AdoptionFields::default()
        );
        assert_eq!(
            AdoptionFields::parse(r#" { "arn" : "arn:aws:x" } "#, &["arn"])
                .unwrap()
                .get("arn"),
            Some("arn:aws:x")
        );
    }

    #[test]
    fn adoption_fields_errors() {
        let cases: [(&str, &[&str], &str); 10] = [
            (
                "",
                &[],
                r#"annotation "services.k8s.aws/adoption-fields" is not valid JSON (EOF while parsing a value at line 1 column 0): """#,
            ),
            (
                "{name: b}",
                &[],
                r#"annotation "services.k8s.aws/adoption-fields" is not valid JSON (key must be a string at line 1 column 2): "{name: b}""#,
            ),
            (
                r#"{"name":"b""#,
                &[],
                r#"annotation "services.k8s.aws/adoption-fields" is not valid JSON (EOF while parsing an object at line 1 column 11): "{\"name\":\"b\"""#,
            ),
            (
                r#"["b"]"#,
                &[],
                r#"annotation "services.k8s.aws/adoption-fields" must be a JSON object of strings, got "[\"b\"]""#,
            ),
            (
                r#""b""#,
                &[],
                r#"annotation "services.k8s.aws/adoption-fields" must be a JSON object of strings, got "\"b\"""#,
            ),
            (
                r#"{"name":1}"#,
                &[],
                r#"annotation "services.k8s.aws/adoption-fields": value of key "name" must be a string, got 1"#,
            ),
            (
                r#"{"name":{"inner":"x"}}"#,
                &[],
                r#"annotation "services.k8s.aws/adoption-fields": value of key "name" must be a string, got {"inner":"x"}"#,
            ),
            (
                r#"{"name":null}"#,
                &["name"],
                r#"annotation "services.k8s.aws/adoption-fields": value of key "name" must be a string, got null"#,
            ),
            (
                r#"{"arn":"x"}"#,
                &["name"],
                r#"annotation "services.k8s.aws/adoption-fields" is missing required key "name""#,
            ),
            (
                r#"{"name":""}"#,
                &["name"],
                r#"annotation "services.k8s.aws/adoption-fields": required key "name" is empty"#,
            ),
        ];
        for (json, required, expected) in cases {
            let err = AdoptionFields::parse(json, required).expect_err(json);
            assert_eq!(err.to_string(), expected, "{json:?}");
        }
        assert_eq!(
            AnnotationError::AdoptionFieldsAbsent.to_string(),
            r#"annotation "services.k8s.aws/adoption-policy" is set but "services.k8s.aws/adoption-fields" is missing"#
        );
    }

    #[test]
    fn adoption_fields_from_annotations() {
        assert_eq!(AdoptionFields::from_annotations(None, &["name"]), Ok(None));
        let a = ann(&[(ADOPTION_FIELDS, r#"{"name":"b"}"#)]);
        assert_eq!(
            AdoptionFields::from_annotations(Some(&a), &["name"])
                .unwrap()
                .unwrap()
                .get("name"),
            Some("b")
        );
        assert!(AdoptionFields::from_annotations(Some(&a), &["arn"]).is_err());
    }

    #[test]
    fn deletion_policy_table() {
        let cases: [(&str, Result<DeletionPolicy, &str>); 6] = [
            ("delete", Ok(DeletionPolicy::Delete)),
            ("retain", Ok(DeletionPolicy::Retain)),
            (
                "",
                Err(r#"unknown deletion policy ""; expected "delete" or "retain""#),
            ),
            (
                "Retain",
                Err(r#"unknown deletion policy "Retain"; expected "delete" or "retain""#),
            ),
            (
                "keep",
                Err(r#"unknown deletion policy "keep"; expected "delete" or "retain""#),
            ),
            (
                "retain ",
                Err(r#"unknown deletion policy "retain "; expected "delete" or "retain""#),
            ),
        ];
        for (input, expected) in cases {
            let got = input.parse::<DeletionPolicy>().map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(String::from), "{input:?}");
            if let Ok(p) = got {
                assert_eq!(p.to_string(), input);
            }
        }
        assert_eq!(DeletionPolicy::default(), DeletionPolicy::Delete);
    }

    #[test]
    fn read_only_table() {
        let cases: [(&str, Result<bool, &str>); 6] = [
            ("true", Ok(true)),
            ("false", Ok(false)),
            (
                "True",
                Err(
                    r#"invalid read-only value "True" in annotation "services.k8s.aws/read-only"; expected "true" or "false""#,
                ),
            ),
            (
                "yes",
                Err(
                    r#"invalid read-only value "yes" in annotation "services.k8s.aws/read-only"; expected "true" or "false""#,
                ),
            ),
            (
                "",
                Err(
                    r#"invalid read-only value "" in annotation "services.k8s.aws/read-only"; expected "true" or "false""#,
                ),
            ),
            (
                "1",
                Err(
                    r#"invalid read-only value "1" in annotation "services.k8s.aws/read-only"; expected "true" or "false""#,
                ),
            ),
        ];
        for (input, expected) in cases {
            let got = parse_read_only(input).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(String::from), "{input:?}");
        }
        assert_eq!(read_only(None), Ok(false));
        assert_eq!(read_only(Some(&ann(&[]))), Ok(false));
        assert_eq!(read_only(Some(&ann(&[(READ_ONLY, "true")]))), Ok(true));
        assert!(read_only(Some(&ann(&[(READ_ONLY, "TRUE")]))).is_err());
    }

    #[test]
    fn adopted_flag() {
        assert!(!is_adopted(None));
        assert!(!is_adopted(Some(&ann(&[(ADOPTED, "false")]))));
        assert!(!is_adopted(Some(&ann(&[(ADOPTED, "True")]))));
        assert!(is_adopted(Some(&ann(&[(ADOPTED, "true")]))));
    }
}
