//! Names: ACK's CRD field names, Rust identifiers and type names, and the AWS SDK's names.
//!
//! ACK writes field names in lowerCamelCase and spells a few initialisms in capitals
//! (`KmsMasterKeyId` → `kmsMasterKeyID`, `QueueUrl` → `queueURL`). The list below is the one that
//! reproduces every field name in ACK's published Bucket, Queue and Table CRDs (the
//! `ack_field_names` test checks them all). Notably `URI` is *not* on it: ACK names S3's
//! `Grantee.URI` `uRI`.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Initialisms ACK capitalises inside a name and lower-cases at its start.
const INITIALISMS: &[&str] = &[
    "ACL", "ARN", "CORS", "HTTP", "ID", "KMS", "SQS", "SSE", "TTL", "URL",
];

/// Rust keywords a field could be named after; they become raw identifiers.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "try", "typeof", "unsized", "virtual", "yield",
];

/// The CRD field name ACK gives a botocore member: `KMSMasterKeyId` → `kmsMasterKeyID`.
pub fn field_name(member: &str) -> String {
    let mut out = String::new();
    for (i, word) in words(member).iter().enumerate() {
        let initialism = as_initialism(word);
        match (i, initialism) {
            (0, Some(_)) => out.push_str(&word.to_lowercase()),
            (0, None) => {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_lowercase());
                    out.push_str(chars.as_str());
                }
            }
            (_, Some(capitalised)) => out.push_str(&capitalised),
            (_, None) => out.push_str(word),
        }
    }
    out
}

/// A kind's resource plural as Kubernetes lists it: `Topic` → `topics`, `Policy` → `policies`,
/// `Alias` → `aliases`.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if lower.ends_with('s') || lower.ends_with('x') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// The name of the reference field ACK adds next to a field that holds another resource's
/// identifier: `kmsMasterKeyID` → `kmsMasterKeyRef`, `role` → `roleRef`.
pub fn reference_field_name(field: &str) -> String {
    for (suffix, replacement) in [
        ("IDs", "Refs"),
        ("ARNs", "Refs"),
        ("ID", "Ref"),
        ("ARN", "Ref"),
    ] {
        if let Some(stem) = field.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return format!("{stem}{replacement}");
        }
    }
    format!("{field}Ref")
}

/// A snake_case Rust field identifier: `BlockPublicAcls` → `block_public_acls`,
/// `Type` → `r#type` (returned as `type`; see [`is_rust_keyword`]).
pub fn rust_field(name: &str) -> String {
    let snake = words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    // `type_` and friends keep their trailing underscore.
    if name.ends_with('_') {
        format!("{snake}_")
    } else {
        snake
    }
}

/// An UpperCamelCase Rust type name: `CORSRule` → `CorsRule`, `SSEKMS` → `SseKms`.
pub fn rust_type(shape: &str) -> String {
    words(shape)
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// Whether `ident` must be written as a raw identifier.
pub fn is_rust_keyword(ident: &str) -> bool {
    RUST_KEYWORDS.contains(&ident)
}

/// What serde's `rename_all = "camelCase"` makes of a snake_case field (raw prefix stripped).
pub fn serde_camel_case(ident: &str) -> String {
    let mut out = String::new();
    let mut upper_next = false;
    for c in ident.trim_start_matches("r#").chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The AWS SDK for Rust's field/method name for a botocore member (smithy-rs snake case).
pub fn sdk_member(member: &str) -> String {
    member.to_snake_case()
}

/// The AWS SDK for Rust's type name for a botocore shape.
pub fn sdk_type(shape: &str) -> String {
    shape.to_upper_camel_case()
}

/// The word as ACK spells an initialism (`Kms` → `KMS`, `Acls` → `ACLs`), if it is one.
fn as_initialism(word: &str) -> Option<String> {
    let upper = word.to_uppercase();
    if INITIALISMS.contains(&upper.as_str()) {
        return Some(upper);
    }
    let stem = word.strip_suffix('s')?;
    let upper = stem.to_uppercase();
    INITIALISMS
        .contains(&upper.as_str())
        .then(|| format!("{upper}s"))
}

/// Splits a PascalCase or camelCase name into words. Runs of capitals split before a capital that
/// starts a lower-case word (`KMSMaster` → `KMS`, `Master`) and between known initialisms
/// (`SSEKMS` → `SSE`, `KMS`); digits stay with the word before them (`S3Bucket` → `S3`, `Bucket`).
fn words(name: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = name.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(name.len(), |&(o, _)| o);
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if at(i) == Some('_') {
            i += 1;
            continue;
        }
        if let Some(len) = initialism_at(&name[offset(i)..]) {
            i += len;
        } else if at(i).is_some_and(|c| c.is_uppercase()) {
            i += 1;
            if at(i).is_some_and(|c| c.is_lowercase()) {
                while at(i).is_some_and(|c| c.is_lowercase() || c.is_ascii_digit()) {
                    i += 1;
                }
            } else {
                // A run of capitals, ending before a capital that starts a lower-case word.
                while at(i).is_some_and(|c| c.is_uppercase())
                    && !at(i + 1).is_some_and(|c| c.is_lowercase())
                {
                    i += 1;
                }
                while at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
        } else {
            while at(i).is_some_and(|c| !c.is_uppercase() && c != '_') {
                i += 1;
            }
        }
        words.push(&name[offset(start)..offset(i)]);
    }
    words
}

/// The length of a capitalised initialism (maybe plural) at the start of `rest` that ends where
/// a new word starts, e.g. `SSE` in `SSEKMS` or `ACLs` in `ACLsOwner`.
fn initialism_at(rest: &str) -> Option<usize> {
    INITIALISMS.iter().find_map(|init| {
        let after = rest.strip_prefix(init)?;
        let ends_word = |s: &str| {
            s.chars()
                .next()
                .is_none_or(|c| c.is_uppercase() || c.is_ascii_digit() || c == '_')
        };
        if ends_word(after) {
            Some(init.len())
        } else if let Some(after_plural) = after.strip_prefix('s')
            && ends_word(after_plural)
        {
            Some(init.len() + 1)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_field_names() {
        // One pair per rule; `tests/ack_compat.rs` checks every name in ACK's CRDs.
        let cases = [
            ("QueueName", "queueName"),
            ("QueueUrl", "queueURL"),
            ("QueueArn", "queueARN"),
            ("KmsMasterKeyId", "kmsMasterKeyID"),
            ("KMSMasterKeyId", "kmsMasterKeyID"),
            ("KMSMasterKeyID", "kmsMasterKeyID"),
            ("ReplicaKmsKeyID", "replicaKMSKeyID"),
            (
                "KmsDataKeyReusePeriodSeconds",
                "kmsDataKeyReusePeriodSeconds",
            ),
            ("SqsManagedSseEnabled", "sqsManagedSSEEnabled"),
            ("SSEKMS", "sseKMS"),
            ("SseKmsEncryptedObjects", "sseKMSEncryptedObjects"),
            ("SSEAlgorithm", "sseAlgorithm"),
            ("SSESpecification", "sseSpecification"),
            ("ACL", "acl"),
            ("GrantReadACP", "grantReadACP"),
            ("BlockPublicAcls", "blockPublicACLs"),
            ("CORSRules", "corsRules"),
            ("ID", "id"),
            ("Id", "id"),
            ("TableId", "tableID"),
            ("AccountId", "accountID"),
            ("URI", "uRI"),
            ("S3BucketDestination", "s3BucketDestination"),
            ("HttpRedirectCode", "httpRedirectCode"),
            ("TimeToLiveSpecification", "timeToLiveSpecification"),
            ("AttributeNameTtl", "attributeNameTTL"),
            ("SubnetIds", "subnetIDs"),
            ("Identity", "identity"),
            ("tags", "tags"),
        ];
        for (member, ack) in cases {
            assert_eq!(field_name(member), ack, "{member}");
        }
    }

    #[test]
    fn reference_names() {
        assert_eq!(reference_field_name("kmsMasterKeyID"), "kmsMasterKeyRef");
        assert_eq!(reference_field_name("policy"), "policyRef");
        assert_eq!(reference_field_name("roleARN"), "roleRef");
        assert_eq!(reference_field_name("subnetIDs"), "subnetRefs");
    }

    #[test]
    fn rust_names() {
        assert_eq!(rust_field("BlockPublicAcls"), "block_public_acls");
        assert_eq!(rust_field("KMSMasterKeyId"), "kms_master_key_id");
        assert_eq!(rust_field("URI"), "uri");
        assert_eq!(rust_field("SSEKMS"), "sse_kms");
        assert_eq!(rust_field("type_"), "type_");
        assert_eq!(rust_field("kmsMasterKeyRef"), "kms_master_key_ref");
        assert_eq!(rust_field("S3BucketDestination"), "s3_bucket_destination");
        assert_eq!(rust_type("CORSRule"), "CorsRule");
        assert_eq!(rust_type("SSEKMS"), "SseKms");
        assert_eq!(rust_type("S3KeyFilter"), "S3KeyFilter");
        assert_eq!(
            rust_type("PublicAccessBlockConfiguration"),
            "PublicAccessBlockConfiguration"
        );
        assert!(is_rust_keyword("type"));
    }

    #[test]
    fn serde_camel_case_matches_serde() {
        assert_eq!(serde_camel_case("kms_master_key_id"), "kmsMasterKeyId");
        assert_eq!(serde_camel_case("r#type"), "type");
        assert_eq!(
            serde_camel_case("s3_bucket_destination"),
            "s3BucketDestination"
        );
    }

    #[test]
    fn sdk_names() {
        assert_eq!(sdk_member("SSEKMS"), "ssekms");
        assert_eq!(sdk_member("KMSMasterKeyID"), "kms_master_key_id");
        assert_eq!(sdk_type("CORSConfiguration"), "CorsConfiguration");
    }
}
