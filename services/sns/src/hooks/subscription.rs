//! Subscription quirks: SNS rewrites the JSON documents it stores.

use ack_runtime::Delta;

use super::json::drop_same_documents;
use crate::Subscription;

/// Reformatted JSON documents are no change.
pub fn delta(desired: &Subscription, latest: &Subscription, delta: &mut Delta) {
    let (w, a) = (&desired.spec, &latest.spec);
    drop_same_documents(
        delta,
        &[
            (
                "spec.deliveryPolicy",
                &w.delivery_policy,
                &a.delivery_policy,
            ),
            ("spec.filterPolicy", &w.filter_policy, &a.filter_policy),
            ("spec.redrivePolicy", &w.redrive_policy, &a.redrive_policy),
        ],
    );
}
