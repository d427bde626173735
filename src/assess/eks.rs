//! Findings from the EKS cross-check: clusters without a provider, orphan providers.
