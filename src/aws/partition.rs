//! Which AWS partition a region belongs to.

/// The ARN partition of a region (`aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`), for the
/// ARNs of resources that could not be read.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}
