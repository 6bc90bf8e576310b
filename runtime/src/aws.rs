//! AWS SDK configuration shared by every service client, the interceptor that counts calls
//! (attempts, retries, throttling answers) and the HTTP connector that applies
//! `--aws-api-throttle`'s token buckets.
//!
//! Retries and adaptive slow-down are the SDK's own (`RetryConfig::adaptive`): a throttling
//! answer lowers the send rate of every client of that service in the process, and successful
//! calls raise it again. The token buckets sit in the connector because only there can a call
//! wait (interceptors are synchronous); the interceptor tells the connector which operation a
//! request belongs to through a request extension.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{ConnectorBuilder, tls};
use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::ErrorKind;

use crate::metrics::{self, ApiCallLabels, Metrics};
use crate::throttle::ApiThrottle;

/// The default credential chain (env, IRSA web identity, Pod Identity, profiles…) with adaptive
/// retries, pointed at `endpoint_url` when one is given. Calls go through `throttle`'s token
/// buckets (see the module docs); the time they wait there is recorded in `metrics`.
/// `http_timeout` (`--http-client-timeout`) bounds each HTTP request, as the Go client's timeout
/// does in ACK; `None` leaves requests unbounded. Attempts are capped, so a call as a whole is
/// bounded too.
pub async fn sdk_config(
    region: Option<&str>,
    endpoint_url: Option<&str>,
    http_timeout: Option<Duration>,
    throttle: Arc<ApiThrottle>,
    metrics: Metrics,
) -> SdkConfig {
    let mut timeouts = TimeoutConfig::builder().connect_timeout(Duration::from_secs(5));
    if let Some(timeout) = http_timeout {
        timeouts = timeouts.operation_attempt_timeout(timeout);
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(RateLimitedHttpClient::new(throttle, metrics))
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .timeout_config(timeouts.build());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Counts every AWS call as `ack_outbound_api_requests_total` (and `_error_total` on failure),
/// and adds its duration (retries included) to the running reconcile's AWS time
/// ([`metrics::aws_time`]). Attach it to each service client's config; it is one place instead of
/// code per operation.
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

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(CallStarted(Instant::now()));
        Ok(())
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
        let labels = labels(self.service, operation);
        if let Some(started) = cfg.load::<CallStarted>() {
            metrics::add_aws_time(started.0.elapsed());
        }
        self.metrics.outbound_requests.get_or_create(&labels).inc();
        if matches!(context.output_or_error(), Some(Err(_))) {
            self.metrics.outbound_errors.get_or_create(&labels).inc();
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let label = CallLabel {
            service: self.service,
            operation: cfg
                .load::<Metadata>()
                .map(|m| m.name().to_string())
                .unwrap_or_else(|| "unknown".into()),
        };
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.metrics
                .retries
                .get_or_create(&labels(self.service, &label.operation))
                .inc();
        }
        context.request_mut().add_extension(label);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The SDK's own classifiers decide what a throttling answer is, as its retries do.
        let action =
            run_classifiers_on_ctx(runtime_components.retry_classifiers(), context.inner());
        if let RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: ErrorKind::ThrottlingError,
            ..
        }) = action
        {
            let operation = cfg
                .load::<Metadata>()
                .map(|m| m.name())
                .unwrap_or("unknown");
            self.metrics
                .throttled
                .get_or_create(&labels(self.service, operation))
                .inc();
        }
        Ok(())
    }
}

fn labels(service: &str, operation: &str) -> ApiCallLabels {
    ApiCallLabels {
        service: service.to_string(),
        op_type: metrics::op_type(operation).to_string(),
        op_id: operation.to_string(),
    }
}

/// Which service and operation a request belongs to, handed from [`CallCounter`] to the
/// connector.
#[derive(Clone, Debug)]
struct CallLabel {
    service: &'static str,
    operation: String,
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxy from the environment),
/// each of whose requests first waits for its token bucket.
#[derive(Debug, Clone)]
pub struct RateLimitedHttpClient {
    inner: SharedHttpClient,
    throttle: Arc<ApiThrottle>,
    metrics: Metrics,
}

impl RateLimitedHttpClient {
    pub fn new(throttle: Arc<ApiThrottle>, metrics: Metrics) -> Self {
        let inner = aws_smithy_http_client::Builder::new().build_with_connector_fn(
            |settings, components| {
                let mut builder = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ));
                builder.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    builder.set_sleep_impl(components.sleep_impl());
                }
                builder.set_proxy_config(Some(ProxyConfig::from_env()));
                builder.build()
            },
        );
        Self {
            inner,
            throttle,
            metrics,
        }
    }
}

impl HttpClient for RateLimitedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RateLimitedConnector {
            inner: self.inner.http_connector(settings, components),
            throttle: self.throttle.clone(),
            metrics: self.metrics.clone(),
        })
    }
}

#[derive(Debug)]
struct RateLimitedConnector {
    inner: SharedHttpConnector,
    throttle: Arc<ApiThrottle>,
    metrics: Metrics,
}

impl HttpConnector for RateLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let limiter = request.extension::<CallLabel>().and_then(|label| {
            let limiter = self.throttle.limiter(label.service, &label.operation)?;
            Some((limiter.clone(), labels(label.service, &label.operation)))
        });
        let Some((limiter, labels)) = limiter else {
            return self.inner.call(request);
        };
        let inner = self.inner.clone();
        let metrics = self.metrics.clone();
        HttpConnectorFuture::new(async move {
            let waited = Instant::now();
            limiter.until_ready().await;
            metrics
                .rate_limiter_wait_seconds
                .get_or_create(&labels)
                .inc_by(waited.elapsed().as_secs_f64());
            inner.call(request).await
        })
    }
}

/// When the current AWS call started (kept in the call's config bag).
#[derive(Debug, Clone)]
struct CallStarted(Instant);

impl Storable for CallStarted {
    type Storer = StoreReplace<Self>;
}
