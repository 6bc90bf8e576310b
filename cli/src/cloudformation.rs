//! Reading a CloudFormation stack's resources, nested stacks included.

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;

/// One resource of a stack (or of a stack nested in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackResource {
    /// The stack that holds it (a nested stack's own name).
    pub stack_name: String,
    /// The logical IDs of the nested-stack resources leading to it, outermost first.
    pub nesting: Vec<String>,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}

impl StackResource {
    /// Whether the resource exists in AWS (created, or updated, and not deleted since).
    pub fn exists(&self) -> bool {
        self.physical_id.is_some()
            && !self.status.starts_with("DELETE_COMPLETE")
            && self.status != "CREATE_FAILED"
            && self.status != "CREATE_IN_PROGRESS"
    }
}

pub const NESTED_STACK: &str = "AWS::CloudFormation::Stack";

/// Every resource of `stack` and of the stacks nested in it, in the order CloudFormation lists
/// them. `progress` is told about each stack as it is read.
pub async fn stack_resources(
    cfn: &Client,
    stack: &str,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<Vec<StackResource>> {
    let mut out = Vec::new();
    // (stack name or ID, its nesting path)
    let mut pending = vec![(stack.to_string(), Vec::<String>::new())];
    while let Some((name, nesting)) = pending.pop() {
        let summaries = list(cfn, &name).await?;
        progress(&name, summaries.len());
        let stack_name = display_name(&name);
        for summary in summaries {
            let resource = StackResource {
                stack_name: stack_name.clone(),
                nesting: nesting.clone(),
                logical_id: summary
                    .logical_resource_id()
                    .unwrap_or_default()
                    .to_string(),
                physical_id: summary
                    .physical_resource_id()
                    .filter(|id| !id.is_empty())
                    .map(str::to_string),
                resource_type: summary.resource_type().unwrap_or_default().to_string(),
                status: summary
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            };
            if resource.resource_type == NESTED_STACK && resource.exists() {
                let mut inner = nesting.clone();
                inner.push(resource.logical_id.clone());
                pending.push((resource.physical_id.clone().unwrap(), inner));
            }
            out.push(resource);
        }
    }
    Ok(out)
}

async fn list(
    cfn: &Client,
    stack: &str,
) -> Result<Vec<aws_sdk_cloudformation::types::StackResourceSummary>> {
    let mut pages = cfn
        .list_stack_resources()
        .stack_name(stack)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| {
                let service = e.as_service_error().and_then(|s| s.meta().message());
                match service {
                    Some(message) => anyhow::anyhow!("{message}"),
                    None => anyhow::Error::new(e),
                }
            })
            .with_context(|| format!("listing the resources of stack {stack}"))?;
        all.extend(page.stack_resource_summaries().iter().cloned());
    }
    if all.is_empty() {
        bail!("stack {stack} has no resources");
    }
    Ok(all)
}

/// A stack's name from its name or ARN (`arn:…:stack/<name>/<id>`).
fn display_name(name_or_arn: &str) -> String {
    match name_or_arn.strip_prefix("arn:") {
        Some(rest) => rest
            .split(":stack/")
            .nth(1)
            .and_then(|tail| tail.split('/').next())
            .unwrap_or(name_or_arn)
            .to_string(),
        None => name_or_arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_from_arns() {
        assert_eq!(
            display_name("arn:aws:cloudformation:us-east-1:123456789012:stack/app-Net-1X/abc-def"),
            "app-Net-1X"
        );
        assert_eq!(display_name("app"), "app");
    }
}
