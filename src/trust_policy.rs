//! Trust-policy audit of roles that federate to OIDC providers (pure).
