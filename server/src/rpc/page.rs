//! The one paging helper of every List RPC and of Search (AIP-158): page-size coercion and
//! opaque page tokens.
//!
//! A token is a small prost message ([`PageToken`], base64url): a fingerprint of the request
//! fields that define the list (so a token replayed with a different request is rejected
//! instead of silently paging the wrong list), the position of the next page (an offset, or
//! the id after which to go on), and for listings bound to one store generation (Search) that
//! generation.

use super::status::invalid_argument;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use prost::Message;
use std::hash::Hasher;
use std::ops::Range;
use tonic::Status;

/// What a page token holds.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct PageToken {
    /// Fingerprint of the request fields that define the list.
    #[prost(fixed64, tag = "1")]
    pub fingerprint: u64,
    /// The store generation the listing is bound to, when it is.
    #[prost(uint64, optional, tag = "2")]
    pub generation: Option<u64>,
    /// Offset of the next item (offset-paged lists).
    #[prost(uint64, tag = "3")]
    pub offset: u64,
    /// The id after which the next page starts (cursor-paged lists).
    #[prost(string, tag = "4")]
    pub after: String,
}

/// A request's paging: its coerced page size and where its token says to go on.
#[derive(Debug, Clone)]
pub struct Pager {
    /// Items per page.
    pub size: usize,
    fingerprint: u64,
    /// The decoded token; `None` on the first page.
    token: Option<PageToken>,
}

impl Pager {
    /// Coerces `page_size` (0 → `default`, above `max` → `max`, negative → error) and
    /// decodes `page_token` for the list defined by `fields`.
    pub fn new(
        fields: &[&str],
        page_size: i32,
        page_token: &str,
        (default, max): (usize, usize),
    ) -> Result<Self, Status> {
        let size = size(page_size, (default, max))?;
        let fingerprint = fingerprint(fields);
        let token = decode(page_token, fingerprint)?;
        Ok(Self {
            size,
            fingerprint,
            token,
        })
    }

    /// True on the first page (no token).
    pub fn is_first(&self) -> bool {
        self.token.is_none()
    }

    /// The offset this page starts at (0 on the first page).
    pub fn offset(&self) -> usize {
        self.token.as_ref().map_or(0, |t| t.offset as usize)
    }

    /// The id this page goes on after (`None` on the first page).
    pub fn after(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.after.as_str())
    }

    /// The generation the token binds the listing to (`None` on the first page).
    pub fn generation(&self) -> Option<u64> {
        self.token.as_ref().and_then(|t| t.generation)
    }

    /// The positions of this page in a list of `total` items, and the next page's token
    /// (empty on the last page).
    pub fn window(&self, total: usize) -> (Range<usize>, String) {
        let start = self.offset().min(total);
        let end = (start + self.size).min(total);
        let next = if end < total {
            self.encode(None, end, String::new())
        } else {
            String::new()
        };
        (start..end, next)
    }

    /// The token of the page after the item `last` of a cursor-paged list, if `more`.
    pub fn next_after(&self, more: bool, last: Option<&str>) -> String {
        match last {
            Some(last) if more => self.encode(None, 0, last.to_string()),
            _ => String::new(),
        }
    }

    /// The token of the page at `offset` of the listing bound to `generation`.
    pub fn next_at(&self, generation: u64, offset: usize) -> String {
        self.encode(Some(generation), offset, String::new())
    }

    fn encode(&self, generation: Option<u64>, offset: usize, after: String) -> String {
        let token = PageToken {
            fingerprint: self.fingerprint,
            generation,
            offset: offset as u64,
            after,
        };
        URL_SAFE_NO_PAD.encode(token.encode_to_vec())
    }
}

/// Coerces a requested page size: 0 → `default`, above `max` → `max`, negative → error
/// (for answers that are one page only; lists use [`Pager`]).
pub fn size(requested: i32, (default, max): (usize, usize)) -> Result<usize, Status> {
    match requested {
        n if n < 0 => Err(invalid_argument("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok((n as usize).min(max)),
    }
}

/// A fingerprint of the request fields that define a list (not the paging fields): FNV-1a
/// over the fields, each followed by 0xff (which UTF-8 never holds, so fields cannot run
/// into each other).
fn fingerprint(parts: &[&str]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// Decodes a page token for the list fingerprinted by `fp`; `None` for the first page.
fn decode(token: &str, fp: u64) -> Result<Option<PageToken>, Status> {
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
    let token = PageToken::decode(raw.as_slice()).map_err(|_| bad())?;
    if token.fingerprint != fp {
        return Err(bad());
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager(fields: &[&str], token: &str) -> Result<Pager, Status> {
        Pager::new(fields, 2, token, (50, 1000))
    }

    #[test]
    fn tokens_round_trip_and_reject_other_requests() {
        let first = pager(&["source-a"], "").unwrap();
        let token = first.next_after(true, Some("doc-7"));
        assert_eq!(pager(&["source-a"], &token).unwrap().after(), Some("doc-7"));
        assert!(pager(&["source-b"], &token).is_err());
        assert!(pager(&["source-a"], "garbage!").is_err());
        assert_eq!(pager(&["source-a"], "").unwrap().after(), None);
        let at = first.next_at(7, 20);
        let resumed = pager(&["source-a"], &at).unwrap();
        assert_eq!((resumed.generation(), resumed.offset()), (Some(7), 20));
    }

    #[test]
    fn windows_cut_pages_and_end_on_the_last() {
        let first = pager(&["x"], "").unwrap();
        let (range, next) = first.window(3);
        assert_eq!(range, 0..2);
        let second = pager(&["x"], &next).unwrap();
        let (range, next) = second.window(3);
        assert_eq!((range, next.as_str()), (2..3, ""));
    }

    #[test]
    fn page_sizes_are_coerced() {
        assert_eq!(size(0, (50, 1000)).unwrap(), 50);
        assert_eq!(size(5000, (50, 1000)).unwrap(), 1000);
        assert!(size(-1, (50, 1000)).is_err());
    }
}
