//! Remediation: the pure per-provider decision and the IAM write that applies it.
