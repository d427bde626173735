//! Inventory: what the account holds, read from AWS (STS, IAM, EKS).
//!
//! Reads are concurrent and fault-isolated: a provider, region or role list that cannot be read
//! becomes an INVENTORY_INCOMPLETE finding, and the sweep goes on with the rest. Only the account
//! id and the provider listing are fatal (exit code 3): without them there is nothing to sweep.

use futures::stream::{self, StreamExt};

use crate::aws::AwsClients;
use crate::aws::AwsError;
use crate::config::Config;
use crate::report::{Finding, FindingCode};

pub mod eks;
mod model;
pub mod roles;

pub use model::{Cluster, Inventory, InventoryError, OidcProvider, ReadProviderError, Role};

/// GetOpenIDConnectProvider calls in flight at once (IAM's request rate is modest; the SDK retries).
const PROVIDER_READ_CONCURRENCY: usize = 8;

/// Who the credentials are (STS GetCallerIdentity): the account id, and the caller's ARN when
/// STS gives it (the principal an EKS access entry names).
pub async fn caller(sts: &aws_sdk_sts::Client) -> Result<(String, Option<String>), InventoryError> {
    let out = sts.get_caller_identity().send().await.map_err(|e| {
        InventoryError::Identity(AwsError::from_sdk("sts", "GetCallerIdentity", &e))
    })?;
    let account = out.account.ok_or(InventoryError::NoAccountId)?;
    Ok((account, out.arn))
}

/// The account's IAM alias (`iam:ListAccountAliases`), shown beside the account id in messages.
/// Best effort: no alias, or no permission to read it, is `None` (logged), never a failure.
pub async fn account_alias(iam: &aws_sdk_iam::Client) -> Option<String> {
    match iam.list_account_aliases().send().await {
        Ok(out) => out.account_aliases().first().cloned(),
        Err(e) => {
            let error = AwsError::from_sdk("iam", "ListAccountAliases", &e);
            tracing::info!(%error, "the account alias is not shown: it could not be read");
            None
        }
    }
}

/// Lists every OIDC provider ARN (IAM does not paginate this call).
pub async fn list_provider_arns(iam: &aws_sdk_iam::Client) -> Result<Vec<String>, InventoryError> {
    let out = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| {
            InventoryError::ListProviders(AwsError::from_sdk(
                "iam",
                "ListOpenIDConnectProviders",
                &e,
            ))
        })?;
    let mut arns: Vec<String> = out
        .open_id_connect_provider_list
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.arn)
        .collect();
    arns.sort();
    arns.dedup();
    Ok(arns)
}

/// Reads one provider (url, client ids, thumbprints, tags).
pub async fn read_provider(
    iam: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<OidcProvider, ReadProviderError> {
    let out = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .map_err(|e| {
            ReadProviderError::Aws(AwsError::from_sdk("iam", "GetOpenIDConnectProvider", &e))
        })?;
    let raw_url = out.url.ok_or(ReadProviderError::NoUrl)?;
    let url = if raw_url.starts_with("https://") {
        raw_url
    } else {
        format!("https://{raw_url}")
    };
    Ok(OidcProvider {
        arn: arn.to_string(),
        url,
        client_ids: out.client_id_list.unwrap_or_default(),
        thumbprints: out
            .thumbprint_list
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.to_ascii_lowercase())
            .collect(),
        tags: out
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
    })
}

/// Reads every provider concurrently; one that cannot be read becomes an INVENTORY_INCOMPLETE
/// finding (for example when it was deleted between the list and the read).
pub async fn read_providers(
    iam: &aws_sdk_iam::Client,
    arns: &[String],
) -> (Vec<OidcProvider>, Vec<Finding>) {
    read_providers_telling(iam, arns, &|_| {}).await
}

/// [`read_providers`], telling `on_read` of each provider as soon as it is read (the sweep starts
/// its probe then). The result is in ARN order.
pub async fn read_providers_telling(
    iam: &aws_sdk_iam::Client,
    arns: &[String],
    on_read: &(dyn Fn(&OidcProvider) + Sync),
) -> (Vec<OidcProvider>, Vec<Finding>) {
    let mut results: Vec<(String, Result<OidcProvider, ReadProviderError>)> =
        stream::iter(arns.iter().cloned())
            .map(|arn| async move {
                let result = read_provider(iam, &arn).await;
                (arn, result)
            })
            .buffer_unordered(PROVIDER_READ_CONCURRENCY)
            .inspect(|(_, result)| {
                if let Ok(provider) = result {
                    on_read(provider);
                }
            })
            .collect()
            .await;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut providers = Vec::new();
    let mut problems = Vec::new();
    for (arn, result) in results {
        match result {
            Ok(p) => providers.push(p),
            Err(error) => problems.push(
                Finding::new(
                    FindingCode::InventoryIncomplete,
                    arn.clone(),
                    format!("could not read OIDC provider {arn}: {error}; it was not checked this run"),
                )
                .with_details(serde_json::json!({"operation": "GetOpenIDConnectProvider", "error": error.to_string()})),
            ),
        }
    }
    (providers, problems)
}

/// Reads everything the sweep needs. Fails only when the account or the provider list cannot be
/// read; everything else that fails is recorded in `problems`.
pub async fn collect(aws: &AwsClients, config: &Config) -> Result<Inventory, InventoryError> {
    collect_telling(aws, config, &|_| {}).await
}

/// [`collect`], telling `on_read` of each provider as soon as it is read, before the clusters and
/// roles are listed, so its probe need not wait for the rest of the inventory.
pub async fn collect_telling(
    aws: &AwsClients,
    config: &Config,
    on_read: &(dyn Fn(&OidcProvider) + Sync),
) -> Result<Inventory, InventoryError> {
    let ((account_id, caller_arn), arns) =
        tokio::try_join!(caller(&aws.sts), list_provider_arns(&aws.iam))?;
    let (providers, mut problems) = read_providers_telling(&aws.iam, &arns, on_read).await;
    let unreadable_providers: Vec<String> = arns
        .iter()
        .filter(|arn| !providers.iter().any(|p| &p.arn == *arn))
        .cloned()
        .collect();
    let (clusters, scanned_regions, eks_problems) = eks::list_clusters(&aws.eks, &account_id).await;
    problems.extend(eks_problems);
    // Roles are listed for the trust-policy audit (those that federate to an OIDC provider) and
    // for the in-cluster checks (every role: an annotation or association may name any).
    let listed = if config.audit_trust_policies || config.kubernetes_checks {
        match roles::list_roles(&aws.iam).await {
            Ok(roles) => Some(roles),
            Err(error) => {
                let unchecked = match (config.audit_trust_policies, config.kubernetes_checks) {
                    (true, true) => "trust policies were not audited and service accounts' roles not checked this run",
                    (true, false) => "trust policies were not audited this run",
                    _ => "service accounts' and Pod Identity associations' roles were not checked this run",
                };
                problems.push(
                    Finding::new(
                        FindingCode::InventoryIncomplete,
                        format!(
                            "arn:{}:iam::{account_id}:role/*",
                            crate::aws::partition_of(&aws.region)
                        ),
                        format!("could not list IAM roles (iam:ListRoles): {error}; {unchecked}"),
                    )
                    .with_details(serde_json::json!({"operation": "ListRoles", "error": error})),
                );
                None
            }
        }
    } else {
        None
    };
    let roles_audited = config.audit_trust_policies && listed.is_some();
    let roles = match (&listed, config.audit_trust_policies) {
        (Some(all), true) => all
            .iter()
            .filter(|role| crate::trust_policy::mentions_oidc_provider(&role.trust_policy))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let all_roles = listed.filter(|_| config.kubernetes_checks);
    Ok(Inventory {
        account_id,
        caller_arn,
        region: aws.region.clone(),
        providers,
        unreadable_providers,
        clusters,
        scanned_regions,
        roles,
        roles_audited,
        all_roles,
        problems,
    })
}
