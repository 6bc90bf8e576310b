//! A client for the emulator's test-only control endpoints (`/_ackrs/...`), kept apart from the
//! AWS-shaped API on purpose.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

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
    /// `Some("injected")` for an injected error answer, `Some("drop")` (status 0) for a dropped
    /// connection; `None` when the emulator really served the call.
    #[serde(default)]
    pub fault: Option<String>,
    /// When the emulator answered, in seconds since the Unix epoch.
    #[serde(default)]
    pub time: f64,
}

/// A fault rule for the emulator (see `testenv/emulator/fidelity/faults.py`): which calls it
/// matches (shell-style patterns over the service and AWS's operation name) and the rate of each
/// fault per matching call.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultRule {
    /// `"sqs"`, `"s3"`, `"dynamodb"`… or a pattern; `*` when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `"GetQueueAttributes"`, `"Delete*"`… ; `*` when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Only calls naming a matching bucket / queue URL / table (a pattern); every call when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Rate (0..=1) of the service's own throttling answer.
    pub throttle: f64,
    /// Rate of HTTP 500 answers.
    pub error500: f64,
    /// Rate of HTTP 503 answers.
    pub error503: f64,
    /// Rate of connections closed without an answer.
    pub drop: f64,
    /// Added to every matching call.
    pub latency_ms: u64,
    /// Every matching call is dropped: the endpoint is down.
    pub outage: bool,
    /// Makes the draws a fixed sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// At most this many faults, then the rule lets calls through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl FaultRule {
    /// A rule for the calls of `service` (a pattern) whose operation matches `operation`.
    pub fn on(service: &str, operation: &str) -> Self {
        Self {
            service: Some(service.into()),
            operation: Some(operation.into()),
            ..Self::default()
        }
    }

    /// Every AWS call on the endpoint fails: no answer at all.
    pub fn outage() -> Self {
        Self {
            outage: true,
            ..Self::default()
        }
    }
}

/// A rule as the emulator reports it, with how often it matched and what it injected.
#[derive(Clone, Debug, Deserialize)]
pub struct FaultReport {
    pub id: u64,
    pub service: String,
    pub operation: String,
    pub matched: u64,
    /// Per fault kind (`throttle`, `error500`, `error503`, `drop`), how many were injected.
    pub injected: BTreeMap<String, u64>,
}

impl FaultReport {
    pub fn injected_total(&self) -> u64 {
        self.injected.values().sum()
    }
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
    /// `resource` is a bucket name, queue URL, table ARN or topic ARN.
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

    /// Adds a fault rule; it applies to calls from now until removed or cleared.
    pub fn add_fault(&self, rule: &FaultRule) -> Result<FaultReport> {
        let mut resp = self
            .agent
            .post(format!("{}/faults", self.base))
            .send_json(rule)?;
        if resp.status() != 200 {
            bail!(
                "adding fault rule {rule:?}: {} {}",
                resp.status(),
                resp.body_mut().read_to_string().unwrap_or_default()
            );
        }
        resp.body_mut()
            .read_json()
            .context("decoding the fault rule")
    }

    /// The active rules with their counts.
    pub fn faults(&self) -> Result<Vec<FaultReport>> {
        let mut resp = self.agent.get(format!("{}/faults", self.base)).call()?;
        resp.body_mut()
            .read_json()
            .context("decoding the fault rules")
    }

    pub fn remove_fault(&self, id: u64) -> Result<()> {
        let resp = self
            .agent
            .delete(format!("{}/faults/{id}", self.base))
            .call()?;
        if resp.status() != 200 {
            bail!("removing fault rule {id}: {}", resp.status());
        }
        Ok(())
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) -> Result<()> {
        self.agent.delete(format!("{}/faults", self.base)).call()?;
        Ok(())
    }
}
