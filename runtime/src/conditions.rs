//! ACK's status conditions.
//!
//! The JSON shape and the condition type names are ACK's, so dashboards,
//! `kubectl wait --for=condition=ACK.ResourceSynced` and GitOps health checks
//! written for AWS's controllers keep working.
//!
//! Nothing here reads a clock: callers pass `now`, an RFC 3339 timestamp.

use serde::{Deserialize, Serialize};

/// The AWS resource matches the spec (`True`) or not yet (`False`).
pub const RESOURCE_SYNCED: &str = "ACK.ResourceSynced";
/// The controller cannot make progress without the user changing something.
pub const TERMINAL: &str = "ACK.Terminal";
/// A transient failure; the controller retries.
pub const RECOVERABLE: &str = "ACK.Recoverable";
/// Something the user should know that does not stop reconciling.
pub const ADVISORY: &str = "ACK.Advisory";
/// Fields left empty in the spec were filled from AWS.
pub const LATE_INITIALIZED: &str = "ACK.LateInitialized";
/// The resource was adopted.
pub const ADOPTED: &str = "ACK.Adopted";
/// References to other resources were resolved.
pub const REFERENCES_RESOLVED: &str = "ACK.ReferencesResolved";
/// Summary condition for generic tooling; see [`derive_ready`].
pub const READY: &str = "Ready";

/// A condition's status, serialized as Kubernetes spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    True,
    False,
    #[default]
    Unknown,
}

impl From<bool> for Status {
    fn from(b: bool) -> Self {
        if b { Self::True } else { Self::False }
    }
}

/// One entry of `status.conditions`, as ACK writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition type, e.g. [`RESOURCE_SYNCED`].
    #[serde(rename = "type")]
    pub type_: String,
    pub status: Status,
    /// RFC 3339; when `status` last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// A short CamelCase cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Condition {
    /// A condition with no time, reason or message.
    pub fn new(type_: impl Into<String>, status: Status) -> Self {
        Self {
            type_: type_.into(),
            status,
            ..Self::default()
        }
    }

    /// With this reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// With this message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// The condition of this type, if any.
pub fn get_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of this type exists with status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    get_condition(conditions, type_).is_some_and(|c| c.status == Status::True)
}

/// Sets the condition of `new.type_`, adding it if absent. Returns whether
/// anything changed, so callers can skip a status write.
///
/// `lastTransitionTime` becomes `now` when the status changes (or the
/// condition is new) and is kept otherwise, whatever `new` carries, so it
/// really records the transition and a steady state does not rewrite status
/// on every reconcile. Reason and message are taken from `new`.
///
/// Other entries, including duplicates of other types, are left alone and
/// in place.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition, now: &str) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            let last_transition_time =
                if existing.status == new.status && existing.last_transition_time.is_some() {
                    existing.last_transition_time.clone()
                } else {
                    Some(now.to_owned())
                };
            let updated = Condition {
                last_transition_time,
                ..new
            };
            let changed = *existing != updated;
            *existing = updated;
            changed
        }
        None => {
            conditions.push(Condition {
                last_transition_time: Some(now.to_owned()),
                ..new
            });
            true
        }
    }
}

/// Removes every condition of this type. Returns whether one was removed.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    conditions.len() != before
}

/// The `Ready` condition implied by the ACK conditions, without a time (pass
/// it to [`set_condition`]).
///
/// * `ACK.Terminal` `True` → `Ready` `False` with its reason and message;
/// * else `ACK.Recoverable` `True` → likewise;
/// * else `Ready` mirrors `ACK.ResourceSynced` (status, reason, message);
/// * no `ACK.ResourceSynced` yet → `Ready` `Unknown`.
pub fn derive_ready(conditions: &[Condition]) -> Condition {
    for (type_, fallback_reason) in [(TERMINAL, "Terminal"), (RECOVERABLE, "Recoverable")] {
        if let Some(c) = get_condition(conditions, type_).filter(|c| c.status == Status::True) {
            return Condition {
                type_: READY.to_owned(),
                status: Status::False,
                last_transition_time: None,
                reason: Some(
                    c.reason
                        .clone()
                        .unwrap_or_else(|| fallback_reason.to_owned()),
                ),
                message: c.message.clone(),
            };
        }
    }
    match get_condition(conditions, RESOURCE_SYNCED) {
        Some(synced) => Condition {
            type_: READY.to_owned(),
            status: synced.status,
            last_transition_time: None,
            reason: synced.reason.clone(),
            message: synced.message.clone(),
        },
        None => Condition::new(READY, Status::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:05:00Z";

    #[test]
    fn json_matches_ack() {
        let c = Condition {
            type_: RESOURCE_SYNCED.into(),
            status: Status::True,
            last_transition_time: Some(T0.into()),
            reason: None,
            message: Some("Resource synced successfully".into()),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            json!({
                "type": "ACK.ResourceSynced",
                "status": "True",
                "lastTransitionTime": T0,
                "message": "Resource synced successfully",
            })
        );
        assert_eq!(serde_json::from_value::<Condition>(v).unwrap(), c);
        let minimal: Condition =
            serde_json::from_value(json!({"type": "Ready", "status": "Unknown"})).unwrap();
        assert_eq!(minimal, Condition::new(READY, Status::Unknown));
        assert_eq!(serde_json::to_value(Status::False).unwrap(), json!("False"));
        assert!(serde_json::from_value::<Status>(json!("true")).is_err());
    }

    #[test]
    fn type_names_match_ack() {
        assert_eq!(
            [
                RESOURCE_SYNCED,
                TERMINAL,
                RECOVERABLE,
                ADVISORY,
                LATE_INITIALIZED,
                ADOPTED,
                REFERENCES_RESOLVED,
                READY
            ],
            [
                "ACK.ResourceSynced",
                "ACK.Terminal",
                "ACK.Recoverable",
                "ACK.Advisory",
                "ACK.LateInitialized",
                "ACK.Adopted",
                "ACK.ReferencesResolved",
                "Ready"
            ]
        );
    }

    #[test]
    fn set_keeps_time_while_status_is_unchanged() {
        let mut cs = vec![];
        assert!(set_condition(
            &mut cs,
            Condition::new(RESOURCE_SYNCED, Status::False).with_reason("A"),
            T0
        ));
        assert_eq!(cs[0].last_transition_time.as_deref(), Some(T0));

        // same status, same reason: no change at all
        assert!(!set_condition(
            &mut cs,
            Condition::new(RESOURCE_SYNCED, Status::False).with_reason("A"),
            T1
        ));
        assert_eq!(cs[0].last_transition_time.as_deref(), Some(T0));

        // same status, new message: changed, time kept
        assert!(set_condition(
            &mut cs,
            Condition::new(RESOURCE_SYNCED, Status::False)
                .with_reason("B")
                .with_message("m"),
            T1
        ));
        assert_eq!(cs[0].last_transition_time.as_deref(), Some(T0));
        assert_eq!(cs[0].reason.as_deref(), Some("B"));
        assert_eq!(cs[0].message.as_deref(), Some("m"));

        // status flips: time moves, old reason/message dropped
        assert!(set_condition(
            &mut cs,
            Condition::new(RESOURCE_SYNCED, Status::True),
            T1
        ));
        assert_eq!(cs.len(), 1);
        assert_eq!(
            cs[0],
            Condition {
                last_transition_time: Some(T1.into()),
                ..Condition::new(RESOURCE_SYNCED, Status::True)
            }
        );
    }

    #[test]
    fn set_ignores_time_carried_by_new_and_fills_missing_time() {
        let mut cs = vec![Condition::new(TERMINAL, Status::True)]; // written without a time
        let mut new = Condition::new(TERMINAL, Status::True);
        new.last_transition_time = Some("1999-01-01T00:00:00Z".into());
        assert!(set_condition(&mut cs, new, T0));
        assert_eq!(cs[0].last_transition_time.as_deref(), Some(T0));
    }

    #[test]
    fn set_leaves_other_types_in_place() {
        let mut cs = vec![
            Condition::new(ADVISORY, Status::True),
            Condition::new(RESOURCE_SYNCED, Status::False),
        ];
        set_condition(&mut cs, Condition::new(RESOURCE_SYNCED, Status::True), T0);
        set_condition(&mut cs, Condition::new(TERMINAL, Status::True), T0);
        let types: Vec<_> = cs.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [ADVISORY, RESOURCE_SYNCED, TERMINAL]);
        assert_eq!(cs[0], Condition::new(ADVISORY, Status::True));
    }

    #[test]
    fn remove() {
        let mut cs = vec![
            Condition::new(TERMINAL, Status::True),
            Condition::new(RESOURCE_SYNCED, Status::False),
            Condition::new(TERMINAL, Status::False),
        ];
        assert!(remove_condition(&mut cs, TERMINAL));
        assert_eq!(cs, vec![Condition::new(RESOURCE_SYNCED, Status::False)]);
        assert!(!remove_condition(&mut cs, TERMINAL));
    }

    #[test]
    fn helpers() {
        let cs = vec![
            Condition::new(TERMINAL, Status::True),
            Condition::new(RECOVERABLE, Status::False),
        ];
        assert!(is_true(&cs, TERMINAL));
        assert!(!is_true(&cs, RECOVERABLE));
        assert!(!is_true(&cs, RESOURCE_SYNCED));
        assert_eq!(get_condition(&cs, RECOVERABLE), Some(&cs[1]));
        assert_eq!(Status::from(true), Status::True);
        assert_eq!(Status::from(false), Status::False);
    }

    #[test]
    fn derive_ready_table() {
        let synced = |s| {
            Condition::new(RESOURCE_SYNCED, s)
                .with_reason("R")
                .with_message("synced msg")
        };
        let terminal = |s| {
            Condition::new(TERMINAL, s)
                .with_reason("InvalidParameter")
                .with_message("bad input")
        };
        let recoverable = |s| Condition::new(RECOVERABLE, s).with_message("throttled");
        let ready = |s| Condition::new(READY, s);
        let cases: Vec<(Vec<Condition>, Condition)> = vec![
            (vec![], ready(Status::Unknown)),
            (
                vec![Condition::new(ADVISORY, Status::True)],
                ready(Status::Unknown),
            ),
            (
                vec![synced(Status::True)],
                ready(Status::True)
                    .with_reason("R")
                    .with_message("synced msg"),
            ),
            (
                vec![synced(Status::False)],
                ready(Status::False)
                    .with_reason("R")
                    .with_message("synced msg"),
            ),
            (
                vec![Condition::new(RESOURCE_SYNCED, Status::Unknown)],
                ready(Status::Unknown),
            ),
            (
                vec![synced(Status::True), terminal(Status::True)],
                ready(Status::False)
                    .with_reason("InvalidParameter")
                    .with_message("bad input"),
            ),
            (
                vec![synced(Status::True), terminal(Status::False)],
                ready(Status::True)
                    .with_reason("R")
                    .with_message("synced msg"),
            ),
            (
                vec![synced(Status::True), recoverable(Status::True)],
                ready(Status::False)
                    .with_reason("Recoverable")
                    .with_message("throttled"),
            ),
            (
                vec![recoverable(Status::True), terminal(Status::True)],
                ready(Status::False)
                    .with_reason("InvalidParameter")
                    .with_message("bad input"),
            ),
            (
                vec![Condition::new(TERMINAL, Status::True)],
                ready(Status::False).with_reason("Terminal"),
            ),
        ];
        for (conditions, expected) in cases {
            assert_eq!(derive_ready(&conditions), expected, "{conditions:?}");
        }
    }

    fn status() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::True),
            Just(Status::False),
            Just(Status::Unknown)
        ]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        (
            prop::sample::select(vec![RESOURCE_SYNCED, TERMINAL, RECOVERABLE, READY]),
            status(),
            prop::option::of("[AB]"),
            prop::option::of(Just("2023-06-01T00:00:00Z".to_owned())),
        )
            .prop_map(|(t, s, r, time)| Condition {
                reason: r,
                last_transition_time: time,
                ..Condition::new(t, s)
            })
    }

    proptest! {
        #[test]
        fn set_is_idempotent_and_time_tracks_status(
            start in prop::collection::vec(condition(), 0..5),
            new in condition(),
        ) {
            let mut cs = start.clone();
            set_condition(&mut cs, new.clone(), T0);
            let once = cs.clone();
            prop_assert!(!set_condition(&mut cs, new.clone(), T1));
            prop_assert_eq!(&cs, &once);
            let c = get_condition(&cs, &new.type_).unwrap();
            prop_assert_eq!(c.status, new.status);
            prop_assert_eq!(&c.reason, &new.reason);
            let before = get_condition(&start, &new.type_);
            let expected_time = match before {
                Some(b) if b.status == new.status && b.last_transition_time.is_some() => b.last_transition_time.clone(),
                _ => Some(T0.to_owned()),
            };
            prop_assert_eq!(&c.last_transition_time, &expected_time);
            prop_assert_eq!(cs.len(), start.len() + usize::from(before.is_none()));
        }

        #[test]
        fn ready_is_false_whenever_terminal_or_recoverable(cs in prop::collection::vec(condition(), 0..6)) {
            let ready = derive_ready(&cs);
            prop_assert_eq!(ready.type_.as_str(), READY);
            prop_assert!(ready.last_transition_time.is_none());
            if is_true(&cs, TERMINAL) || is_true(&cs, RECOVERABLE) {
                prop_assert_eq!(ready.status, Status::False);
            } else {
                prop_assert_eq!(
                    ready.status,
                    get_condition(&cs, RESOURCE_SYNCED).map_or(Status::Unknown, |c| c.status)
                );
            }
        }
    }
}
