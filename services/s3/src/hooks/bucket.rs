//! Bucket quirks: outside us-east-1 CreateBucket needs the region as its location constraint
//! (and in us-east-1 AWS refuses one), and S3 may store a bucket policy reformatted.
//!
//! And the calls of three setters over create-time fields (`fields` in `generator.toml`),
//! hand-written because the put call's input is not the get call's output: the ACL (`acl` and
//! `grant*`, read back as grants, see [`acl`]), `objectOwnership` (one rule of the ownership
//! controls) and `objectLockEnabledForBucket` (one member of the object lock configuration).

mod acl;

use ack_runtime::{Delta, ReconcileError};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketCannedAcl, ObjectLockEnabled, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    Type,
};
use serde_json::Value;

use crate::bucket::CreateBucketConfiguration;
use crate::generated::bucket_convert::to_sdk_object_lock_configuration;
use crate::generated::bucket_manager::classify;
use crate::{Bucket, BucketSpec};

/// The one region whose buckets are created without a location constraint.
const DEFAULT_REGION: &str = "us-east-1";

/// The suffix AWS reserves for directory bucket (S3 Express One Zone) names.
const DIRECTORY_BUCKET_SUFFIX: &str = "--x-s3";

/// Fills `createBucketConfiguration.locationConstraint` from the client's region unless the spec
/// names one; AWS requires it everywhere but us-east-1, where it must be left out. A directory
/// bucket has a location (its zone) instead, and only some sub-configurations: one that sets
/// others is refused before any call, as ACK does.
pub fn before_create(
    client: &aws_sdk_s3::Client,
    desired: &mut Bucket,
) -> Result<(), ReconcileError> {
    if desired.spec.name.ends_with(DIRECTORY_BUCKET_SUFFIX) {
        return check_directory_bucket(&desired.spec);
    }
    let region = client.config().region().map(|r| r.to_string());
    set_location_constraint(desired, region.as_deref());
    Ok(())
}

/// Refuses what directory buckets do not support (S3 user guide, "Differences for directory
/// buckets"): they take encryption, lifecycle, policy and tags only.
fn check_directory_bucket(spec: &BucketSpec) -> Result<(), ReconcileError> {
    let unsupported: Vec<&str> = [
        ("abac", spec.abac.is_some()),
        ("accelerate", spec.accelerate.is_some()),
        ("analytics", spec.analytics.is_some()),
        ("acl", spec.acl.is_some()),
        ("grantFullControl", spec.grant_full_control.is_some()),
        ("grantRead", spec.grant_read.is_some()),
        ("grantReadACP", spec.grant_read_acp.is_some()),
        ("grantWrite", spec.grant_write.is_some()),
        ("grantWriteACP", spec.grant_write_acp.is_some()),
        ("cors", spec.cors.is_some()),
        ("intelligentTiering", spec.intelligent_tiering.is_some()),
        ("inventory", spec.inventory.is_some()),
        ("logging", spec.logging.is_some()),
        ("metrics", spec.metrics.is_some()),
        ("notification", spec.notification.is_some()),
        (
            "objectLockConfiguration",
            spec.object_lock_configuration.is_some(),
        ),
        (
            "objectLockEnabledForBucket",
            spec.object_lock_enabled_for_bucket.is_some(),
        ),
        ("objectOwnership", spec.object_ownership.is_some()),
        ("ownershipControls", spec.ownership_controls.is_some()),
        ("publicAccessBlock", spec.public_access_block.is_some()),
        ("replication", spec.replication.is_some()),
        ("requestPayment", spec.request_payment.is_some()),
        ("versioning", spec.versioning.is_some()),
        ("website", spec.website.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    if unsupported.is_empty() {
        return Ok(());
    }
    Err(ReconcileError::terminal(
        "InvalidSpec",
        format!(
            "directory buckets (names ending {DIRECTORY_BUCKET_SUFFIX}) do not support: {}",
            unsupported.join(", ")
        ),
    ))
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

/// The spec's grant header fields, by the permission each grants.
fn grant_fields(spec: &mut BucketSpec) -> [(&'static str, &mut Option<String>); 5] {
    let [full, read, read_acp, write, write_acp] = acl::PERMISSIONS;
    [
        (full, &mut spec.grant_full_control),
        (read, &mut spec.grant_read),
        (read_acp, &mut spec.grant_read_acp),
        (write, &mut spec.grant_write),
        (write_acp, &mut spec.grant_write_acp),
    ]
}

/// PutBucketAcl with the spec's canned ACL, else its grant headers, else `private` (the setter's
/// reset). AWS refuses a canned ACL together with grant headers; as ACK, the canned ACL wins.
pub async fn put_acl(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    desired: &BucketSpec,
) -> Result<(), ReconcileError> {
    let call = client.put_bucket_acl().bucket(bucket);
    let call = match &desired.acl {
        Some(canned) => call.acl(BucketCannedAcl::from(canned.as_str())),
        None if [
            &desired.grant_full_control,
            &desired.grant_read,
            &desired.grant_read_acp,
            &desired.grant_write,
            &desired.grant_write_acp,
        ]
        .iter()
        .all(|g| g.is_none()) =>
        {
            call.acl(BucketCannedAcl::Private)
        }
        None => call
            .set_grant_full_control(desired.grant_full_control.clone())
            .set_grant_read(desired.grant_read.clone())
            .set_grant_read_acp(desired.grant_read_acp.clone())
            .set_grant_write(desired.grant_write.clone())
            .set_grant_write_acp(desired.grant_write_acp.clone()),
    };
    call.send().await.map_err(classify)?;
    Ok(())
}

/// GetBucketAcl into the spec's terms: a declared canned ACL stays when the grants are one it
/// gives (several give the same grants), else the first canned ACL that fits (none: `None`); a
/// declared grant header stays when AWS grants that permission to the same grantees, else it is
/// AWS's. With nothing declared (adoption) the canned ACL that fits, else AWS's grant headers.
pub async fn get_acl(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    spec: &mut BucketSpec,
) -> Result<(), ReconcileError> {
    let output = client
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .map_err(classify)?;
    let owner = output.owner().and_then(|o| o.id()).unwrap_or_default();
    let grants: Vec<acl::Grant> = output
        .grants()
        .iter()
        .filter_map(|g| {
            let grantee = g.grantee()?;
            let who = match grantee.r#type() {
                Type::CanonicalUser => acl::Grantee::Id(grantee.id()?.to_string()),
                Type::Group => acl::Grantee::Uri(grantee.uri()?.to_string()),
                Type::AmazonCustomerByEmail => {
                    acl::Grantee::Email(grantee.email_address()?.to_string())
                }
                _ => return None,
            };
            Some(acl::Grant {
                grantee: who,
                permission: g.permission()?.as_str().to_string(),
            })
        })
        .collect();
    let canned = acl::canned_acls(owner, &grants);
    let declares_grants = grant_fields(spec).iter().any(|(_, f)| f.is_some());
    if let Some(wanted) = spec.acl.take() {
        // The grant headers beside a canned ACL are not sent, so they are not compared.
        let fits = canned.contains(&wanted.as_str());
        spec.acl = if fits {
            Some(wanted)
        } else {
            canned.first().map(|c| c.to_string())
        };
    } else if declares_grants {
        for (permission, field) in grant_fields(spec) {
            let aws = acl::header(&grants, permission);
            *field = match (field.take(), aws) {
                (Some(wanted), Some(aws)) if acl::same_grantees(&wanted, &aws) => Some(wanted),
                (_, aws) => aws,
            };
        }
    } else if let Some(first) = canned.first() {
        spec.acl = Some(first.to_string());
    } else {
        for (permission, field) in grant_fields(spec) {
            *field = acl::header(&grants, permission);
        }
    }
    Ok(())
}

/// PutBucketOwnershipControls with the one rule `objectOwnership` names. `ownershipControls`
/// writes the same setting: a spec that sets both must agree.
pub async fn put_object_ownership(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    desired: &BucketSpec,
) -> Result<(), ReconcileError> {
    let Some(ownership) = &desired.object_ownership else {
        return Ok(());
    };
    let rules = desired
        .ownership_controls
        .as_ref()
        .and_then(|c| c.rules.as_ref());
    if let Some(other) = rules
        .into_iter()
        .flatten()
        .filter_map(|r| r.object_ownership.as_deref())
        .find(|o| o != ownership)
    {
        return Err(ReconcileError::terminal(
            "InvalidSpec",
            format!(
                "spec.objectOwnership ({ownership}) and spec.ownershipControls ({other}) set the \
                 bucket's object ownership differently; set one, or both alike"
            ),
        ));
    }
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::from(ownership.as_str()))
        .build()
        .map_err(|e| {
            ReconcileError::terminal("InvalidSpec", format!("spec.objectOwnership: {e}"))
        })?;
    let controls = OwnershipControls::builder()
        .rules(rule)
        .build()
        .map_err(|e| {
            ReconcileError::terminal("InvalidSpec", format!("spec.objectOwnership: {e}"))
        })?;
    client
        .put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(controls)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

/// GetBucketOwnershipControls' first rule; none configured: `None`.
pub async fn get_object_ownership(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    spec: &mut BucketSpec,
) -> Result<(), ReconcileError> {
    spec.object_ownership = match client
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => output
            .ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_string()),
        Err(e) if e.code() == Some("OwnershipControlsNotFoundError") => None,
        Err(e) => return Err(classify(e)),
    };
    Ok(())
}

/// Whether Object Lock is enabled on the bucket.
async fn object_lock_enabled(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<bool, ReconcileError> {
    match client
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => Ok(output
            .object_lock_configuration()
            .and_then(|c| c.object_lock_enabled())
            == Some(&ObjectLockEnabled::Enabled)),
        Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => Ok(false),
        Err(e) => Err(classify(e)),
    }
}

/// `objectLockEnabledForBucket: true` on an existing bucket: PutObjectLockConfiguration with
/// `ObjectLockEnabled=Enabled` (and the spec's retention rule, which the call would otherwise
/// clear), unless it is enabled already. AWS needs versioning enabled first (`generator.toml`
/// orders versioning before it). Object Lock cannot be turned off: `false` on a bucket that has
/// it is Terminal, never silently Synced.
pub async fn enable_object_lock(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    desired: &BucketSpec,
) -> Result<(), ReconcileError> {
    let wanted = desired.object_lock_enabled_for_bucket == Some(true);
    let enabled = object_lock_enabled(client, bucket).await?;
    if enabled && !wanted {
        return Err(ReconcileError::terminal(
            "InvalidSpec",
            "spec.objectLockEnabledForBucket: Object Lock cannot be turned off once a bucket has \
             it; set it to true or leave it out",
        ));
    }
    if enabled || !wanted {
        return Ok(());
    }
    let mut config = desired
        .object_lock_configuration
        .clone()
        .unwrap_or_default();
    config.object_lock_enabled = Some(ObjectLockEnabled::Enabled.as_str().to_string());
    let config = to_sdk_object_lock_configuration(&config, "spec.objectLockConfiguration")?;
    client
        .put_object_lock_configuration()
        .bucket(bucket)
        .object_lock_configuration(config)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

/// Whether GetObjectLockConfiguration says Object Lock is enabled (`false` when not configured).
pub async fn get_object_lock_enabled(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    spec: &mut BucketSpec,
) -> Result<(), ReconcileError> {
    spec.object_lock_enabled_for_bucket = Some(object_lock_enabled(client, bucket).await?);
    Ok(())
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
