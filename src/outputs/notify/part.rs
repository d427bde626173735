//! One part of a run's message: the piece of the report it carries (see [`crate::report::cut`]).

/// The piece of the report one SNS message carries, and its place among the messages.
pub(crate) type Part = crate::report::cut::Piece;
