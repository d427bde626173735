//! The function's permissions are the ones `template.yaml` grants, and they are enough: sweeps run
//! under a moto IAM user that holds exactly the statements of the function's role, read from the
//! template as the SAM transform expands it (`scripts/sam-expand.py`) and resolved here for one
//! `RemediationMode` (partition `aws`, account 123456789012, region us-east-1, the moto topic).
//!
//! What the emulator enforces, as measured here (moto 5.2.5, `POST /moto-api/reset-auth` `0`):
//! - IAM and SNS: the action of every request against the caller's policies (an action no
//!   statement allows is `AccessDenied` / `AuthorizationError`).
//! - DynamoDB and Security Hub: `dynamodb:GetItem`/`PutItem` and
//!   `securityhub:BatchImportFindings`/`GetFindings` are refused without a statement and pass with
//!   one (measured with boto3 and with the Rust SDK: `memory.rs`).
//! - STS: `sts:GetCallerIdentity` is always allowed, as in AWS (it needs no permission).
//! - EKS: nothing can be tested: with enforcement on, every EKS request fails with
//!   `SignatureDoesNotMatch` (moto's EKS handler passes the request headers where the body belongs,
//!   so its recomputed signature hashes them; boto3 gets the same 403). The sweeps here therefore
//!   run with `EKS_REGIONS=none`; the EKS statements are checked on the template only.
//! - Resources are not checked: every request is evaluated against `Resource: "*"`, so a statement
//!   scoped to an ARN would never match. The moto user gets the template's statements with
//!   `Resource: "*"`, and [`allows`] checks here that each statement's resources cover the ARNs the
//!   sweep touches.
//! - SigV4 of query-protocol bodies: moto re-encodes the form body it parsed (as botocore would:
//!   space as `+`) before recomputing the signature, so a Rust SDK request whose body differs in
//!   encoding (`sns:Publish` of a text, `iam:TagOpenIDConnectProvider` of a value with a space:
//!   space as `%20`) is `SignatureDoesNotMatch`. The test's SNS and IAM clients therefore also sign an
//!   `x-amz-content-sha256` header (valid SigV4, which moto's verifier takes as the payload hash):
//!   [`SignPayloadHash`]. The code under test (sweep, remediation, notify) is unchanged.
//! - KMS (called by SNS and DynamoDB on the caller's behalf; moto's do not) and CloudWatch Logs
//!   (written by Lambda) are not called by the code: for those only the template's wiring is
//!   checked (`template_checks.rs`, `options.rs`), as are the deployment's other properties that
//!   no API call shows: the state table's settings, boundaries, tags, retention, alarms.

#[path = "../support/mod.rs"]
mod support;

mod account;
mod memory;
mod options;
mod sweeps;
mod template;
mod template_checks;

use support::moto;

const PARTITION: &str = "aws";
const ACCOUNT: &str = moto::ACCOUNT_ID;
/// The logical id of the function's execution role in the template.
const ROLE: &str = "FunctionRole";
/// What `GetAtt StackKey.Arn` stands for (moto's SNS and DynamoDB do not use KMS).
const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000";
/// What `Ref StateStore` stands for: the state table's name, created in moto by the tests.
const STATE_TABLE: &str = "thumbprint-guard-StateStore-TEST";
/// The actions that change IAM, granted only in `add` mode.
const WRITE_ACTIONS: [&str; 2] = [
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:TagOpenIDConnectProvider",
];

/// Whether moto can enforce `action` (see the module comment: not EKS).
fn moto_enforces(action: &str) -> bool {
    !action.starts_with("eks:")
}
