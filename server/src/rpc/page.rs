//! Paging helpers shared by every List RPC (AIP-158): page-size coercion and opaque page
//! tokens that carry a position and a fingerprint of the request they belong to, so a token
//! replayed with a different request is rejected instead of silently paging the wrong list.

use super::status::invalid_argument;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tonic::Status;

/// Coerces a requested page size: 0 → `default`, above `max` → `max`, negative → error.
pub fn page_size(requested: i32, default: usize, max: usize) -> Result<usize, Status> {
    match requested {
        n if n < 0 => Err(invalid_argument("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok((n as usize).min(max)),
    }
}

/// A fingerprint of the request fields that define a list (not the paging fields).
pub fn fingerprint(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_0100_01b3);
        }
    }
    h
}

/// Encodes a position within the list fingerprinted by `fp`.
pub fn encode(fp: u64, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{fp:016x}:{position}"))
}

/// Decodes a page token for the list fingerprinted by `fp`; `None` for the first page.
pub fn decode(token: &str, fp: u64) -> Result<Option<String>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || {
        invalid_argument(
            "page_token",
            "not a token this list issued (it must come with the same request fields)",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (fp_hex, position) = raw.split_once(':').ok_or_else(bad)?;
    if u64::from_str_radix(fp_hex, 16).map_err(|_| bad())? != fp {
        return Err(bad());
    }
    Ok(Some(position.to_string()))
}

/// Decodes a page token holding an offset into the list fingerprinted by `fp`; 0 for the
/// first page.
pub fn decode_offset(token: &str, fp: u64) -> Result<usize, Status> {
    match decode(token, fp)? {
        None => Ok(0),
        Some(p) => p
            .parse()
            .map_err(|_| invalid_argument("page_token", "malformed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_other_requests() {
        let fp = fingerprint(&["source-a"]);
        let token = encode(fp, "doc-7");
        assert_eq!(decode(&token, fp).unwrap().as_deref(), Some("doc-7"));
        assert!(decode(&token, fingerprint(&["source-b"])).is_err());
        assert!(decode("garbage!", fp).is_err());
        assert_eq!(decode("", fp).unwrap(), None);
    }

    #[test]
    fn page_sizes_are_coerced() {
        assert_eq!(page_size(0, 50, 1000).unwrap(), 50);
        assert_eq!(page_size(5000, 50, 1000).unwrap(), 1000);
        assert!(page_size(-1, 50, 1000).is_err());
    }
}
