//! Domain facts every step shares: IAM's limits, the STS audience, dates as reports print them.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::account::ProviderReport;

/// IAM's limit on thumbprints per OIDC provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// The audience STS expects for IRSA in a provider's ClientIDList.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// `now` truncated to whole seconds, as reports print it.
pub fn whole_seconds(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

/// `at` as RFC 3339 (UTC, as every time in the report).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// Days from `now` until `at`, rounded down (negative when past).
pub fn days_left(at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (at - now).whole_days()
}

/// The earliest `not_after` of any certificate a provider's endpoints served.
pub fn nearest_expiry(provider: &ProviderReport) -> Option<OffsetDateTime> {
    provider
        .endpoints
        .iter()
        .flat_map(|e| e.chain.iter())
        .filter_map(|c| c.not_after)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_print_as_utc_rfc3339() {
        assert_eq!(
            rfc3339(datetime!(2026-11-22 11:00:00 +1)),
            "2026-11-22T10:00:00Z"
        );
        assert_eq!(
            days_left(
                datetime!(2026-11-25 09:00:00 UTC),
                datetime!(2026-11-22 10:00:00 UTC)
            ),
            2
        );
    }
}
