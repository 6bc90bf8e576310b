//! Tags, handled in one place for every service.
//!
//! Three kinds of tag meet on an AWS resource:
//!
//! * **user tags** — written in the custom resource's spec;
//! * **default tags** — added by the controller to everything it manages,
//!   configured with ACK's `--resource-tags` flag ([`DefaultTags`]);
//! * **system tags** — keys starting with `aws:` (any case), owned by AWS
//!   itself (CloudFormation, Service Catalog, ...). Users may not write them
//!   and the controller must never remove or change them.
//!
//! The flow a reconciler follows:
//!
//! 1. [`validate_user_tags`] on the CR's tags (reject `aws:` keys early, with a
//!    message the user can act on, instead of an opaque AWS error);
//! 2. [`desired_tags`] = CR tags ∪ rendered default tags (CR values win);
//! 3. [`plan`] (or [`plan_full_replacement`] / [`plan_add_remove`]) against the
//!    tags observed on AWS, according to the service's tag API style;
//! 4. [`user_visible_tags`] for whatever is written back into the CR.
//!
//! One more tag belongs to the controller alone: the **ownership tag** ([`OWNER_KEY`]), naming
//! the cluster and the CR that holds the resource ([`Owner`]). It is stamped when a controller
//! creates or adopts a resource, checked before any change ([`check_owner`]), never written
//! into a CR, never accepted from a user, and never removed by a tag plan.
//!
//! Services differ only in their tag API style ([`TagApiStyle`]); nothing here
//! names a service.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

/// A set of tags, key → value. Ordered so plans and messages are deterministic.
pub type Tags = BTreeMap<String, String>;

/// The prefix AWS reserves for its own tags. Compared case-insensitively.
pub const SYSTEM_PREFIX: &str = "aws:";

/// AWS's limit on tag key length, in characters (not bytes).
pub const MAX_KEY_CHARS: usize = 128;

/// AWS's limit on tag value length, in characters (not bytes).
pub const MAX_VALUE_CHARS: usize = 256;

/// AWS's limit on user tags per resource. System (`aws:`) tags do not count.
pub const MAX_USER_TAGS: usize = 50;

/// ACK's default value of `--resource-tags`.
pub const DEFAULT_RESOURCE_TAGS: &str = "services.k8s.aws/controller-version=%CONTROLLER_SERVICE%-%CONTROLLER_VERSION%,services.k8s.aws/namespace=%K8S_NAMESPACE%";

/// Whether `key` is an AWS system tag key: it starts with `aws:` in any case.
///
/// AWS treats the prefix case-insensitively (`AWS:x` is reserved too), so the
/// check must as well.
pub fn is_system_key(key: &str) -> bool {
    key.get(..SYSTEM_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SYSTEM_PREFIX))
}

/// Why a set of user tags is not acceptable to AWS.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TagError {
    /// A key uses the `aws:` prefix, which only AWS may write.
    #[error(
        "tag key {key:?} uses the reserved prefix \"aws:\"; AWS owns system tags and rejects them from users"
    )]
    ReservedPrefix { key: String },
    /// A key is the empty string.
    #[error("tag key \"\" is empty; AWS requires tag keys of 1 to 128 characters")]
    EmptyKey,
    /// A key is longer than [`MAX_KEY_CHARS`].
    #[error(
        "tag key {key:?} is {chars} characters long; AWS allows tag keys of at most 128 characters"
    )]
    KeyTooLong { key: String, chars: usize },
    /// A value is longer than [`MAX_VALUE_CHARS`].
    #[error(
        "tag value {value:?} of key {key:?} is {chars} characters long; AWS allows tag values of at most 256 characters"
    )]
    ValueTooLong {
        key: String,
        value: String,
        chars: usize,
    },
    /// The ownership tag's key, which only the controller writes.
    #[error(
        "tag key {key:?} is the ownership tag ack-rs controllers stamp on the resources they hold; it cannot be set by hand"
    )]
    OwnerKey { key: String },
    /// More than [`MAX_USER_TAGS`] tags.
    #[error("{count} tags requested; AWS allows at most 50 user tags per resource")]
    TooMany { count: usize },
}

/// Checks tags the user asked for against the rules AWS enforces.
///
/// Reports the first problem, scanning keys in order, then the count. Pass the
/// full desired set ([`desired_tags`]) when default tags must count toward the
/// 50-tag limit, as they do on AWS.
///
/// The allowed character set is *not* checked: it differs between services,
/// and AWS's own error is precise enough.
pub fn validate_user_tags(tags: &Tags) -> Result<(), TagError> {
    for (key, value) in tags {
        if is_system_key(key) {
            return Err(TagError::ReservedPrefix { key: key.clone() });
        }
        if key == OWNER_KEY {
            return Err(TagError::OwnerKey { key: key.clone() });
        }
        let key_chars = key.chars().count();
        if key_chars == 0 {
            return Err(TagError::EmptyKey);
        }
        if key_chars > MAX_KEY_CHARS {
            return Err(TagError::KeyTooLong {
                key: key.clone(),
                chars: key_chars,
            });
        }
        let value_chars = value.chars().count();
        if value_chars > MAX_VALUE_CHARS {
            return Err(TagError::ValueTooLong {
                key: key.clone(),
                value: value.clone(),
                chars: value_chars,
            });
        }
    }
    if tags.len() > MAX_USER_TAGS {
        return Err(TagError::TooMany { count: tags.len() });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Default tags (`--resource-tags`)
// ---------------------------------------------------------------------------

/// Template names accepted in default tag values, without the `%` delimiters.
pub const TEMPLATES: [&str; 7] = [
    "CONTROLLER_SERVICE",
    "CONTROLLER_VERSION",
    "K8S_NAMESPACE",
    "K8S_RESOURCE_NAME",
    "K8S_RESOURCE_KIND",
    "MANAGED_BY",
    "KRO_VERSION",
];

/// The CR label `%MANAGED_BY%` stands for.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// The CR label `%KRO_VERSION%` stands for.
pub const KRO_VERSION_LABEL: &str = "kro.run/kro-version";

/// Why the `--resource-tags` flag text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DefaultTagsError {
    /// An entry has no `=`.
    #[error("--resource-tags entry {entry:?} is not of the form key=value")]
    MissingEquals { entry: String },
    /// An entry's key is empty (`=value`).
    #[error("--resource-tags entry {entry:?} has an empty key")]
    EmptyKey { entry: String },
    /// An entry's key uses the `aws:` prefix.
    #[error(
        "--resource-tags key {key:?} uses the reserved prefix \"aws:\"; AWS owns system tags and rejects them"
    )]
    ReservedKey { key: String },
    /// An entry's key is the ownership tag's.
    #[error(
        "--resource-tags key {key:?} is the ownership tag the controller stamps itself; choose another key"
    )]
    OwnerKey { key: String },
    /// A key appears twice.
    #[error("--resource-tags key {key:?} is given more than once")]
    DuplicateKey { key: String },
    /// A key contains a `%TEMPLATE%`; keys must be fixed so the controller can
    /// recognise its own tags on AWS.
    #[error(
        "--resource-tags key {key:?} contains a template; templates are only allowed in values"
    )]
    TemplateInKey { key: String },
    /// A value contains a `%NAME%` token that is not a known template.
    #[error(
        "--resource-tags entry {entry:?} uses unknown template \"%{template}%\"; known templates are %CONTROLLER_SERVICE%, %CONTROLLER_VERSION%, %K8S_NAMESPACE%, %K8S_RESOURCE_NAME%, %K8S_RESOURCE_KIND%, %MANAGED_BY%, %KRO_VERSION%"
    )]
    UnknownTemplate { entry: String, template: String },
}

/// The values substituted into default tag templates for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagContext<'a> {
    /// `%CONTROLLER_SERVICE%`, the service alias (e.g. the controller's short name).
    pub service: &'a str,
    /// `%CONTROLLER_VERSION%`.
    pub controller_version: &'a str,
    /// `%K8S_NAMESPACE%`.
    pub namespace: &'a str,
    /// `%K8S_RESOURCE_NAME%`.
    pub name: &'a str,
    /// `%K8S_RESOURCE_KIND%`.
    pub kind: &'a str,
    /// `%MANAGED_BY%`: the CR's [`MANAGED_BY_LABEL`] label, empty without it.
    pub managed_by: &'a str,
    /// `%KRO_VERSION%`: the CR's [`KRO_VERSION_LABEL`] label, empty without it.
    pub kro_version: &'a str,
}

impl TagContext<'_> {
    fn lookup(&self, template: &str) -> Option<&str> {
        match template {
            "CONTROLLER_SERVICE" => Some(self.service),
            "CONTROLLER_VERSION" => Some(self.controller_version),
            "K8S_NAMESPACE" => Some(self.namespace),
            "K8S_RESOURCE_NAME" => Some(self.name),
            "K8S_RESOURCE_KIND" => Some(self.kind),
            "MANAGED_BY" => Some(self.managed_by),
            "KRO_VERSION" => Some(self.kro_version),
            _ => None,
        }
    }
}

/// The controller's default tags: fixed keys, values possibly templated.
///
/// Parsed once at start-up from `--resource-tags`; rendered per resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultTags {
    templates: Tags,
}

impl Default for DefaultTags {
    /// ACK's default, [`DEFAULT_RESOURCE_TAGS`].
    fn default() -> Self {
        Self::parse(DEFAULT_RESOURCE_TAGS).expect("the built-in default parses")
    }
}

impl DefaultTags {
    /// No default tags (`--resource-tags=""`).
    pub fn none() -> Self {
        Self {
            templates: Tags::new(),
        }
    }

    /// Parses ACK's `--resource-tags` flag: comma-separated `key=value`.
    ///
    /// Whitespace around entries, keys and values is trimmed; empty entries
    /// (`a=b,,c=d`, a trailing comma) are skipped, so an empty flag means "no
    /// default tags". The value is everything after the first `=`, so values
    /// may contain `=` but, being comma-separated, never `,`.
    ///
    /// Stricter than ACK, on purpose: an unknown `%UPPER_CASE%` template, a
    /// template in a key, a duplicate key or an `aws:` key are errors rather
    /// than silently producing odd tags on every resource. A lone `%` (as in
    /// `50%`) is literal text.
    pub fn parse(flag: &str) -> Result<Self, DefaultTagsError> {
        let mut templates = Tags::new();
        for entry in flag.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let Some((key, value)) = entry.split_once('=') else {
                return Err(DefaultTagsError::MissingEquals {
                    entry: entry.to_owned(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(DefaultTagsError::EmptyKey {
                    entry: entry.to_owned(),
                });
            }
            if is_system_key(key) {
                return Err(DefaultTagsError::ReservedKey {
                    key: key.to_owned(),
                });
            }
            if key == OWNER_KEY {
                return Err(DefaultTagsError::OwnerKey {
                    key: key.to_owned(),
                });
            }
            if template_tokens(key).next().is_some() {
                return Err(DefaultTagsError::TemplateInKey {
                    key: key.to_owned(),
                });
            }
            if let Some(unknown) = template_tokens(value).find(|t| !TEMPLATES.contains(t)) {
                return Err(DefaultTagsError::UnknownTemplate {
                    entry: entry.to_owned(),
                    template: unknown.to_owned(),
                });
            }
            if templates.insert(key.to_owned(), value.to_owned()).is_some() {
                return Err(DefaultTagsError::DuplicateKey {
                    key: key.to_owned(),
                });
            }
        }
        Ok(Self { templates })
    }

    /// The default tags for one resource, templates substituted. A tag whose value comes out
    /// empty (e.g. `%MANAGED_BY%` on a CR without that label) is left out, as ACK does.
    pub fn render(&self, ctx: &TagContext<'_>) -> Tags {
        self.templates
            .iter()
            .map(|(k, v)| (k.clone(), expand(v, |t| ctx.lookup(t))))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// The default tag keys. Fixed whatever the resource, which is what lets
    /// [`user_visible_tags`] recognise the controller's own tags on AWS.
    pub fn keys(&self) -> BTreeSet<String> {
        self.templates.keys().cloned().collect()
    }

    /// Whether there are no default tags.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

/// A template token is `%NAME%` with `NAME` non-empty and made of `A-Z`,
/// `0-9`, `_`.
fn is_template_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Splits `text` into literal pieces and template names, in order.
/// `Ok(literal)` / `Err(template name)`; a `%` that does not open a template
/// is literal.
fn template_pieces(text: &str) -> impl Iterator<Item = Result<&str, &str>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut search_from = 0;
        loop {
            let Some(open) = rest[search_from..].find('%').map(|i| i + search_from) else {
                let lit = rest;
                rest = "";
                return Some(Ok(lit));
            };
            if let Some(close) = rest[open + 1..].find('%').map(|i| i + open + 1) {
                let name = &rest[open + 1..close];
                if is_template_name(name) {
                    if open > 0 {
                        let lit = &rest[..open];
                        rest = &rest[open..];
                        return Some(Ok(lit));
                    }
                    rest = &rest[close + 1..];
                    return Some(Err(name));
                }
            }
            // This `%` does not open a template: keep it literal.
            search_from = open + 1;
        }
    })
}

fn template_tokens(text: &str) -> impl Iterator<Item = &str> {
    template_pieces(text).filter_map(|p| p.err())
}

fn expand<'a>(text: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in template_pieces(text) {
        match piece {
            Ok(lit) => out.push_str(lit),
            Err(name) => match lookup(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('%');
                    out.push_str(name);
                    out.push('%');
                }
            },
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Desired state and plans
// ---------------------------------------------------------------------------

/// The tags a resource should carry: the CR's tags ∪ the rendered default
/// tags. On a key present in both, the CR's value wins, so users can override
/// a default.
pub fn desired_tags(cr_tags: &Tags, defaults_rendered: &Tags) -> Tags {
    let mut out = defaults_rendered.clone();
    out.extend(cr_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// The system (`aws:`) tags of `tags`.
pub fn system_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| is_system_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// How a service's API changes tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagApiStyle {
    /// One call replaces the whole tag set (e.g. a `Put…Tagging` call).
    FullReplacement,
    /// Separate tag (add or overwrite) and untag (remove by key) calls.
    AddRemove,
}

/// What to change on AWS for an add/remove tag API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddRemovePlan {
    /// Tags to add or overwrite, in one tag call.
    pub to_set: Tags,
    /// Keys to remove, in one untag call. Sorted.
    pub to_remove: Vec<String>,
}

impl AddRemovePlan {
    /// Whether no call is needed.
    pub fn is_empty(&self) -> bool {
        self.to_set.is_empty() && self.to_remove.is_empty()
    }
}

/// A tag change to make on AWS; see [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPlan {
    /// Send this whole set with the replacing call.
    Replace(Tags),
    /// Make these tag/untag calls.
    AddRemove(AddRemovePlan),
}

/// Plans the tag change for a service's tag API style; `None` when AWS
/// already holds the desired tags.
///
/// `desired` must come from [`desired_tags`] over [validated](validate_user_tags)
/// CR tags, so it holds no `aws:` key; any that slip through are ignored.
pub fn plan(style: TagApiStyle, desired: &Tags, observed: &Tags) -> Option<TagPlan> {
    match style {
        TagApiStyle::FullReplacement => {
            plan_full_replacement(desired, observed).map(TagPlan::Replace)
        }
        TagApiStyle::AddRemove => Some(plan_add_remove(desired, observed))
            .filter(|p| !p.is_empty())
            .map(TagPlan::AddRemove),
    }
}

/// Plans a whole-set replacement: the set to send is the desired user tags ∪
/// every observed `aws:` tag, re-sent unchanged so the call does not strip
/// AWS's tags (and the observed ownership tag, unless `desired` stamps another). `None` when that set equals what AWS holds (no call needed).
///
/// `desired` must hold no `aws:` key (validate first); any that do are ignored
/// in favour of the observed system tags.
///
/// Warning: the returned set can be empty (the user removed every tag and
/// AWS holds no system tags). Some replacing APIs reject an empty set; callers
/// of those must issue the API's delete-all-tags call instead.
pub fn plan_full_replacement(desired: &Tags, observed: &Tags) -> Option<Tags> {
    let mut send = kept_tags(observed);
    send.extend(
        desired
            .iter()
            .filter(|(k, _)| !is_system_key(k))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    (send != *observed).then_some(send)
}

/// Plans tag and untag calls. Never sets or removes an `aws:` key, and never
/// removes the ownership tag ([`OWNER_KEY`]; `desired` may overwrite it). A changed
/// value appears only in `to_set` (the tag call overwrites it), never as an
/// untag followed by a tag. The plan is empty when AWS is in sync.
///
/// `desired` must hold no `aws:` key (validate first); any that do are ignored.
pub fn plan_add_remove(desired: &Tags, observed: &Tags) -> AddRemovePlan {
    let to_set = desired
        .iter()
        .filter(|(k, v)| !is_system_key(k) && observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let to_remove = observed
        .keys()
        .filter(|k| !is_system_key(k) && *k != OWNER_KEY && !desired.contains_key(*k))
        .cloned()
        .collect();
    AddRemovePlan { to_set, to_remove }
}

/// The observed tags that may be written into a CR (spec or status): drops
/// `aws:` keys (a user could never write them back) and default-tag keys
/// (they belong to the controller, and writing them into the spec would pin
/// today's rendered values forever). Used for adoption too.
///
/// Warning: a default key the user set explicitly in the spec is dropped as
/// well; do not overwrite spec tags the CR already sets with this result.
pub fn user_visible_tags(observed: &Tags, default_keys: &BTreeSet<String>) -> Tags {
    observed
        .iter()
        .filter(|(k, _)| !is_system_key(k) && *k != OWNER_KEY && !default_keys.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The observed tags no tag plan takes away: the `aws:` tags and the ownership tag.
fn kept_tags(observed: &Tags) -> Tags {
    observed
        .iter()
        .filter(|(k, _)| is_system_key(k) || *k == OWNER_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

// ---------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------

/// The ownership tag: which cluster and which CR hold the AWS resource ([`Owner`]). A user tag
/// key (AWS counts it among the 50), in ack-rs's own domain so it never meets one of ACK's.
pub const OWNER_KEY: &str = "ack-rs.dev/owner";

/// The longest `--cluster-id`: a DNS label's length, so an ownership value always has room for
/// the CR's namespace and kind.
pub const MAX_CLUSTER_ID_CHARS: usize = 63;

/// The holder of an AWS resource: a cluster and one CR in it, rendered as the ownership tag's
/// value `<cluster>/<namespace>/<Kind>/<name>`.
///
/// The CR is named, not its UID, so a CR deleted with `retain` and applied again (or restored
/// from Git) is the same owner. A value that would pass AWS's 256 characters (a very long CR
/// name) carries `sha256-` and a digest of the name instead of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    value: String,
}

impl Owner {
    pub fn new(cluster_id: &str, namespace: &str, kind: &str, name: &str) -> Self {
        let value = format!("{cluster_id}/{namespace}/{kind}/{name}");
        if value.chars().count() <= MAX_VALUE_CHARS {
            return Self { value };
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(name.as_bytes());
        let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
        Self {
            value: format!("{cluster_id}/{namespace}/{kind}/sha256-{hex}"),
        }
    }

    /// The ownership tag's value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The tag to stamp.
    pub fn tag(&self) -> (String, String) {
        (OWNER_KEY.to_owned(), self.value.clone())
    }
}

/// Checks a `--cluster-id`: it goes into tag values of every service, so it keeps to the
/// characters all of them accept, without `/` (the value's separator).
pub fn check_cluster_id(id: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-_.:=+@".contains(c);
    if id.is_empty() || id.chars().count() > MAX_CLUSTER_ID_CHARS || !id.chars().all(ok_char) {
        return Err(format!(
            "cluster ID {id:?} must be 1 to {MAX_CLUSTER_ID_CHARS} characters of letters, digits \
             and - _ . : = + @"
        ));
    }
    Ok(())
}

/// The resource's ownership tag names someone else.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "the AWS resource is owned by {} (tag {OWNER_KEY}={value:?}); nothing was changed in AWS. To \
     move it here, stop managing it there (or delete that CR with deletion-policy retain), then \
     set annotation \"ack-rs.dev/take-ownership: true\" on this CR",
    describe_owner(.value)
)]
pub struct ForeignOwner {
    /// The ownership tag's value.
    pub value: String,
}

/// An ownership value for people: `CR Kind ns/name in cluster X`.
pub fn describe_owner(value: &str) -> String {
    let parts: Vec<&str> = value.splitn(4, '/').collect();
    match parts.as_slice() {
        [cluster, namespace, kind, name] => {
            format!("{kind} {namespace}/{name} in cluster {cluster}")
        }
        _ => format!("{value:?}"),
    }
}

/// The ownership tag's value on `observed` when it names someone other than `me`.
pub fn foreign_owner<'a>(observed: &'a Tags, me: &Owner) -> Option<&'a str> {
    observed
        .get(OWNER_KEY)
        .map(String::as_str)
        .filter(|v| *v != me.value())
}

/// Whether `me` may hold a resource with tags `observed`: yes when it carries no ownership tag
/// or `me`'s, or when the CR asks to take it over.
pub fn check_owner(observed: &Tags, me: &Owner, take_over: bool) -> Result<(), ForeignOwner> {
    match foreign_owner(observed, me) {
        Some(value) if !take_over => Err(ForeignOwner {
            value: value.to_owned(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx() -> TagContext<'static> {
        TagContext {
            service: "svc",
            controller_version: "v1.2.3",
            namespace: "team-a",
            name: "my-res",
            kind: "Widget",
            managed_by: "",
            kro_version: "",
        }
    }

    #[test]
    fn system_keys_any_case() {
        for (key, expected) in [
            ("aws:foo", true),
            ("AWS:foo", true),
            ("Aws:cloudformation:stack-name", true),
            ("aWs:", true),
            ("aws", false),
            ("aws-foo", false),
            ("foo:aws:", false),
            ("", false),
            ("aw", false),
            ("é", false),
            ("éééé", false),
        ] {
            assert_eq!(is_system_key(key), expected, "{key:?}");
        }
    }

    #[test]
    fn validate_table() {
        let long_key = "k".repeat(129);
        let max_key = "é".repeat(128); // 256 bytes, 128 chars: allowed
        let long_value = "v".repeat(257);
        let max_value = "é".repeat(256);
        let many: Tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        let fifty: Tags = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        let cases: Vec<(Tags, Result<(), String>)> = vec![
            (Tags::new(), Ok(())),
            (tags(&[("env", ""), ("team", "a")]), Ok(())),
            (tags(&[(&max_key, &max_value)]), Ok(())),
            (fifty, Ok(())),
            (
                tags(&[("aws:foo", "x")]),
                Err(r#"tag key "aws:foo" uses the reserved prefix "aws:"; AWS owns system tags and rejects them from users"#.into()),
            ),
            (
                tags(&[("AWS:Foo", "x")]),
                Err(r#"tag key "AWS:Foo" uses the reserved prefix "aws:"; AWS owns system tags and rejects them from users"#.into()),
            ),
            (
                tags(&[("", "x")]),
                Err(r#"tag key "" is empty; AWS requires tag keys of 1 to 128 characters"#.into()),
            ),
            (
                tags(&[(&long_key, "x")]),
                Err(format!("tag key {long_key:?} is 129 characters long; AWS allows tag keys of at most 128 characters")),
            ),
            (
                tags(&[("k", &long_value)]),
                Err(format!("tag value {long_value:?} of key \"k\" is 257 characters long; AWS allows tag values of at most 256 characters")),
            ),
            (
                many,
                Err("51 tags requested; AWS allows at most 50 user tags per resource".into()),
            ),
        ];
        for (input, expected) in cases {
            let got = validate_user_tags(&input).map_err(|e| e.to_string());
            assert_eq!(got, expected, "{input:?}");
        }
    }

    #[test]
    fn default_flag_renders_like_ack() {
        let d = DefaultTags::default();
        assert_eq!(
            d.keys(),
            [
                "services.k8s.aws/controller-version",
                "services.k8s.aws/namespace"
            ]
            .map(String::from)
            .into()
        );
        assert_eq!(
            d.render(&ctx()),
            tags(&[
                ("services.k8s.aws/controller-version", "svc-v1.2.3"),
                ("services.k8s.aws/namespace", "team-a"),
            ])
        );
        assert_eq!(d, DefaultTags::parse(DEFAULT_RESOURCE_TAGS).unwrap());
    }

    #[test]
    fn parse_and_render_table() {
        let cases: Vec<(&str, Tags)> = vec![
            ("", Tags::new()),
            ("  ", Tags::new()),
            (",,", Tags::new()),
            ("a=b", tags(&[("a", "b")])),
            (" a = b , c=d ,", tags(&[("a", "b"), ("c", "d")])),
            ("a=", Tags::new()),
            ("m=%MANAGED_BY%", Tags::new()),
            ("a=x=y", tags(&[("a", "x=y")])),
            ("name=%K8S_RESOURCE_NAME%", tags(&[("name", "my-res")])),
            ("kind=%K8S_RESOURCE_KIND%", tags(&[("kind", "Widget")])),
            (
                "all=%CONTROLLER_SERVICE%/%CONTROLLER_VERSION%/%K8S_NAMESPACE%/%K8S_RESOURCE_NAME%/%K8S_RESOURCE_KIND%",
                tags(&[("all", "svc/v1.2.3/team-a/my-res/Widget")]),
            ),
            (
                "twice=%K8S_NAMESPACE%%K8S_NAMESPACE%",
                tags(&[("twice", "team-ateam-a")]),
            ),
            ("pct=50%", tags(&[("pct", "50%")])),
            ("pct=%%", tags(&[("pct", "%%")])),
            ("pct=%lower%", tags(&[("pct", "%lower%")])),
            ("pct=a%b %K8S_NAMESPACE%", tags(&[("pct", "a%b team-a")])),
            ("pct=%x%K8S_NAMESPACE%", tags(&[("pct", "%xteam-a")])),
            ("pct=%%K8S_NAMESPACE%%", tags(&[("pct", "%team-a%")])),
        ];
        for (flag, expected) in cases {
            let d = DefaultTags::parse(flag).unwrap_or_else(|e| panic!("{flag:?}: {e}"));
            assert_eq!(d.render(&ctx()), expected, "{flag:?}");
            assert!(
                d.keys().is_superset(&expected.keys().cloned().collect()),
                "{flag:?}"
            );
        }
        let kro = TagContext {
            managed_by: "kro",
            kro_version: "0.4.0",
            ..ctx()
        };
        let d = DefaultTags::parse("m=%MANAGED_BY%,k=%KRO_VERSION%,a=").unwrap();
        assert_eq!(d.render(&kro), tags(&[("m", "kro"), ("k", "0.4.0")]));
        assert_eq!(d.keys().len(), 3);
        assert!(DefaultTags::none().is_empty());
    }

    #[test]
    fn parse_errors_table() {
        let cases = [
            (
                "novalue",
                r#"--resource-tags entry "novalue" is not of the form key=value"#,
            ),
            (
                "a=b, c",
                r#"--resource-tags entry "c" is not of the form key=value"#,
            ),
            ("=v", r#"--resource-tags entry "=v" has an empty key"#),
            (" = v", r#"--resource-tags entry "= v" has an empty key"#),
            (
                "aws:x=v",
                r#"--resource-tags key "aws:x" uses the reserved prefix "aws:"; AWS owns system tags and rejects them"#,
            ),
            (
                "AWS:x=v",
                r#"--resource-tags key "AWS:x" uses the reserved prefix "aws:"; AWS owns system tags and rejects them"#,
            ),
            (
                "a=1,a=2",
                r#"--resource-tags key "a" is given more than once"#,
            ),
            (
                "%K8S_NAMESPACE%=v",
                r#"--resource-tags key "%K8S_NAMESPACE%" contains a template; templates are only allowed in values"#,
            ),
            (
                "a=%K8S_NAME%",
                r#"--resource-tags entry "a=%K8S_NAME%" uses unknown template "%K8S_NAME%"; known templates are %CONTROLLER_SERVICE%, %CONTROLLER_VERSION%, %K8S_NAMESPACE%, %K8S_RESOURCE_NAME%, %K8S_RESOURCE_KIND%, %MANAGED_BY%, %KRO_VERSION%"#,
            ),
        ];
        for (flag, expected) in cases {
            let err = DefaultTags::parse(flag).expect_err(flag);
            assert_eq!(err.to_string(), expected, "{flag:?}");
        }
    }

    #[test]
    fn desired_cr_wins() {
        let cr = tags(&[("a", "cr"), ("b", "cr")]);
        let defaults = tags(&[("b", "default"), ("c", "default")]);
        assert_eq!(
            desired_tags(&cr, &defaults),
            tags(&[("a", "cr"), ("b", "cr"), ("c", "default")])
        );
    }

    #[test]
    fn full_replacement_table() {
        let sys = ("aws:cloudformation:stack-name", "s");
        let cases: Vec<(Tags, Tags, Option<Tags>)> = vec![
            // in sync
            (Tags::new(), Tags::new(), None),
            (tags(&[("a", "1")]), tags(&[("a", "1")]), None),
            (tags(&[("a", "1")]), tags(&[("a", "1"), sys]), None),
            // changes
            (tags(&[("a", "1")]), Tags::new(), Some(tags(&[("a", "1")]))),
            (
                tags(&[("a", "2")]),
                tags(&[("a", "1")]),
                Some(tags(&[("a", "2")])),
            ),
            (Tags::new(), tags(&[("a", "1")]), Some(Tags::new())),
            (Tags::new(), tags(&[("a", "1"), sys]), Some(tags(&[sys]))),
            (
                tags(&[("b", "2")]),
                tags(&[("a", "1"), sys]),
                Some(tags(&[("b", "2"), sys])),
            ),
            // an aws: key in desired is ignored; the observed value is kept
            (
                tags(&[("aws:cloudformation:stack-name", "mine")]),
                tags(&[sys]),
                None,
            ),
        ];
        for (desired, observed, expected) in cases {
            assert_eq!(
                plan_full_replacement(&desired, &observed),
                expected,
                "{desired:?} over {observed:?}"
            );
        }
    }

    #[test]
    fn add_remove_table() {
        let sys = ("AWS:x", "s");
        let plan_of = |set: &[(&str, &str)], remove: &[&str]| AddRemovePlan {
            to_set: tags(set),
            to_remove: remove.iter().map(|s| s.to_string()).collect(),
        };
        let cases: Vec<(Tags, Tags, AddRemovePlan)> = vec![
            (Tags::new(), Tags::new(), plan_of(&[], &[])),
            (
                tags(&[("a", "1")]),
                tags(&[("a", "1"), sys]),
                plan_of(&[], &[]),
            ),
            (
                tags(&[("a", "1")]),
                Tags::new(),
                plan_of(&[("a", "1")], &[]),
            ),
            // changed value: set only, no untag
            (
                tags(&[("a", "2")]),
                tags(&[("a", "1")]),
                plan_of(&[("a", "2")], &[]),
            ),
            (
                tags(&[("c", "3")]),
                tags(&[("b", "2"), ("a", "1"), sys]),
                plan_of(&[("c", "3")], &["a", "b"]),
            ),
            // aws: keys never set nor removed
            (tags(&[("aws:y", "1")]), tags(&[sys]), plan_of(&[], &[])),
        ];
        for (desired, observed, expected) in cases {
            let got = plan_add_remove(&desired, &observed);
            assert_eq!(got, expected, "{desired:?} over {observed:?}");
            assert_eq!(
                got.is_empty(),
                expected.to_set.is_empty() && expected.to_remove.is_empty()
            );
        }
    }

    #[test]
    fn plan_dispatches_on_style() {
        let desired = tags(&[("a", "1")]);
        let observed = tags(&[("b", "2"), ("aws:s", "x")]);
        assert_eq!(
            plan(TagApiStyle::FullReplacement, &desired, &observed),
            Some(TagPlan::Replace(tags(&[("a", "1"), ("aws:s", "x")])))
        );
        assert_eq!(
            plan(TagApiStyle::AddRemove, &desired, &observed),
            Some(TagPlan::AddRemove(AddRemovePlan {
                to_set: tags(&[("a", "1")]),
                to_remove: vec!["b".into()],
            }))
        );
        let in_sync = tags(&[("a", "1"), ("aws:s", "x")]);
        assert_eq!(plan(TagApiStyle::FullReplacement, &desired, &in_sync), None);
        assert_eq!(plan(TagApiStyle::AddRemove, &desired, &in_sync), None);
    }

    #[test]
    fn the_ownership_tag_is_never_removed_nor_shown() {
        let owner = ("ack-rs.dev/owner", "c1/ns/Queue/jobs");
        let observed = tags(&[owner, ("a", "1"), ("aws:x", "s")]);
        assert_eq!(
            plan_add_remove(&Tags::new(), &observed),
            AddRemovePlan {
                to_set: Tags::new(),
                to_remove: vec!["a".into()],
            }
        );
        assert_eq!(
            plan_full_replacement(&Tags::new(), &observed),
            Some(tags(&[owner, ("aws:x", "s")]))
        );
        // A stamp in desired replaces it.
        let mine = tags(&[("ack-rs.dev/owner", "c2/ns/Queue/jobs")]);
        assert_eq!(
            plan_add_remove(&mine, &observed).to_set,
            mine,
            "overwritten by a tag call"
        );
        assert_eq!(
            plan_full_replacement(&mine, &observed),
            Some(tags(&[
                ("ack-rs.dev/owner", "c2/ns/Queue/jobs"),
                ("aws:x", "s")
            ]))
        );
        assert_eq!(
            user_visible_tags(&observed, &BTreeSet::new()),
            tags(&[("a", "1")])
        );
        assert_eq!(
            validate_user_tags(&tags(&[owner])).unwrap_err().to_string(),
            "tag key \"ack-rs.dev/owner\" is the ownership tag ack-rs controllers stamp on the resources they hold; it cannot be set by hand"
        );
        assert!(matches!(
            DefaultTags::parse("ack-rs.dev/owner=x"),
            Err(DefaultTagsError::OwnerKey { .. })
        ));
    }

    #[test]
    fn owners_are_checked() {
        let me = Owner::new("c1", "ns", "Queue", "jobs");
        assert_eq!(me.value(), "c1/ns/Queue/jobs");
        let with = |v: &str| tags(&[(OWNER_KEY, v), ("a", "1")]);
        assert_eq!(check_owner(&tags(&[("a", "1")]), &me, false), Ok(()));
        assert_eq!(check_owner(&with("c1/ns/Queue/jobs"), &me, false), Ok(()));
        for other in [
            "c2/ns/Queue/jobs",
            "c1/other/Queue/jobs",
            "c1/ns/Queue/jobs2",
        ] {
            let err = check_owner(&with(other), &me, false).unwrap_err();
            assert_eq!(err.value, other);
            assert_eq!(check_owner(&with(other), &me, true), Ok(()), "take-over");
        }
        assert_eq!(
            check_owner(&with("c2/team-b/Queue/jobs"), &me, false)
                .unwrap_err()
                .to_string(),
            "the AWS resource is owned by Queue team-b/jobs in cluster c2 (tag \
             ack-rs.dev/owner=\"c2/team-b/Queue/jobs\"); nothing was changed in AWS. To move it \
             here, stop managing it there (or delete that CR with deletion-policy retain), then \
             set annotation \"ack-rs.dev/take-ownership: true\" on this CR"
        );
        assert_eq!(describe_owner("someone"), "\"someone\"");
        // A CR name too long for a tag value: a digest stands for it, the same every time.
        let long = "n".repeat(253);
        let a = Owner::new(&"c".repeat(63), &"s".repeat(63), "Bucket", &long);
        assert!(
            a.value().chars().count() <= MAX_VALUE_CHARS,
            "{}",
            a.value()
        );
        assert!(a.value().contains("/Bucket/sha256-"));
        assert_eq!(
            a,
            Owner::new(&"c".repeat(63), &"s".repeat(63), "Bucket", &long)
        );
        assert_ne!(
            a,
            Owner::new(&"c".repeat(63), &"s".repeat(63), "Bucket", &"m".repeat(253))
        );
    }

    #[test]
    fn cluster_ids() {
        for ok in ["0f6a1c2e-7d1b-4a5e-9a3c-1b2c3d4e5f60", "prod-eu", "a"] {
            assert_eq!(check_cluster_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/b", "has space", &"x".repeat(64)] {
            assert!(check_cluster_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_visible_drops_system_and_default_keys() {
        let observed = tags(&[
            ("aws:cloudformation:stack-id", "x"),
            ("AWS:other", "y"),
            ("services.k8s.aws/namespace", "ns"),
            ("team", "a"),
        ]);
        assert_eq!(
            user_visible_tags(&observed, &DefaultTags::default().keys()),
            tags(&[("team", "a")])
        );
        assert_eq!(
            user_visible_tags(&observed, &BTreeSet::new()),
            tags(&[("services.k8s.aws/namespace", "ns"), ("team", "a")])
        );
    }

    // ---------------- property tests ----------------

    fn user_key() -> impl Strategy<Value = String> {
        // Small alphabet so desired and observed share keys often.
        "[a-d]{1,2}"
    }

    fn system_key() -> impl Strategy<Value = String> {
        ("[aA][wW][sS]:", "[a-c]{0,2}").prop_map(|(p, s)| format!("{p}{s}"))
    }

    fn value() -> impl Strategy<Value = String> {
        "[xy]{0,2}"
    }

    fn user_tags() -> impl Strategy<Value = Tags> {
        prop::collection::btree_map(user_key(), value(), 0..8)
    }

    fn mixed_tags() -> impl Strategy<Value = Tags> {
        (
            user_tags(),
            prop::collection::btree_map(system_key(), value(), 0..4),
        )
            .prop_map(|(mut u, s)| {
                u.extend(s);
                u
            })
    }

    fn apply_add_remove(observed: &Tags, plan: &AddRemovePlan) -> Tags {
        let mut out = observed.clone();
        for k in &plan.to_remove {
            out.remove(k);
        }
        out.extend(plan.to_set.clone());
        out
    }

    fn converged(desired: &Tags, observed: &Tags) -> Tags {
        let mut want = system_tags(observed);
        want.extend(desired.clone());
        want
    }

    proptest! {
        #[test]
        fn full_replacement_converges_and_keeps_system_tags(desired in user_tags(), observed in mixed_tags()) {
            let after = plan_full_replacement(&desired, &observed).unwrap_or_else(|| observed.clone());
            prop_assert_eq!(&after, &converged(&desired, &observed));
            for (k, v) in observed.iter().filter(|(k, _)| is_system_key(k)) {
                prop_assert_eq!(after.get(k), Some(v));
            }
            prop_assert_eq!(plan_full_replacement(&desired, &after), None);
        }

        #[test]
        fn full_replacement_none_iff_in_sync(desired in user_tags(), observed in mixed_tags()) {
            let in_sync = observed == converged(&desired, &observed);
            prop_assert_eq!(plan_full_replacement(&desired, &observed).is_none(), in_sync);
        }

        #[test]
        fn add_remove_never_touches_system_and_converges(desired in user_tags(), observed in mixed_tags()) {
            let p = plan_add_remove(&desired, &observed);
            prop_assert!(p.to_set.keys().all(|k| !is_system_key(k)));
            prop_assert!(p.to_remove.iter().all(|k| !is_system_key(k)));
            prop_assert!(p.to_remove.iter().all(|k| !p.to_set.contains_key(k)));
            prop_assert!(p.to_remove.windows(2).all(|w| w[0] < w[1]));
            for (k, v) in &p.to_set {
                prop_assert_ne!(observed.get(k), Some(v));
            }
            let after = apply_add_remove(&observed, &p);
            prop_assert_eq!(system_tags(&after), system_tags(&observed));
            prop_assert_eq!(&after, &converged(&desired, &observed));
            prop_assert!(plan_add_remove(&desired, &after).is_empty());
            prop_assert_eq!(p.is_empty(), after == observed);
        }

        #[test]
        fn both_styles_reach_the_same_state(desired in user_tags(), observed in mixed_tags()) {
            let full = plan_full_replacement(&desired, &observed).unwrap_or_else(|| observed.clone());
            let add_remove = apply_add_remove(&observed, &plan_add_remove(&desired, &observed));
            prop_assert_eq!(full, add_remove);
        }

        #[test]
        fn user_visible_has_no_system_or_default_keys(
            observed in mixed_tags(),
            defaults in prop::collection::btree_set(user_key(), 0..4),
        ) {
            let visible = user_visible_tags(&observed, &defaults);
            for (k, v) in &visible {
                prop_assert!(!is_system_key(k));
                prop_assert!(!defaults.contains(k));
                prop_assert_eq!(observed.get(k), Some(v));
            }
            // Nothing else is dropped.
            let dropped = observed.keys().filter(|k| !visible.contains_key(*k));
            for k in dropped {
                prop_assert!(is_system_key(k) || defaults.contains(k));
            }
        }

        #[test]
        fn validate_rejects_any_system_key(user in user_tags(), sys in system_key(), v in value()) {
            let mut t = user;
            t.insert(sys.clone(), v);
            match validate_user_tags(&t) {
                Err(TagError::ReservedPrefix { key }) => prop_assert!(is_system_key(&key)),
                other => prop_assert!(false, "expected ReservedPrefix, got {:?}", other),
            }
        }

        #[test]
        fn validate_accepts_small_user_sets(user in user_tags()) {
            prop_assert_eq!(validate_user_tags(&user), Ok(()));
        }

        #[test]
        fn desired_is_union_with_cr_winning(cr in user_tags(), defaults in user_tags()) {
            let d = desired_tags(&cr, &defaults);
            for (k, v) in &cr {
                prop_assert_eq!(d.get(k), Some(v));
            }
            for (k, v) in &defaults {
                if !cr.contains_key(k) {
                    prop_assert_eq!(d.get(k), Some(v));
                }
            }
            prop_assert!(d.keys().all(|k| cr.contains_key(k) || defaults.contains_key(k)));
        }

        #[test]
        fn parse_and_render_never_panic(flag in "[a-zé%=, A-Z_]{0,24}") {
            if let Ok(d) = DefaultTags::parse(&flag) {
                let rendered = d.render(&ctx());
                prop_assert!(rendered.keys().cloned().collect::<BTreeSet<_>>().is_subset(&d.keys()));
                prop_assert!(rendered.values().all(|v| !v.is_empty()));
                prop_assert!(d.keys().iter().all(|k| !k.is_empty() && !is_system_key(k)));
            }
        }

        #[test]
        fn rendered_keys_are_the_fixed_keys(
            pairs in prop::collection::btree_map("[a-z/.]{1,6}", "[a-z%]{0,4}(%K8S_NAMESPACE%)?", 0..5),
            ns in "[a-z]{1,8}",
        ) {
            let flag = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let d = DefaultTags::parse(&flag).unwrap();
            let c = TagContext { namespace: &ns, ..ctx() };
            let rendered = d.render(&c);
            prop_assert!(rendered.keys().cloned().collect::<BTreeSet<_>>().is_subset(&d.keys()));
            for (k, v) in &pairs {
                let value = v.replace("%K8S_NAMESPACE%", &ns);
                prop_assert_eq!(rendered.get(k), Some(&value).filter(|v| !v.is_empty()));
            }
        }
    }
}
