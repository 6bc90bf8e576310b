//! Bucket quirks: outside us-east-1 CreateBucket needs the region as its location constraint
//! (and in us-east-1 AWS refuses one), and S3 may store a bucket policy reformatted.

use ack_runtime::{Delta, ReconcileError};
use serde_json::Value;

use crate::Bucket;
use crate::bucket::CreateBucketConfiguration;

/// The one region whose buckets are created without a location constraint.
const DEFAULT_REGION: &str = "us-east-1";

/// Fills `createBucketConfiguration.locationConstraint` from the client's region unless the spec
/// names one; AWS requires it everywhere but us-east-1, where it must be left out.
pub fn before_create(
    client: &aws_sdk_s3::Client,
    desired: &mut Bucket,
) -> Result<(), ReconcileError> {
    let region = client.config().region().map(|r| r.to_string());
    set_location_constraint(desired, region.as_deref());
    Ok(())
}

fn set_location_constraint(desired: &mut Bucket, region: Option<&str>) {
    let Some(region) = region.filter(|r| *r != DEFAULT_REGION) else {
        return;
    };
    let config = desired
        .spec
        .create_bucket_configuration
        .get_or_insert_with(CreateBucketConfiguration::default);
    if config.location_constraint.is_none() {
        config.location_constraint = Some(region.to_string());
    }
}

/// Drops a policy difference that is only formatting.
pub fn delta(desired: &Bucket, latest: &Bucket, delta: &mut Delta) {
    if same_json(&desired.spec.policy, &latest.spec.policy) {
        delta.paths.retain(|p| p != "spec.policy");
    }
}

/// Both are JSON documents that mean the same.
fn same_json(a: &Option<String>, b: &Option<String>) -> bool {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    matches!((parse(a), parse(b)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BucketSpec;

    fn bucket(spec: BucketSpec) -> Bucket {
        Bucket::new("b", spec)
    }

    #[test]
    fn location_constraint_is_the_region_except_in_us_east_1() {
        let mut b = bucket(BucketSpec::default());
        set_location_constraint(&mut b, Some("us-west-2"));
        let config = b.spec.create_bucket_configuration.as_ref().unwrap();
        assert_eq!(config.location_constraint.as_deref(), Some("us-west-2"));

        let mut b = bucket(BucketSpec::default());
        set_location_constraint(&mut b, Some("us-east-1"));
        assert_eq!(b.spec.create_bucket_configuration, None);

        let mut b = bucket(BucketSpec {
            create_bucket_configuration: Some(CreateBucketConfiguration {
                location_constraint: Some("eu-west-1".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        set_location_constraint(&mut b, Some("us-west-2"));
        let config = b.spec.create_bucket_configuration.as_ref().unwrap();
        assert_eq!(
            config.location_constraint.as_deref(),
            Some("eu-west-1"),
            "the spec's wins"
        );
    }

    #[test]
    fn reformatted_policies_are_no_delta() {
        let policy = |p: &str| {
            bucket(BucketSpec {
                policy: Some(p.into()),
                ..Default::default()
            })
        };
        let mut d = Delta {
            paths: vec!["spec.policy".into(), "spec.versioning".into()],
        };
        delta(
            &policy(r#"{"Version":"2012-10-17","Statement":[]}"#),
            &policy(r#"{"Statement": [], "Version": "2012-10-17"}"#),
            &mut d,
        );
        assert_eq!(d.paths, ["spec.versioning"]);
        let mut d = Delta {
            paths: vec!["spec.policy".into()],
        };
        delta(&policy(r#"{"a":1}"#), &policy(r#"{"a":2}"#), &mut d);
        assert_eq!(d.paths, ["spec.policy"]);
    }
}
