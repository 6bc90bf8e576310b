//! SNS stores the JSON documents it is given (policies, delivery, filter and redrive policies)
//! reformatted, so they are compared as JSON, not as text.

use ack_runtime::Delta;

/// Drops from `delta` every path `same` says holds the same JSON on both sides.
pub fn drop_same_documents(
    delta: &mut Delta,
    documents: &[(&str, &Option<String>, &Option<String>)],
) {
    delta.paths.retain(|path| {
        !documents
            .iter()
            .any(|(p, wanted, actual)| p == path && same_json(wanted, actual))
    });
}

/// Both are JSON documents that mean the same.
pub fn same_json(a: &Option<String>, b: &Option<String>) -> bool {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reformatted_json_is_the_same() {
        let a = Some(r#"{"a":1,"b":[true]}"#.to_string());
        let b = Some("{ \"b\": [true],\n \"a\": 1 }".to_string());
        assert!(same_json(&a, &b));
        assert!(!same_json(&a, &Some(r#"{"a":2,"b":[true]}"#.into())));
        assert!(!same_json(
            &Some("not json".into()),
            &Some("not json".into())
        ));
        let mut delta = Delta {
            paths: vec!["spec.policy".into(), "spec.displayName".into()],
        };
        drop_same_documents(&mut delta, &[("spec.policy", &a, &b)]);
        assert_eq!(delta.paths, ["spec.displayName"]);
    }
}
