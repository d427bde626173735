//! Findings from one issuer probe: chain trust, expiry, reachability, discovery, JWKS.
