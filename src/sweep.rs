//! The sweep: inventory → probe → assess → remediate → report, with one deadline.
