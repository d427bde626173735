//! IAM roles and their trust policies (ListRoles, paginated). Owned by the EKS/roles work.
