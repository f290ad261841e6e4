//! Disputes (stub).
