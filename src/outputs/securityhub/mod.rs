//! Security Hub: the report's findings in ASFF 2018-10-08 (pure) and their import into the
//! account's own product, archiving the thumbprint-guard findings that went away (I/O).

mod asff;
mod import;
mod report;

pub use asff::{
    asff_document, product_arn, to_asff, AsffFinding, AsffRecommendation, AsffRemediation,
    AsffResource, AsffSeverity, AsffWorkflow, ASFF_SCHEMA_VERSION, FINDING_TYPE, GENERATOR_PREFIX,
};
pub use import::{import, FailedImport, ImportOutcome, SecurityHubError, MAX_BATCH};
pub use report::{import_report, report_findings, run_document};
