//! A client for the emulator's test-only control endpoints (`/_ackrs/...`), kept apart from the
//! AWS-shaped API on purpose.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

pub struct EmulatorControl {
    base: String,
    agent: ureq::Agent,
}

/// One AWS request the emulator served.
#[derive(Clone, Debug, Deserialize)]
pub struct RecordedRequest {
    pub service: String,
    pub operation: String,
    pub status: u16,
    pub error_code: Option<String>,
    pub resource: Option<String>,
}

impl EmulatorControl {
    pub fn new(endpoint: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base: format!("{}/_ackrs", endpoint.trim_end_matches('/')),
            agent,
        }
    }

    /// Gives a resource `aws:` system tags, as AWS itself does outside its public API.
    /// `resource` is a bucket name, queue URL or table ARN.
    pub fn set_system_tags(
        &self,
        service: &str,
        resource: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<()> {
        let body = serde_json::json!({ "service": service, "resource": resource, "tags": tags });
        let mut resp = self
            .agent
            .post(format!("{}/system-tags", self.base))
            .send_json(&body)?;
        if resp.status() != 200 {
            bail!(
                "setting system tags on {resource}: {} {}",
                resp.status(),
                resp.body_mut().read_to_string().unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Every AWS request served since the last [`reset_requests`](Self::reset_requests).
    pub fn requests(&self) -> Result<Vec<RecordedRequest>> {
        let mut resp = self.agent.get(format!("{}/requests", self.base)).call()?;
        resp.body_mut()
            .read_json()
            .context("decoding the emulator's request log")
    }

    pub fn reset_requests(&self) -> Result<()> {
        self.agent
            .delete(format!("{}/requests", self.base))
            .call()?;
        Ok(())
    }
}
