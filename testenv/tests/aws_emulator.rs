//! The real AWS SDKs talk to the emulator over HTTP: create, tag, list tags, delete.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, Tag as DdbTag,
};
use aws_sdk_s3::types::{Tag as S3Tag, Tagging};
use testenv::TestEnv;

async fn s3() -> aws_sdk_s3::Client {
    let config = TestEnv::get().aws().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn s3_bucket_create_tag_list_delete() {
    let s3 = s3().await;
    let bucket = unique("testenv-bucket");
    create_bucket(&s3, &bucket).await;
    let tagging = Tagging::builder()
        .tag_set(
            S3Tag::builder()
                .key("team")
                .value("storage")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("team", "storage")]);
    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err());
}

#[tokio::test]
async fn sqs_queue_create_tag_list_delete() {
    let sqs = aws_sdk_sqs::Client::new(&TestEnv::get().aws().await);
    let name = unique("testenv-queue");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    sqs.tag_queue()
        .queue_url(&url)
        .tags("team", "queues")
        .send()
        .await
        .unwrap();
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    assert_eq!(
        tags.tags().cloned().unwrap_or_default(),
        std::collections::HashMap::from([("team".to_string(), "queues".to_string())])
    );
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let listed = sqs
        .list_queues()
        .queue_name_prefix(&name)
        .send()
        .await
        .unwrap();
    assert!(
        listed.queue_urls().is_empty(),
        "queue still listed: {listed:?}"
    );
}

#[tokio::test]
async fn dynamodb_table_create_tag_list_delete() {
    let ddb = aws_sdk_dynamodb::Client::new(&TestEnv::get().aws().await);
    let name = unique("testenv-table");
    let created = ddb
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let arn = created
        .table_description()
        .unwrap()
        .table_arn()
        .unwrap()
        .to_string();
    ddb.tag_resource()
        .resource_arn(&arn)
        .tags(
            DdbTag::builder()
                .key("team")
                .value("tables")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = ddb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("team", "tables")]);
    ddb.delete_table().table_name(&name).send().await.unwrap();
    assert!(ddb.describe_table().table_name(&name).send().await.is_err());
}

#[tokio::test]
async fn control_endpoints_set_system_tags_and_log_requests() {
    let env = TestEnv::get();
    let s3 = s3().await;
    let bucket = unique("testenv-systags");
    create_bucket(&s3, &bucket).await;
    let system = BTreeMap::from([(
        "aws:cloudformation:stack-name".to_string(),
        "app".to_string(),
    )]);
    env.emulator()
        .set_system_tags("s3", &bucket, &system)
        .unwrap();
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].key(), "aws:cloudformation:stack-name");

    let log = env.emulator().requests().unwrap();
    let ours: Vec<&str> = log
        .iter()
        .filter(|r| r.resource.as_deref() == Some(bucket.as_str()))
        .map(|r| r.operation.as_str())
        .collect();
    assert!(ours.contains(&"CreateBucket"), "request log: {ours:?}");
    assert!(ours.contains(&"GetBucketTagging"), "request log: {ours:?}");
}
