//! EKS clusters of the scanned regions (ListClusters, DescribeCluster). Owned by the EKS/roles work.
//!
//! Regions are read concurrently; in each, the cluster names are listed with the SDK paginator and
//! described at most [`DESCRIBE_CONCURRENCY`] at a time. A region that cannot be listed, or a cluster
//! that cannot be described, becomes an INVENTORY_INCOMPLETE finding and the rest goes on. A region
//! counts as scanned only when every one of its clusters was read, so that ORPHAN_PROVIDER never fires
//! for a provider whose cluster merely could not be described.

use crate::aws::AwsError;
use futures::stream::{self, StreamExt};
use serde_json::json;

use super::model::Cluster;
use crate::aws::partition_of;
use crate::report::{Finding, FindingCode};

/// DescribeCluster calls in flight per region.
pub const DESCRIBE_CONCURRENCY: usize = 8;

/// Lists and describes the clusters of every `(region, client)` pair.
///
/// Returns the clusters (sorted by region, then name), the regions whose clusters were all read, and an
/// INVENTORY_INCOMPLETE finding per region or cluster that could not be read.
pub async fn list_clusters(
    clients: &[(String, aws_sdk_eks::Client)],
    account_id: &str,
) -> (Vec<Cluster>, Vec<String>, Vec<Finding>) {
    let per_region = futures::future::join_all(
        clients
            .iter()
            .map(|(region, client)| list_region(region, client, account_id)),
    )
    .await;
    let mut clusters = Vec::new();
    let mut scanned_regions = Vec::new();
    let mut problems = Vec::new();
    for (region, (region_clusters, region_problems)) in
        clients.iter().map(|(r, _)| r).zip(per_region)
    {
        if region_problems.is_empty() {
            scanned_regions.push(region.clone());
        }
        clusters.extend(region_clusters);
        problems.extend(region_problems);
    }
    clusters.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    (clusters, scanned_regions, problems)
}

/// The clusters of one region and what could not be read there.
async fn list_region(
    region: &str,
    client: &aws_sdk_eks::Client,
    account_id: &str,
) -> (Vec<Cluster>, Vec<Finding>) {
    let partition = partition_of(region);
    let names = match client
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(names) => names,
        Err(e) => {
            let error = AwsError::from_sdk("eks", "ListClusters", &e).to_string();
            tracing::warn!(region, error = %error, "ListClusters failed");
            let finding = Finding::new(
                FindingCode::InventoryIncomplete,
                format!("arn:{partition}:eks:{region}:{account_id}:cluster/*"),
                format!(
                    "EKS clusters in {region} could not be listed, so they were not cross-checked with the IAM OIDC \
                     providers (and no provider of {region} is reported as orphan): {error}"
                ),
            )
            .with_details(json!({ "region": region, "operation": "ListClusters", "error": error }));
            return (Vec::new(), vec![finding]);
        }
    };
    let described: Vec<Result<Option<Cluster>, Finding>> = stream::iter(names)
        .map(|name| describe(region, client, account_id, name))
        .buffer_unordered(DESCRIBE_CONCURRENCY)
        .collect()
        .await;
    let mut clusters = Vec::new();
    let mut problems = Vec::new();
    for outcome in described {
        match outcome {
            Ok(Some(cluster)) => clusters.push(cluster),
            Ok(None) => {}
            Err(finding) => problems.push(finding),
        }
    }
    (clusters, problems)
}

/// One cluster; `Ok(None)` when it was deleted between listing and describing.
async fn describe(
    region: &str,
    client: &aws_sdk_eks::Client,
    account_id: &str,
    name: String,
) -> Result<Option<Cluster>, Finding> {
    let fallback_arn = format!(
        "arn:{}:eks:{region}:{account_id}:cluster/{name}",
        partition_of(region)
    );
    match client.describe_cluster().name(&name).send().await {
        Ok(output) => {
            let described = output.cluster();
            Ok(Some(Cluster {
                arn: described
                    .and_then(|c| c.arn())
                    .map_or(fallback_arn, str::to_string),
                issuer: described
                    .and_then(|c| c.identity())
                    .and_then(|identity| identity.oidc())
                    .and_then(|oidc| oidc.issuer())
                    .filter(|issuer| !issuer.is_empty())
                    .map(str::to_string),
                region: region.to_string(),
                name,
            }))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|service| service.is_resource_not_found_exception()) =>
        {
            tracing::info!(region, cluster = %name, "cluster deleted while listing");
            Ok(None)
        }
        Err(e) => {
            let error = AwsError::from_sdk("eks", "DescribeCluster", &e).to_string();
            tracing::warn!(region, cluster = %name, error = %error, "DescribeCluster failed");
            Err(Finding::new(
                FindingCode::InventoryIncomplete,
                &fallback_arn,
                format!(
                    "EKS cluster {name} in {region} could not be described, so its OIDC issuer was not cross-checked \
                     (and no provider of {region} is reported as orphan): {error}"
                ),
            )
            .with_details(json!({
                "region": region,
                "cluster": name,
                "operation": "DescribeCluster",
                "error": error,
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_eks::operation::describe_cluster::{DescribeClusterError, DescribeClusterOutput};
    use aws_sdk_eks::operation::list_clusters::ListClustersOutput;
    use aws_sdk_eks::types::error::ResourceNotFoundException;
    use aws_sdk_eks::types::{Cluster as EksCluster, Identity, Oidc};
    use aws_sdk_eks::Client;
    use aws_smithy_mocks::{
        create_mock_http_client, mock, MockResponse, MockResponseInterceptor, Rule, RuleMode,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    const ACCOUNT: &str = "123456789012";

    /// An EKS client of `region` answered only by `rules`, without retries.
    fn client(region: &str, rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_eks::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
            .build();
        Client::from_conf(config)
    }

    fn access_denied(action: &str) -> HttpResponse {
        let mut response = HttpResponse::new(
            StatusCode::try_from(403).unwrap(),
            SdkBody::from(format!(
                r#"{{"message":"User is not authorized to perform: eks:{action}"}}"#
            )),
        );
        response
            .headers_mut()
            .insert("x-amzn-errortype", "AccessDeniedException");
        response
            .headers_mut()
            .insert("content-type", "application/json");
        response
    }

    fn described(region: &str, name: &str) -> DescribeClusterOutput {
        DescribeClusterOutput::builder()
            .cluster(
                EksCluster::builder()
                    .name(name)
                    .arn(format!("arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"))
                    .identity(
                        Identity::builder()
                            .oidc(
                                Oidc::builder()
                                    .issuer(format!(
                                        "https://oidc.eks.{region}.amazonaws.com/id/{}",
                                        name.to_uppercase()
                                    ))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn pages_are_followed_and_failures_isolated_per_region_and_cluster() {
        // us-east-1: two pages; "gone" was deleted after the listing; "secret" cannot be described.
        let first_page = mock!(Client::list_clusters)
            .match_requests(|req| req.next_token().is_none())
            .then_output(|| {
                ListClustersOutput::builder()
                    .clusters("prod")
                    .clusters("gone")
                    .next_token("page-2")
                    .build()
            });
        let second_page = mock!(Client::list_clusters)
            .match_requests(|req| req.next_token() == Some("page-2"))
            .then_output(|| {
                ListClustersOutput::builder()
                    .clusters("api")
                    .clusters("secret")
                    .build()
            });
        let describe =
            mock!(Client::describe_cluster).then_compute_response(|req| match req.name() {
                Some("gone") => {
                    MockResponse::Error(DescribeClusterError::ResourceNotFoundException(
                        ResourceNotFoundException::builder()
                            .message("No cluster found for name: gone.")
                            .build(),
                    ))
                }
                Some("secret") => MockResponse::Http(access_denied("DescribeCluster")),
                other => MockResponse::Output(described("us-east-1", other.unwrap_or_default())),
            });
        let east = client("us-east-1", &[&first_page, &second_page, &describe]);
        // eu-west-1: fine. ap-south-1: ListClusters denied.
        let west_list = mock!(Client::list_clusters)
            .then_output(|| ListClustersOutput::builder().clusters("staging").build());
        let west_describe = mock!(Client::describe_cluster)
            .then_compute_output(|req| described("eu-west-1", req.name().unwrap_or_default()));
        let west = client("eu-west-1", &[&west_list, &west_describe]);
        let south_list =
            mock!(Client::list_clusters).then_http_response(|| access_denied("ListClusters"));
        let south = client("ap-south-1", &[&south_list]);

        let clients = vec![
            ("us-east-1".to_string(), east),
            ("eu-west-1".to_string(), west),
            ("ap-south-1".to_string(), south),
        ];
        let (clusters, scanned, problems) = list_clusters(&clients, ACCOUNT).await;

        let names: Vec<(&str, &str)> = clusters
            .iter()
            .map(|c| (c.region.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("eu-west-1", "staging"),
                ("us-east-1", "api"),
                ("us-east-1", "prod")
            ]
        );
        assert_eq!(
            clusters[2].arn,
            format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod")
        );
        assert_eq!(
            clusters[2].issuer.as_deref(),
            Some("https://oidc.eks.us-east-1.amazonaws.com/id/PROD")
        );
        assert_eq!(first_page.num_calls() + second_page.num_calls(), 2);
        // us-east-1 is not "scanned": a cluster there could not be read, so no provider is orphaned.
        assert_eq!(scanned, ["eu-west-1"]);

        let found: Vec<(FindingCode, &str)> = problems
            .iter()
            .map(|f| (f.code, f.resource.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    FindingCode::InventoryIncomplete,
                    "arn:aws:eks:us-east-1:123456789012:cluster/secret"
                ),
                (
                    FindingCode::InventoryIncomplete,
                    "arn:aws:eks:ap-south-1:123456789012:cluster/*"
                ),
            ]
        );
        assert!(
            problems[0].message.contains("secret") && problems[0].message.contains("us-east-1")
        );
        assert!(
            problems[1].message.contains("ap-south-1"),
            "{}",
            problems[1].message
        );
        assert!(
            problems[1].message.contains("AccessDenied"),
            "{}",
            problems[1].message
        );
        assert_eq!(problems[1].details["operation"], "ListClusters");
    }

    #[test]
    fn partitions_follow_region_prefixes() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }
}
