//! `thumbprint-guard inspect URL`: probe one issuer without AWS and render the result.
