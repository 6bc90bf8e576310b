//! The CloudFormation journey (adopt with the app chart, switch to manage, uninstall with retain)
//! with the controllers as local processes; `incluster.rs` runs it with them as pods.

mod support;

#[tokio::test]
async fn cloudformation_resources_are_adopted_then_managed_with_system_tags_intact() {
    support::journey::journey(support::journey::Controllers::Processes).await;
}
