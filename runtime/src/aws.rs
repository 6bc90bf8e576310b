//! AWS SDK configuration shared by every service client, and the interceptor that counts calls.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::metrics::{self, ApiCallLabels, Metrics};

/// The default credential chain (env, IRSA web identity, Pod Identity, profiles…) with adaptive
/// retries and bounded timeouts, pointed at `endpoint_url` when one is given.
pub async fn sdk_config(region: Option<&str>, endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        );
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Counts every AWS call as `ack_outbound_api_requests_total` (and `_error_total` on failure).
/// Attach it to each service client's config; it is one place instead of code per operation.
#[derive(Clone)]
pub struct CallCounter {
    pub service: &'static str,
    pub metrics: Metrics,
}

impl std::fmt::Debug for CallCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallCounter")
            .field("service", &self.service)
            .finish()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "ack-call-counter"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name())
            .unwrap_or("unknown");
        let labels = ApiCallLabels {
            service: self.service.to_string(),
            op_type: metrics::op_type(operation).to_string(),
            op_id: operation.to_string(),
        };
        self.metrics.outbound_requests.get_or_create(&labels).inc();
        if matches!(context.output_or_error(), Some(Err(_))) {
            self.metrics.outbound_errors.get_or_create(&labels).inc();
        }
        Ok(())
    }
}
