//! The generated conversions between Bucket's CR structures and `aws_sdk_s3`'s types: CR → SDK
//! → CR gives back the original, and a value the SDK cannot take is a terminal error that names
//! the field.

use ack_s3::generated::bucket::*;
use ack_s3::generated::bucket_convert::*;
use ack_s3::generated::common::DateTime;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: s(k),
        value: s(v),
    }
}

#[test]
fn versioning_round_trips() {
    let cr = VersioningConfiguration {
        status: s("Enabled"),
    };
    let sdk = to_sdk_versioning_configuration(&cr, "spec.versioning").unwrap();
    assert_eq!(
        sdk.status(),
        Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled)
    );
    assert_eq!(from_sdk_versioning_configuration(&sdk), cr);
}

#[test]
fn lifecycle_with_rules_and_filters_round_trips() {
    let cr = BucketLifecycleConfiguration {
        rules: Some(vec![
            LifecycleRule {
                id: s("expire-logs"),
                status: s("Enabled"),
                filter: Some(LifecycleRuleFilter {
                    and: Some(LifecycleRuleAndOperator {
                        prefix: s("logs/"),
                        object_size_greater_than: Some(1024),
                        tags: Some(vec![tag("team", "a"), tag("env", "dev")]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                expiration: Some(LifecycleExpiration {
                    days: Some(30),
                    ..Default::default()
                }),
                transitions: Some(vec![Transition {
                    date: Some(DateTime("2030-01-01T00:00:00Z".into())),
                    storage_class: s("GLACIER"),
                    ..Default::default()
                }]),
                abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                    days_after_initiation: Some(7),
                }),
                ..Default::default()
            },
            LifecycleRule {
                id: s("tmp"),
                status: s("Disabled"),
                filter: Some(LifecycleRuleFilter {
                    tag: Some(tag("tmp", "true")),
                    ..Default::default()
                }),
                noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                    noncurrent_days: Some(5),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]),
    };
    let sdk = to_sdk_bucket_lifecycle_configuration(&cr, "spec.lifecycle").unwrap();
    assert_eq!(sdk.rules().len(), 2);
    assert_eq!(
        sdk.rules()[0].status(),
        &aws_sdk_s3::types::ExpirationStatus::Enabled
    );
    assert_eq!(
        sdk.rules()[0].transitions()[0].date().map(|d| d.secs()),
        Some(1_893_456_000)
    );
    assert_eq!(from_sdk_bucket_lifecycle_configuration(&sdk), cr);
}

#[test]
fn cors_round_trips() {
    let cr = CorsConfiguration {
        cors_rules: Some(vec![CorsRule {
            allowed_methods: Some(vec!["GET".into(), "PUT".into()]),
            allowed_origins: Some(vec!["https://example.com".into()]),
            allowed_headers: Some(vec!["*".into()]),
            max_age_seconds: Some(3000),
            ..Default::default()
        }]),
    };
    let sdk = to_sdk_cors_configuration(&cr, "spec.cors").unwrap();
    assert_eq!(sdk.cors_rules()[0].max_age_seconds(), Some(3000_i32));
    assert_eq!(from_sdk_cors_configuration(&sdk), cr);
}

#[test]
fn encryption_public_access_ownership_tagging_round_trip() {
    let encryption = ServerSideEncryptionConfiguration {
        rules: Some(vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                sse_algorithm: s("aws:kms"),
                kms_master_key_id: s("alias/key"),
            }),
            bucket_key_enabled: Some(true),
            ..Default::default()
        }]),
    };
    let sdk = to_sdk_server_side_encryption_configuration(&encryption, "spec.encryption").unwrap();
    assert_eq!(
        from_sdk_server_side_encryption_configuration(&sdk),
        encryption
    );

    let block = PublicAccessBlockConfiguration {
        block_public_acls: Some(true),
        block_public_policy: Some(false),
        ignore_public_acls: Some(true),
        restrict_public_buckets: None,
    };
    let sdk = to_sdk_public_access_block_configuration(&block, "spec.publicAccessBlock").unwrap();
    assert_eq!(from_sdk_public_access_block_configuration(&sdk), block);

    let ownership = OwnershipControls {
        rules: Some(vec![OwnershipControlsRule {
            object_ownership: s("BucketOwnerEnforced"),
        }]),
    };
    let sdk = to_sdk_ownership_controls(&ownership, "spec.ownershipControls").unwrap();
    assert_eq!(from_sdk_ownership_controls(&sdk), ownership);

    let tagging = Tagging {
        tag_set: Some(vec![tag("a", "1"), tag("b", "2")]),
    };
    let sdk = to_sdk_tagging(&tagging, "spec.tagging").unwrap();
    assert_eq!(from_sdk_tagging(&sdk), tagging);
}

#[test]
fn create_bucket_configuration_round_trips() {
    let cr = CreateBucketConfiguration {
        location_constraint: s("eu-west-1"),
        ..Default::default()
    };
    let sdk = to_sdk_create_bucket_configuration(&cr, "spec.createBucketConfiguration").unwrap();
    assert_eq!(
        sdk.location_constraint(),
        Some(&aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
    );
    assert_eq!(from_sdk_create_bucket_configuration(&sdk), cr);
}

#[test]
fn union_round_trips_and_needs_exactly_one_member() {
    let cr = AnalyticsFilter {
        prefix: s("data/"),
        ..Default::default()
    };
    let sdk = to_sdk_analytics_filter(&cr, "spec.analytics[0].filter").unwrap();
    assert_eq!(sdk.as_prefix().map(String::as_str), Ok("data/"));
    assert_eq!(from_sdk_analytics_filter(&sdk), cr);

    let both = AnalyticsFilter {
        prefix: s("data/"),
        tag: Some(tag("k", "v")),
        ..Default::default()
    };
    let err = to_sdk_analytics_filter(&both, "spec.analytics[0].filter").unwrap_err();
    assert!(err.is_terminal());
    assert!(
        err.to_string()
            .contains("spec.analytics[0].filter: exactly one of")
    );
}

#[test]
fn missing_required_member_is_terminal_and_names_the_path() {
    let cr = BucketLifecycleConfiguration {
        rules: Some(vec![
            LifecycleRule {
                status: s("Enabled"),
                ..Default::default()
            },
            LifecycleRule {
                id: s("no-status"),
                ..Default::default()
            },
        ]),
    };
    let err = to_sdk_bucket_lifecycle_configuration(&cr, "spec.lifecycle").unwrap_err();
    assert!(err.is_terminal());
    assert_eq!(err.code(), Some("InvalidSpec"));
    assert_eq!(
        err.to_string(),
        "InvalidSpec: spec.lifecycle.rules[1].status: required"
    );

    let cr = CorsConfiguration {
        cors_rules: Some(vec![CorsRule {
            allowed_methods: Some(vec!["GET".into()]),
            ..Default::default()
        }]),
    };
    let err = to_sdk_cors_configuration(&cr, "spec.cors").unwrap_err();
    assert_eq!(
        err.to_string(),
        "InvalidSpec: spec.cors.corsRules[0].allowedOrigins: required"
    );
}

#[test]
fn out_of_range_integer_and_bad_timestamp_are_terminal() {
    let cr = CorsRule {
        allowed_methods: Some(vec!["GET".into()]),
        allowed_origins: Some(vec!["*".into()]),
        max_age_seconds: Some(i64::from(i32::MAX) + 1),
        ..Default::default()
    };
    let err = to_sdk_cors_rule(&cr, "spec.cors.corsRules[0]").unwrap_err();
    assert!(err.is_terminal());
    assert!(
        err.to_string()
            .contains("spec.cors.corsRules[0].maxAgeSeconds: 2147483648 does not fit"),
        "{err}"
    );

    let cr = LifecycleExpiration {
        date: Some(DateTime("next tuesday".into())),
        ..Default::default()
    };
    let err = to_sdk_lifecycle_expiration(&cr, "spec.lifecycle.rules[0].expiration").unwrap_err();
    assert!(err.is_terminal());
    assert!(
        err.to_string()
            .starts_with("InvalidSpec: spec.lifecycle.rules[0].expiration.date: "),
        "{err}"
    );
}
