//! Notifications on SNS: rendering per protocol (pure) and publishing.
