//! Claim tests.
