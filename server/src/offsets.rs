//! Converting byte offsets into the caller's offset unit (UTF-8 bytes, UTF-16 code units or
//! code points), as Google Cloud Natural Language's `EncodingType` does.
//!
//! The engine works in byte offsets throughout; only the rpc layer converts, with an
//! [`OffsetMap`] built once per document and response so that many spans cost one pass.

/// The unit of offsets in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 bytes (also what an unspecified encoding means).
    #[default]
    Utf8,
    /// UTF-16 code units.
    Utf16,
    /// Unicode code points.
    Utf32,
}

/// Converts byte offsets of one text into offsets in an [`Encoding`].
///
/// # Examples
///
/// ```
/// use dossier_server::offsets::{Encoding, OffsetMap};
/// let text = "“Zelenskyy” said";
/// let map = OffsetMap::new(text, Encoding::Utf16);
/// assert_eq!(map.convert(text.find("said").unwrap()), 12);
/// ```
#[derive(Debug, Clone)]
pub struct OffsetMap<'a> {
    text: &'a str,
    encoding: Encoding,
    /// For non-UTF-8 encodings: (byte offset, unit offset) every 64 bytes, to start from.
    checkpoints: Vec<(usize, usize)>,
}

const STRIDE: usize = 64;

impl<'a> OffsetMap<'a> {
    /// Prepares conversions for `text`: one pass over it (none for UTF-8 or ASCII text).
    pub fn new(text: &'a str, encoding: Encoding) -> Self {
        let mut checkpoints = Vec::new();
        if encoding != Encoding::Utf8 && !text.is_ascii() {
            checkpoints.reserve(text.len() / STRIDE + 1);
            let mut units = 0usize;
            let mut at = 0usize;
            for chunk in text.as_bytes().chunks(STRIDE) {
                // Every checkpoint is on a character boundary: a chunk that starts inside a
                // character is counted from the character's end.
                let skip = chunk.iter().take_while(|&&b| is_continuation(b)).count();
                checkpoints.push((at + skip, units + units_in(&chunk[..skip], encoding)));
                units += units_in(chunk, encoding);
                at += chunk.len();
            }
        }
        Self {
            text,
            encoding,
            checkpoints,
        }
    }

    /// The offset in this map's encoding of byte offset `byte` (clamped to the text and moved
    /// back to a character boundary).
    pub fn convert(&self, byte: usize) -> usize {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        if self.encoding == Encoding::Utf8 || self.checkpoints.is_empty() {
            return byte;
        }
        let k = self
            .checkpoints
            .partition_point(|&(b, _)| b <= byte)
            .saturating_sub(1);
        let (b0, units) = self.checkpoints[k];
        units + units_in(&self.text.as_bytes()[b0..byte], self.encoding)
    }

    /// Converts a byte range.
    pub fn range(&self, range: std::ops::Range<usize>) -> (usize, usize) {
        (self.convert(range.start), self.convert(range.end))
    }
}

/// True for a UTF-8 continuation byte (`10xxxxxx`).
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// The units of `encoding` in `bytes` of UTF-8, counted by bytes (no decoding): a code
/// point per byte that starts a character, and for UTF-16 a second unit per four-byte one.
/// A continuation byte whose lead byte lies before `bytes` counts nothing.
fn units_in(bytes: &[u8], encoding: Encoding) -> usize {
    match encoding {
        Encoding::Utf8 => bytes.len(),
        Encoding::Utf32 => bytes.iter().filter(|&&b| !is_continuation(b)).count(),
        Encoding::Utf16 => bytes
            .iter()
            .map(|&b| usize::from(!is_continuation(b)) + usize::from(b >= 0xF0))
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_agrees_with_std_counts() {
        let text = "Київ “quote” 東京 😀 end ".repeat(20) + &"ascii ".repeat(30) + "é😀";
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let map = OffsetMap::new(&text, enc);
            for i in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let expected = match enc {
                    Encoding::Utf8 => i,
                    Encoding::Utf16 => text[..i].encode_utf16().count(),
                    Encoding::Utf32 => text[..i].chars().count(),
                };
                assert_eq!(map.convert(i), expected, "{enc:?} at {i}");
            }
        }
    }

    #[test]
    fn offsets_past_the_end_clamp() {
        let map = OffsetMap::new("ab€", Encoding::Utf32);
        assert_eq!(map.convert(100), 3);
        assert_eq!(map.convert(3), 2, "inside '€' moves back to its start");
    }
}
