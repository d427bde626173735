//! A report cut into parts that are each a valid report (same account, time and mode; a subset of
//! the lists; the summary counted over that subset), every provider, cluster and finding in exactly
//! one part (pure). SNS messages and the Lambda's log lines are cut this way; each says what a unit
//! weighs in what it renders.
//!
//! Units keep the report's order (most severe first), are packed greedily by their weight, and each
//! part is then rendered and measured for real; a part that is still too large is halved, and a
//! single unit too large on its own is condensed when the caller allows it.

mod condense;
mod piece;
mod split;
mod units;

pub use piece::Piece;
pub use split::{cut, escaped_len, json_len, json_weight, Cut};
pub use units::Unit;
