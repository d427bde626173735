//! The SDK configuration and the clients one process builds from it, once.

use std::time::Duration;

use aws_config::SdkConfig;

use crate::config::{Config, EksRegions};

/// Bound on one AWS API call including the SDK's retries (IAM, EKS, SNS): a stalled call must not
/// eat the Lambda's whole timeout before the report is logged.
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on one attempt of an AWS API call.
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Loads the SDK configuration from the usual sources (environment, profile, instance role) with
/// the operation timeouts above; the binaries call it once at start-up.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The loader [`load_sdk_config`] uses, for a caller that sets more on it (the CLI's `--profile`
/// and `--region`).
pub fn sdk_config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(AWS_OPERATION_TIMEOUT)
            .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
            .build(),
    )
}

/// The SDK clients one process uses, built once from the SDK configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// The SDK configuration the clients were built from (its credentials sign the EKS token of
    /// the in-cluster checks).
    pub sdk: SdkConfig,
    /// The SDK's region (the default of `EKS_REGIONS`).
    pub region: String,
    /// STS, for the account id.
    pub sts: aws_sdk_sts::Client,
    /// IAM (global).
    pub iam: aws_sdk_iam::Client,
    /// SNS, for notifications.
    pub sns: aws_sdk_sns::Client,
    /// Security Hub, for `SECURITY_HUB=on`.
    pub securityhub: aws_sdk_securityhub::Client,
    /// DynamoDB, for `STATE_TABLE`.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// One EKS client per region of `EKS_REGIONS` (empty when the cross-check is off).
    pub eks: Vec<(String, aws_sdk_eks::Client)>,
}

impl AwsClients {
    /// Builds every client from `sdk`; EKS clients for the regions `config` names.
    pub fn new(sdk: &SdkConfig, config: &Config) -> Self {
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let regions = match &config.eks_regions {
            EksRegions::Disabled => vec![],
            EksRegions::Current => vec![region.clone()],
            EksRegions::List(list) => list.clone(),
        };
        let eks = regions
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let conf = aws_sdk_eks::config::Builder::from(sdk)
                    .region(aws_sdk_eks::config::Region::new(r.clone()))
                    .build();
                (r, aws_sdk_eks::Client::from_conf(conf))
            })
            .collect();
        AwsClients {
            sdk: sdk.clone(),
            region,
            sts: aws_sdk_sts::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            securityhub: aws_sdk_securityhub::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            eks,
        }
    }
}
