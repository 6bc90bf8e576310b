//! Adoption, as an explicit state machine.
//!
//! Before acting on a resource the reconciler reads it from AWS, then asks
//! [`decide`] what to do given the adoption policy annotation, whether AWS has
//! it, and whether this controller already manages it. Every combination has
//! exactly one answer, listed in the table test below.

use crate::annotations::AdoptionPolicy;

/// ACK's message when an `adopt` target does not exist.
pub const ADOPTED_RESOURCE_NOT_FOUND: &str = "adopted resource not found";

/// What a read from AWS found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Remote {
    /// The AWS resource exists.
    Found,
    /// The AWS resource does not exist.
    NotFound,
}

/// What the reconciler does next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AdoptionDecision {
    /// Create the AWS resource from the spec.
    Create,
    /// Adopt it: fill the spec from AWS (late-initialize every field), set
    /// the `services.k8s.aws/adopted: "true"` annotation, and change nothing
    /// on AWS.
    Adopt,
    /// `adopt-or-create` found the resource: adopt it as [`Adopt`](Self::Adopt)
    /// does, then drive the CR's spec onto AWS as [`Manage`](Self::Manage) does.
    AdoptThenDrive,
    /// Already ours: compare spec with AWS and update what differs.
    Manage,
    /// Stop: the situation needs the user. The message says why.
    Terminal(String),
}

/// Decides what to do with a resource.
///
/// `managed` means this controller created or adopted the resource on an
/// earlier reconcile (e.g. the CR has the `adopted` annotation or recorded
/// identifiers such as an ARN in its status). Get it wrong at your peril:
/// `managed = true` for a resource someone else owns makes the controller
/// overwrite (and on deletion, delete) it.
///
/// Once managed, the policy no longer matters: a managed resource missing from
/// AWS was deleted out of band and is created again, as ACK does.
pub fn decide(policy: Option<AdoptionPolicy>, remote: Remote, managed: bool) -> AdoptionDecision {
    use AdoptionDecision::*;
    match (managed, policy, remote) {
        (true, _, Remote::Found) => Manage,
        (true, _, Remote::NotFound) => Create,
        (false, None, Remote::NotFound) => Create,
        (false, None, Remote::Found) => Terminal(already_exists_message()),
        (false, Some(AdoptionPolicy::Adopt), Remote::Found) => Adopt,
        (false, Some(AdoptionPolicy::Adopt), Remote::NotFound) => {
            Terminal(ADOPTED_RESOURCE_NOT_FOUND.to_owned())
        }
        (false, Some(AdoptionPolicy::AdoptOrCreate), Remote::Found) => AdoptThenDrive,
        (false, Some(AdoptionPolicy::AdoptOrCreate), Remote::NotFound) => Create,
    }
}

fn already_exists_message() -> String {
    format!(
        "the resource already exists in AWS and this controller did not create it; \
         to manage it, set annotation \"{}\" to \"adopt\" or \"adopt-or-create\" \
         and annotation \"{}\" to its identifying fields",
        crate::annotations::ADOPTION_POLICY,
        crate::annotations::ADOPTION_FIELDS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdoptionDecision::*;

    #[test]
    fn every_combination() {
        let exists = already_exists_message();
        let not_found = ADOPTED_RESOURCE_NOT_FOUND.to_owned();
        let adopt = Some(AdoptionPolicy::Adopt);
        let aoc = Some(AdoptionPolicy::AdoptOrCreate);
        #[rustfmt::skip]
        let table = [
            // policy, remote,           managed, decision
            (None,  Remote::Found,    false, Terminal(exists)),
            (None,  Remote::NotFound, false, Create),
            (None,  Remote::Found,    true,  Manage),
            (None,  Remote::NotFound, true,  Create),
            (adopt, Remote::Found,    false, Adopt),
            (adopt, Remote::NotFound, false, Terminal(not_found)),
            (adopt, Remote::Found,    true,  Manage),
            (adopt, Remote::NotFound, true,  Create),
            (aoc,   Remote::Found,    false, AdoptThenDrive),
            (aoc,   Remote::NotFound, false, Create),
            (aoc,   Remote::Found,    true,  Manage),
            (aoc,   Remote::NotFound, true,  Create),
        ];
        let mut seen = std::collections::HashSet::new();
        for (policy, remote, managed, expected) in table {
            assert!(seen.insert((policy, remote, managed)), "duplicate row");
            assert_eq!(
                decide(policy, remote, managed),
                expected,
                "{policy:?} {remote:?} {managed}"
            );
        }
        assert_eq!(seen.len(), 3 * 2 * 2, "table covers every combination");
    }

    #[test]
    fn messages() {
        assert_eq!(
            decide(Some(AdoptionPolicy::Adopt), Remote::NotFound, false),
            Terminal("adopted resource not found".into())
        );
        let Terminal(msg) = decide(None, Remote::Found, false) else {
            panic!("expected Terminal");
        };
        assert_eq!(
            msg,
            "the resource already exists in AWS and this controller did not create it; \
             to manage it, set annotation \"services.k8s.aws/adoption-policy\" to \"adopt\" \
             or \"adopt-or-create\" and annotation \"services.k8s.aws/adoption-fields\" \
             to its identifying fields"
        );
    }
}
