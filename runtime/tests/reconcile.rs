//! The reconciler driven end to end with a fake manager: every adoption state, tag handling with
//! system tags in both tag API styles, conditions, deletion policy, read-only and bad input.

mod fake;

use ack_runtime::ReconcileError;
use ack_runtime::annotations::Annotations;
use ack_runtime::annotations::{
    ADOPTED, ADOPTION_FIELDS, ADOPTION_POLICY, DELETION_POLICY, READ_ONLY,
};
use ack_runtime::reconcile::Writeback;
use ack_runtime::references::References;
use ack_runtime::requeue::{Outcome, RequeueDecision};
use ack_runtime::tags::TagApiStyle;
use fake::*;

const STYLES: [TagApiStyle; 2] = [TagApiStyle::FullReplacement, TagApiStyle::AddRemove];

fn stack_tags() -> ack_runtime::Tags {
    tags(&[
        ("aws:cloudformation:stack-name", "app"),
        ("aws:cloudformation:logical-id", "Thing"),
        ("team", "storage"),
        ("services.k8s.aws/namespace", "old"),
    ])
}

fn existing(tags: ack_runtime::Tags) -> Remote {
    Remote {
        size: 5,
        zone: "b".into(),
        tags,
    }
}

#[tokio::test]
async fn create_stores_the_finalizer_before_touching_aws() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let wb = run(&m, &thing("x")).await;
    assert_eq!(wb, Writeback::AddFinalizer);
    assert!(m.mutations().is_empty(), "{:?}", m.calls());
}

#[tokio::test]
async fn create_applies_default_tags_and_reports_synced_with_metadata() {
    for style in STYLES {
        let m = FakeManager::new(style);
        let mut cr = with_finalizer(thing("x"));
        cr.spec.tags = Some(tags(&[("team", "a")]));
        let wb = run(&m, &cr).await;
        let u = update(&wb);
        assert_eq!(m.mutations(), ["create", "sync_tags"]);
        assert_eq!(
            m.remote("x").unwrap().tags,
            tags(&[
                ("ack-rs.dev/owner", "test-cluster/ns/Thing/t"),
                ("services.k8s.aws/controller-version", "fake-v0.1.0"),
                ("services.k8s.aws/namespace", "ns"),
                ("team", "a"),
            ])
        );
        assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
        assert_eq!(condition(&wb, "Ready").unwrap().0, "True");
        let meta = &u.status["ackResourceMetadata"];
        assert_eq!(meta["arn"], "arn:aws:fake:us-west-2:123456789012:x");
        assert_eq!(meta["ownerAccountID"], "123456789012");
        assert_eq!(meta["region"], "us-west-2");
        assert!(matches!(u.requeue, RequeueDecision::Resync(_)));
        assert!(u.events.iter().any(|e| e.reason == "Created"));
    }
}

#[tokio::test]
async fn a_new_resource_is_created_without_reading_its_tags_back() {
    for style in STYLES {
        let m = FakeManager::new(style);
        let mut cr = with_finalizer(thing("x"));
        cr.spec.tags = Some(tags(&[("team", "a")]));
        run(&m, &cr).await;
        // The fake's create reads the resource back, as SQS's does for its ARN; tags are not.
        assert_eq!(m.calls(), ["read_one", "create", "read_one", "sync_tags"]);
    }
}

#[tokio::test]
async fn tags_go_with_the_create_call_where_it_takes_them() {
    let mut m = FakeManager::new(TagApiStyle::AddRemove);
    m.tags_with_create = true;
    let mut cr = with_finalizer(thing("x"));
    cr.spec.tags = Some(tags(&[("team", "a")]));
    let wb = run(&m, &cr).await;
    assert_eq!(m.mutations(), ["create"], "no tag call after the create");
    assert_eq!(
        m.remote("x").unwrap().tags,
        tags(&[
            ("ack-rs.dev/owner", "test-cluster/ns/Thing/t"),
            ("services.k8s.aws/controller-version", "fake-v0.1.0"),
            ("services.k8s.aws/namespace", "ns"),
            ("team", "a"),
        ])
    );
    // Default tags and the ownership stamp went to AWS, not into the CR.
    assert_eq!(
        update(&wb).spec.as_ref().map(|s| &s["tags"]),
        Some(&serde_json::json!({"team": "a"}))
    );
}

#[tokio::test]
async fn the_read_before_the_finalizer_stands_for_the_create_after_it() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let cr = thing("x");
    assert_eq!(run(&m, &cr).await, Writeback::AddFinalizer);
    let wb = run_known_absent(&m, &with_finalizer(cr)).await;
    assert_eq!(m.calls(), ["read_one", "create", "read_one", "sync_tags"]);
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
}

#[tokio::test]
async fn an_existing_resource_without_adoption_policy_is_terminal_and_untouched() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(stack_tags()));
    let wb = run(&m, &thing("x")).await;
    let (status, _, message) = condition(&wb, "ACK.Terminal").unwrap();
    assert_eq!(status, "True");
    assert!(
        message.contains(ADOPTION_POLICY) && message.contains(ADOPTION_FIELDS),
        "{message}"
    );
    assert_eq!(condition(&wb, "Ready").unwrap().0, "False");
    assert!(m.mutations().is_empty());
    // Still retried, on a slow timer.
    assert!(matches!(update(&wb).requeue, RequeueDecision::SlowRetry(_)));
}

fn adopt_cr(policy: &str, name: &str) -> Thing {
    let cr = annotate(thing(""), ADOPTION_POLICY, policy);
    annotate(cr, ADOPTION_FIELDS, &format!(r#"{{"name":"{name}"}}"#))
}

#[tokio::test]
async fn adopt_fills_the_spec_without_system_or_default_tags_and_changes_nothing_but_the_stamp() {
    for style in STYLES {
        let m = FakeManager::new(style).with_remote("x", existing(stack_tags()));
        let wb = run(&m, &adopt_cr("adopt", "x")).await;
        let u = update(&wb);
        assert_eq!(
            m.mutations(),
            ["sync_tags"],
            "adopt changes nothing in AWS but the ownership tag"
        );
        let mut stamped = stack_tags();
        stamped.insert("ack-rs.dev/owner".into(), "test-cluster/ns/Thing/t".into());
        assert_eq!(m.remote("x").unwrap().tags, stamped);
        assert!(u.add_finalizer);
        assert_eq!(u.annotations.get(ADOPTED).map(String::as_str), Some("true"));
        let spec = u.spec.as_ref().expect("spec filled from AWS");
        assert_eq!(spec["name"], "x");
        assert_eq!(spec["size"], 5);
        assert_eq!(spec["tags"], serde_json::json!({"team": "storage"}));
        assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    }
}

#[tokio::test]
async fn after_adoption_spec_edits_are_applied_and_system_tags_kept() {
    for style in STYLES {
        let m = FakeManager::new(style).with_remote("x", existing(stack_tags()));
        let cr = adopt_cr("adopt", "x");
        let adopted = apply(&cr, &run(&m, &cr).await);
        // The user switches to managed mode: edits a setting and the tags.
        let mut edited = adopted.clone();
        edited.spec.size = Some(7);
        edited.spec.tags = Some(tags(&[("team", "platform"), ("cost", "42")]));
        let wb = run(&m, &edited).await;
        assert_eq!(
            condition(&wb, "ACK.ResourceSynced").unwrap().0,
            "True",
            "{wb:?}"
        );
        let remote = m.remote("x").unwrap();
        assert_eq!(remote.size, 7);
        assert_eq!(remote.tags["aws:cloudformation:stack-name"], "app");
        assert_eq!(remote.tags["aws:cloudformation:logical-id"], "Thing");
        assert_eq!(remote.tags["team"], "platform");
        assert_eq!(remote.tags["cost"], "42");
        assert_eq!(remote.tags["services.k8s.aws/namespace"], "ns");
        // Nothing is left to do.
        let before = m.mutations().len();
        let again = run(&m, &apply(&edited, &wb)).await;
        assert_eq!(condition(&again, "ACK.ResourceSynced").unwrap().0, "True");
        assert_eq!(m.mutations().len(), before, "steady state mutates nothing");
    }
}

#[tokio::test]
async fn adopt_of_a_missing_resource_is_terminal() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let wb = run(&m, &adopt_cr("adopt", "missing")).await;
    let (_, _, message) = condition(&wb, "ACK.Terminal").unwrap();
    assert_eq!(message, "adopted resource not found");
    assert_eq!(m.calls(), ["read_one"]);
}

#[tokio::test]
async fn adopt_or_create_adopts_then_drives_the_spec_when_found() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(stack_tags()));
    let mut cr = adopt_cr("adopt-or-create", "x");
    cr.spec.name = "x".into();
    cr.spec.size = Some(9);
    let wb = run(&m, &cr).await;
    let u = update(&wb);
    assert_eq!(u.annotations.get(ADOPTED).map(String::as_str), Some("true"));
    assert!(u.add_finalizer);
    assert_eq!(
        m.remote("x").unwrap().size,
        9,
        "the CR's spec is driven onto AWS"
    );
    // Tags the spec does not declare are left alone; defaults are added.
    let remote_tags = m.remote("x").unwrap().tags;
    assert_eq!(remote_tags["team"], "storage");
    assert_eq!(remote_tags["aws:cloudformation:stack-name"], "app");
}

#[tokio::test]
async fn adopt_or_create_creates_when_not_found() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let mut cr = adopt_cr("adopt-or-create", "y");
    cr.spec.name = "y".into();
    let wb = run(&m, &cr).await;
    assert_eq!(wb, Writeback::AddFinalizer);
    let wb = run(&m, &apply(&cr, &wb)).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    assert!(m.remote("y").is_some());
}

#[tokio::test]
async fn a_restart_between_create_and_status_write_does_not_duplicate_or_fail() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let cr = with_finalizer(thing("x"));
    run(&m, &cr).await; // created; pretend the status write was lost
    let wb = run(&m, &cr).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    assert_eq!(m.calls().iter().filter(|c| *c == "create").count(), 1);
}

#[tokio::test]
async fn bad_annotations_are_terminal_quote_the_value_and_call_nothing() {
    let cases = [
        (adopt_cr("adpot", "x"), "adpot"),
        (
            annotate(
                annotate(thing(""), ADOPTION_POLICY, "adopt"),
                ADOPTION_FIELDS,
                "{name: x",
            ),
            "{name: x",
        ),
        (
            annotate(
                annotate(thing(""), ADOPTION_POLICY, "adopt"),
                ADOPTION_FIELDS,
                r#"{"arn":"a"}"#,
            ),
            "name",
        ),
        (annotate(thing("x"), READ_ONLY, "yes"), "yes"),
    ];
    for (cr, quoted) in cases {
        let m = FakeManager::new(TagApiStyle::AddRemove);
        let wb = run(&m, &cr).await;
        let (status, _, message) = condition(&wb, "ACK.Terminal").expect("terminal");
        assert_eq!(status, "True");
        assert!(
            message.contains(quoted),
            "message {message:?} should quote {quoted:?}"
        );
        assert!(
            m.calls().is_empty(),
            "no AWS call for bad input: {:?}",
            m.calls()
        );
    }
}

#[tokio::test]
async fn an_aws_prefixed_tag_in_the_spec_is_terminal_before_any_call() {
    for key in ["aws:owner", "AWS:Owner"] {
        let m = FakeManager::new(TagApiStyle::FullReplacement);
        let mut cr = with_finalizer(thing("x"));
        cr.spec.tags = Some(tags(&[(key, "me")]));
        let wb = run(&m, &cr).await;
        let (_, _, message) = condition(&wb, "ACK.Terminal").unwrap();
        assert!(message.contains(key), "{message}");
        assert!(m.calls().is_empty());
    }
}

#[tokio::test]
async fn changing_an_immutable_field_is_terminal_and_aws_is_untouched() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    let mut cr = with_finalizer(thing("x"));
    cr.spec.zone = Some("c".into());
    cr.spec.size = Some(8);
    let wb = run(&m, &cr).await;
    let (_, reason, message) = condition(&wb, "ACK.Terminal").unwrap();
    assert_eq!(reason, "ImmutableFieldChanged");
    assert!(message.contains("spec.zone"), "{message}");
    assert!(m.mutations().is_empty());
    assert_eq!(m.remote("x").unwrap().size, 5);
}

#[tokio::test]
async fn late_initialization_fills_unset_fields() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    let wb = run(&m, &with_finalizer(thing("x"))).await;
    let u = update(&wb);
    assert_eq!(u.spec.as_ref().unwrap()["zone"], "b");
    assert_eq!(condition(&wb, "ACK.LateInitialized").unwrap().0, "True");
}

#[tokio::test]
async fn read_only_reports_drift_and_changes_nothing() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(stack_tags()));
    let mut cr = annotate(thing("x"), READ_ONLY, "true");
    cr.spec.size = Some(1);
    let wb = run(&m, &cr).await;
    let (status, reason, message) = condition(&wb, "ACK.ResourceSynced").unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ReadOnlyDrift")
    );
    assert!(message.contains("spec.size"), "{message}");
    assert!(m.mutations().is_empty());
    assert!(
        !update(&wb).add_finalizer,
        "read-only never takes ownership"
    );

    let m = FakeManager::new(TagApiStyle::AddRemove);
    let wb = run(&m, &annotate(thing("y"), READ_ONLY, "true")).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().1, "ReadOnly");
    assert!(m.mutations().is_empty(), "read-only never creates");
}

fn deleting(cr: Thing) -> Thing {
    let mut cr = with_finalizer(cr);
    cr.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-11-26T00:00:00Z".parse().unwrap(),
    ));
    cr
}

#[tokio::test]
async fn deletion_policy_precedence_and_read_only() {
    let ns_retain = std::collections::BTreeMap::from([(
        "fake.services.k8s.aws/deletion-policy".to_string(),
        "retain".to_string(),
    )]);
    // (CR being deleted, namespace annotations, deleted in AWS?)
    let cases: [(Thing, Option<&Annotations>, bool); 5] = [
        (deleting(thing("x")), None, true),
        (
            deleting(annotate(thing("x"), DELETION_POLICY, "retain")),
            None,
            false,
        ),
        (deleting(thing("x")), Some(&ns_retain), false),
        (
            deleting(annotate(thing("x"), DELETION_POLICY, "delete")),
            Some(&ns_retain),
            true,
        ),
        (
            deleting(annotate(thing("x"), READ_ONLY, "true")),
            None,
            false,
        ),
    ];
    for (i, (cr, ns, deleted)) in cases.into_iter().enumerate() {
        let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
        let wb = run_with(&m, &cr, &settings(), ns).await;
        assert!(
            matches!(wb, Writeback::RemoveFinalizer { .. }),
            "case {i}: {wb:?}"
        );
        assert_eq!(m.remote("x").is_none(), deleted, "case {i}");
    }
    // The flag is the last word.
    let mut retain = settings();
    retain.deletion_policy = ack_runtime::DeletionPolicy::Retain;
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    run_with(&m, &deleting(thing("x")), &retain, None).await;
    assert!(m.remote("x").is_some());
}

#[tokio::test]
async fn a_bad_deletion_policy_keeps_the_finalizer() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    let wb = run(&m, &deleting(annotate(thing("x"), DELETION_POLICY, "keep"))).await;
    let (_, _, message) = condition(&wb, "ACK.Terminal").unwrap();
    assert!(message.contains("keep"), "{message}");
    assert!(m.remote("x").is_some());
}

#[tokio::test]
async fn recoverable_errors_back_off_and_clear_once_synced() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    m.aws.lock().unwrap().fail = Some((
        "update",
        ReconcileError::recoverable("ThrottlingException", "slow down"),
    ));
    let mut cr = with_finalizer(thing("x"));
    cr.spec.size = Some(6);
    let wb = run(&m, &cr).await;
    assert_eq!(
        condition(&wb, "ACK.Recoverable").unwrap().1,
        "ThrottlingException"
    );
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "False");
    assert_eq!(condition(&wb, "Ready").unwrap().0, "False");
    assert_eq!(update(&wb).outcome, Outcome::Recoverable);
    assert!(matches!(update(&wb).requeue, RequeueDecision::Backoff(_)));

    let wb = run(&m, &apply(&cr, &wb)).await;
    assert!(condition(&wb, "ACK.Recoverable").is_none());
    assert_eq!(condition(&wb, "Ready").unwrap().0, "True");
}

#[tokio::test]
async fn a_resource_aws_is_still_creating_is_not_synced_yet() {
    let mut m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    m.ready = false;
    let wb = run(&m, &with_finalizer(thing("x"))).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().1, "Pending");
    assert!(matches!(update(&wb).requeue, RequeueDecision::Backoff(_)));
}

#[tokio::test]
async fn a_steady_state_resync_reads_twice_and_writes_nothing() {
    let m = FakeManager::new(TagApiStyle::FullReplacement);
    let cr = with_finalizer(thing("x"));
    let synced = apply(&cr, &run(&m, &cr).await);
    let synced = apply(&synced, &run(&m, &synced).await); // late-init settles
    m.aws.lock().unwrap().calls.clear();
    let wb = run(&m, &synced).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    assert_eq!(m.calls(), ["read_one", "read_tags"]);
    assert!(update(&wb).spec.is_none(), "no spec write in steady state");
}

#[tokio::test]
async fn adopt_or_create_may_name_the_resource_through_its_spec_alone() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    let found = annotate(thing("x"), ADOPTION_POLICY, "adopt-or-create");
    let wb = run(&m, &found).await;
    assert_eq!(
        update(&wb).annotations.get(ADOPTED).map(String::as_str),
        Some("true")
    );
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");

    let missing = annotate(thing("y"), ADOPTION_POLICY, "adopt-or-create");
    assert_eq!(run(&m, &missing).await, Writeback::AddFinalizer);
    let wb = run(&m, &with_finalizer(missing)).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    assert!(m.remote("y").is_some(), "created from the spec");

    // Plain adopt still has to say what to adopt.
    let wb = run(&m, &annotate(thing("x"), ADOPTION_POLICY, "adopt")).await;
    assert_eq!(
        condition(&wb, "ACK.Terminal").unwrap().1,
        "InvalidAdoptionFields"
    );
}

#[tokio::test]
async fn an_update_aws_has_not_applied_yet_is_never_reported_synced() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    m.updates_lag
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut cr = with_finalizer(thing("x"));
    cr.spec.size = Some(6);
    let wb = run(&m, &cr).await;
    let (status, reason, message) = condition(&wb, "ACK.ResourceSynced").unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Pending"));
    assert!(message.contains("spec.size"), "{message}");
    assert_eq!(update(&wb).outcome, Outcome::NotSynced);
    assert!(
        matches!(update(&wb).requeue, RequeueDecision::Backoff(d) if d.as_secs() <= 60),
        "{:?}",
        update(&wb).requeue
    );
    // The status records what AWS has, not what was sent.
    assert_eq!(
        m.calls(),
        ["read_one", "read_tags", "update", "sync_tags", "read_one"]
    );

    // Each reconcile tries again until AWS has the change; only then is it synced.
    let cr = apply(&cr, &wb);
    let wb = run(&m, &cr).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "False");
    m.updates_lag
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let wb = run(&m, &apply(&cr, &wb)).await;
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    assert_eq!(m.remote("x").unwrap().size, 6);
    assert!(matches!(update(&wb).requeue, RequeueDecision::Resync(_)));
}

#[tokio::test]
async fn feature_gates_turn_the_adoption_and_read_only_annotations_off() {
    let mut settings = settings();
    settings.feature_gates.resource_adoption = false;
    // Without ResourceAdoption an adoption annotation means nothing: an existing resource is
    // not adopted (and not taken over either).
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(stack_tags()));
    let cr = annotate(
        annotate(thing("x"), ADOPTION_POLICY, "adopt"),
        ADOPTION_FIELDS,
        r#"{"name":"x"}"#,
    );
    let wb = run_with(&m, &cr, &settings, None).await;
    assert_eq!(condition(&wb, "ACK.Terminal").unwrap().0, "True");
    assert!(!update(&wb).annotations.contains_key(ADOPTED));
    assert!(m.mutations().is_empty());

    // Without ReadOnlyResources a read-only CR is managed like any other.
    let mut settings = fake::settings();
    settings.feature_gates.read_only_resources = false;
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let cr = with_finalizer(annotate(thing("y"), READ_ONLY, "true"));
    let wb = run_with(&m, &cr, &settings, None).await;
    assert_eq!(m.mutations(), ["create", "sync_tags"]);
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    // …and deleting it deletes in AWS.
    let wb = run_with(
        &m,
        &deleting(annotate(thing("y"), READ_ONLY, "true")),
        &settings,
        None,
    )
    .await;
    assert!(matches!(wb, Writeback::RemoveFinalizer { .. }), "{wb:?}");
    assert!(m.remote("y").is_none(), "deleted in AWS");
}

#[tokio::test]
async fn a_delete_waiting_for_aws_keeps_the_finalizer_without_an_error() {
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    m.aws.lock().unwrap().fail = Some((
        "delete",
        ReconcileError::pending("PartDeleting", "removing a part before the whole"),
    ));
    let wb = run(&m, &deleting(thing("x"))).await;
    let (status, reason, message) = condition(&wb, "ACK.ResourceSynced").unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Pending"));
    assert!(message.contains("removing a part"), "{message}");
    assert!(condition(&wb, "ACK.Recoverable").is_none());
    assert!(condition(&wb, "ACK.Terminal").is_none());
    assert_eq!(update(&wb).outcome, Outcome::NotSynced);
    assert!(m.remote("x").is_some(), "nothing deleted yet");
}

#[tokio::test]
async fn an_unresolved_reference_stops_before_any_aws_call() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let why = References::Unresolved("Topic ns/t (spec.topicRef) does not exist".into());
    let wb = run_with_references(&m, &with_finalizer(thing("x")), &why).await;
    assert!(m.calls().is_empty(), "{:?}", m.calls());
    let (status, reason, message) = condition(&wb, "ACK.ReferencesResolved").unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ReferenceUnresolved")
    );
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "False");
    assert_eq!(update(&wb).outcome, Outcome::Recoverable);
}

#[tokio::test]
async fn a_resolved_reference_is_sent_but_never_stored_in_the_spec() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let resolved = References::Resolved(vec![("zone", "z".into())]);
    let wb = run_with_references(&m, &with_finalizer(thing("x")), &resolved).await;
    assert_eq!(m.remote("x").unwrap().zone, "z");
    assert_eq!(condition(&wb, "ACK.ReferencesResolved").unwrap().0, "True");
    assert_eq!(condition(&wb, "ACK.ResourceSynced").unwrap().0, "True");
    if let Some(spec) = &update(&wb).spec {
        assert_eq!(spec["zone"], serde_json::Value::Null, "{spec}");
    }
}

const OWNER: &str = "ack-rs.dev/owner";
/// The fake's CRs live in namespace `ns`; `settings()` names the cluster `test-cluster`.
const MINE: &str = "test-cluster/ns/Thing/t";

#[tokio::test]
async fn create_and_adopt_stamp_the_ownership_tag() {
    for style in STYLES {
        let m = FakeManager::new(style);
        run(&m, &with_finalizer(thing("new"))).await;
        assert_eq!(m.remote("new").unwrap().tags[OWNER], MINE, "{style:?}");

        let m = FakeManager::new(style).with_remote("x", existing(stack_tags()));
        let wb = run(&m, &adopt_cr("adopt", "x")).await;
        assert_eq!(m.mutations(), ["sync_tags"], "only the stamp: {style:?}");
        let mut want = stack_tags();
        want.insert(OWNER.into(), MINE.into());
        assert_eq!(m.remote("x").unwrap().tags, want);
        let spec = update(&wb).spec.clone().unwrap();
        assert_eq!(
            spec["tags"],
            serde_json::json!({"team": "storage"}),
            "never in the spec"
        );
        // Managing after adoption keeps it; a spec without tags never untags it.
        let adopted = apply(&adopt_cr("adopt", "x"), &wb);
        let mut bare = adopted.clone();
        bare.spec.tags = Some(tags(&[]));
        run(&m, &bare).await;
        assert_eq!(m.remote("x").unwrap().tags[OWNER], MINE, "{style:?}");
    }
}

#[tokio::test]
async fn a_resource_owned_elsewhere_is_refused_until_taken_over() {
    for (policy, style) in [
        ("adopt", TagApiStyle::AddRemove),
        ("adopt-or-create", TagApiStyle::FullReplacement),
    ] {
        let theirs = "other-cluster/team-b/Thing/assets";
        let mut remote_tags = stack_tags();
        remote_tags.insert(OWNER.into(), theirs.into());
        let m = FakeManager::new(style).with_remote("x", existing(remote_tags.clone()));
        let mut cr = adopt_cr(policy, "x");
        cr.spec.name = "x".into();
        cr.spec.size = Some(9);
        let wb = run(&m, &cr).await;
        let (status, reason, message) = condition(&wb, "ACK.Terminal").expect("refused");
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("True", "ResourceOwnedElsewhere")
        );
        assert!(
            message.contains("Thing team-b/assets in cluster other-cluster")
                && message.contains("ack-rs.dev/take-ownership"),
            "{message}"
        );
        assert!(m.mutations().is_empty(), "{policy}: {:?}", m.calls());
        assert_eq!(m.remote("x").unwrap().tags, remote_tags);
        assert_eq!(m.remote("x").unwrap().size, 5);
        assert!(!update(&wb).annotations.contains_key(ADOPTED), "{policy}");

        // With the take-over annotation: adopted and stamped with this CR.
        let taking = annotate(cr, "ack-rs.dev/take-ownership", "true");
        let wb = run(&m, &taking).await;
        assert_eq!(
            condition(&wb, "ACK.ResourceSynced").unwrap().0,
            "True",
            "{wb:?}"
        );
        assert_eq!(m.remote("x").unwrap().tags[OWNER], MINE);
        assert_eq!(
            m.remote("x").unwrap().tags["aws:cloudformation:stack-name"],
            "app"
        );
    }
    // A bad value is an annotation error, before any call.
    let m = FakeManager::new(TagApiStyle::AddRemove).with_remote("x", existing(tags(&[])));
    let wb = run(
        &m,
        &annotate(adopt_cr("adopt", "x"), "ack-rs.dev/take-ownership", "yes"),
    )
    .await;
    let (_, reason, message) = condition(&wb, "ACK.Terminal").unwrap();
    assert_eq!(reason, "InvalidAnnotation");
    assert!(message.contains("\"yes\""), "{message}");
    assert!(m.calls().is_empty());
}

#[tokio::test]
async fn a_managed_resource_taken_over_elsewhere_is_left_alone() {
    let m = FakeManager::new(TagApiStyle::AddRemove);
    let mut cr = with_finalizer(thing("x"));
    cr.spec.size = Some(3);
    let created = apply(&cr, &run(&m, &cr).await);
    // Another cluster takes it over.
    let theirs = "other-cluster/ns/Thing/t";
    m.aws
        .lock()
        .unwrap()
        .resources
        .get_mut("x")
        .unwrap()
        .tags
        .insert(OWNER.into(), theirs.into());
    let mut edited = created.clone();
    edited.spec.size = Some(4);
    let before = m.mutations();
    let wb = run(&m, &edited).await;
    assert_eq!(
        condition(&wb, "ACK.Terminal").unwrap().1,
        "ResourceOwnedElsewhere"
    );
    assert_eq!(m.mutations(), before, "no update, no tag call");
    assert_eq!(m.remote("x").unwrap().size, 3);
    // Deleting this CR lets go of the resource and never deletes it.
    let wb = run(&m, &deleting(edited)).await;
    let Writeback::RemoveFinalizer { events } = wb else {
        panic!("{wb:?}");
    };
    assert!(
        events[0].warning && events[0].note.contains("other-cluster"),
        "{events:?}"
    );
    assert_eq!(m.remote("x").unwrap().tags[OWNER], theirs);
    assert_eq!(m.mutations(), before, "nothing deleted");
    // A read-only CR neither stamps nor checks: it observes.
    let ro = annotate(with_finalizer(thing("x")), READ_ONLY, "true");
    let wb = run(&m, &ro).await;
    assert!(condition(&wb, "ACK.Terminal").is_none(), "{wb:?}");
    assert_eq!(m.mutations(), before);
    // Its own resource a CR deletes as before.
    m.aws
        .lock()
        .unwrap()
        .resources
        .get_mut("x")
        .unwrap()
        .tags
        .insert(OWNER.into(), MINE.into());
    run(&m, &deleting(thing("x"))).await;
    assert!(m.remote("x").is_none());
}
