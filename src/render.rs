//! Human rendering of a report: the terminal table and the manual fix for each finding.
