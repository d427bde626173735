
pub mod eks;
pub mod roles;
