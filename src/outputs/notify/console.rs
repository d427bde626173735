//! Links to the AWS console for the resource a finding is about (pure).

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// The console's host for an ARN's partition (`arn:PARTITION:…`); `None` for an unknown partition.
fn console_host(partition: &str) -> Option<&'static str> {
    match partition {
        "aws" => Some("console.aws.amazon.com"),
        "aws-cn" => Some("console.amazonaws.cn"),
        "aws-us-gov" => Some("console.amazonaws-us-gov.com"),
        _ => None,
    }
}

/// The console page of an OIDC provider, an IAM role or an EKS cluster ARN; `None` for anything
/// else (an issuer URL from `inspect`, a member role of organization mode is still a role).
pub(crate) fn link(arn: &str) -> Option<String> {
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(_account), Some(rest)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    let host = console_host(partition)?;
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    match service {
        "iam" if rest.starts_with("oidc-provider/") => Some(format!(
            "https://{host}/iam/home#/identity_providers/details/OPENID/{}",
            encode(arn)
        )),
        "iam" => {
            let name = rest.strip_prefix("role/")?.rsplit('/').next()?;
            (!name.is_empty())
                .then(|| format!("https://{host}/iam/home#/roles/details/{}", encode(name)))
        }
        "eks" => {
            let name = rest.strip_prefix("cluster/")?;
            let region_ok = !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            (region_ok && !name.is_empty()).then(|| {
                format!(
                    "https://{region}.{host}/eks/home?region={region}#/clusters/{}",
                    encode(name)
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::link;

    #[test]
    fn links_name_the_resource_in_its_partition() {
        assert_eq!(
            link("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB").as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/identity_providers/details/OPENID/arn%3Aaws%3Aiam%3A%3A123456789012%3Aoidc%2Dprovider%2Foidc%2Eeks%2Eus%2Deast%2D1%2Eamazonaws%2Ecom%2Fid%2FAB")
        );
        assert_eq!(
            link("arn:aws:iam::123456789012:role/team/app-role").as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/roles/details/app%2Drole")
        );
        assert_eq!(
            link("arn:aws-cn:eks:cn-north-1:123456789012:cluster/prod").as_deref(),
            Some(
                "https://cn-north-1.console.amazonaws.cn/eks/home?region=cn-north-1#/clusters/prod"
            )
        );
        assert_eq!(link("https://issuer.example/id/X"), None);
        assert_eq!(link("arn:aws:s3:::bucket"), None);
        assert_eq!(link("arn:evil:iam::1:role/x"), None);
        assert_eq!(link("arn:aws:eks:bad region:1:cluster/x"), None);
    }
}
