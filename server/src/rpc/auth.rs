//! Bearer-token authentication for the `dossier.v1` services (`--auth-token-file`).
//!
//! [`serve`](super::serve) checks [`Tokens`] in the interceptor that wraps each `dossier.v1`
//! service, so health and reflection stay open to probes and to `grpcurl list`. A call
//! must carry `authorization: Bearer <token>` with one of the configured tokens, or it is
//! answered `UNAUTHENTICATED` before the handler runs.

use super::status::status_with_reason;
use subtle::ConstantTimeEq;
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

/// The accepted bearer tokens. `Debug` shows how many there are, never the tokens.
#[derive(Clone)]
pub struct Tokens(std::sync::Arc<[Vec<u8>]>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.0.len())
    }
}

impl Tokens {
    /// Reads a token file: one token per line; blank lines and `#` comments are skipped and
    /// surrounding whitespace is trimmed. `None` when the file holds no token, so an empty
    /// file can never turn authentication off by accident.
    ///
    /// # Examples
    ///
    /// ```
    /// use dossier_server::rpc::auth::Tokens;
    /// assert!(Tokens::parse("# ops team\ns3cr3t-one\n\ns3cr3t-two\n").is_some());
    /// assert!(Tokens::parse("# nothing but a comment\n").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let tokens: Vec<Vec<u8>> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.as_bytes().to_vec())
            .collect();
        (!tokens.is_empty()).then(|| Self(tokens.into()))
    }

    /// `Ok` when `metadata` carries `authorization: Bearer <token>` with a configured token,
    /// else `UNAUTHENTICATED`. Every configured token is compared, each in constant time, so
    /// the answer's timing tells nothing about how much of a guess was right (only a
    /// token's length can show; use long random tokens of one length).
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let Some(value) = metadata.get("authorization") else {
            return Err(status_with_reason(
                Code::Unauthenticated,
                "MISSING_CREDENTIALS",
                "this call needs `authorization: Bearer <token>` metadata",
            ));
        };
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().as_bytes());
        let Some(presented) = presented else {
            return Err(status_with_reason(
                Code::Unauthenticated,
                "MISSING_CREDENTIALS",
                "the authorization metadata must read `Bearer <token>`",
            ));
        };
        let matched = self
            .0
            .iter()
            .fold(subtle::Choice::from(0), |any, t| any | t.ct_eq(presented));
        if bool::from(matched) {
            Ok(())
        } else {
            Err(status_with_reason(
                Code::Unauthenticated,
                "INVALID_CREDENTIALS",
                "the bearer token is not valid",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    fn with_auth(value: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", value.parse().unwrap());
        m
    }

    #[test]
    fn any_configured_token_is_accepted_and_the_scheme_is_case_insensitive() {
        let tokens = Tokens::parse("alpha\n  beta  \n").unwrap();
        assert!(tokens.check(&with_auth("Bearer alpha")).is_ok());
        assert!(tokens.check(&with_auth("bearer beta")).is_ok());
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_are_unauthenticated_with_a_reason() {
        let tokens = Tokens::parse("alpha").unwrap();
        for (metadata, reason) in [
            (MetadataMap::new(), "MISSING_CREDENTIALS"),
            (with_auth("alpha"), "MISSING_CREDENTIALS"),
            (with_auth("Basic alpha"), "MISSING_CREDENTIALS"),
            (with_auth("Bearer alph"), "INVALID_CREDENTIALS"),
            (with_auth("Bearer alphaa"), "INVALID_CREDENTIALS"),
        ] {
            let status = tokens.check(&metadata).unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated);
            assert_eq!(status.get_details_error_info().unwrap().reason, reason);
        }
    }

    #[test]
    fn debug_never_shows_a_token() {
        let tokens = Tokens::parse("very-secret").unwrap();
        assert!(!format!("{tokens:?}").contains("secret"));
    }
}
