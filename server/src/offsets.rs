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
    /// Prepares conversions for `text`.
    pub fn new(text: &'a str, encoding: Encoding) -> Self {
        let mut checkpoints = Vec::new();
        if encoding != Encoding::Utf8 && !text.is_ascii() {
            let mut units = 0usize;
            let mut next = 0usize;
            for (i, c) in text.char_indices() {
                if i >= next {
                    checkpoints.push((i, units));
                    next = i + STRIDE;
                }
                units += unit_len(c, encoding);
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
        let (b0, mut units) = self.checkpoints[k];
        for c in self.text[b0..byte].chars() {
            units += unit_len(c, self.encoding);
        }
        units
    }

    /// Converts a byte range.
    pub fn range(&self, range: std::ops::Range<usize>) -> (usize, usize) {
        (self.convert(range.start), self.convert(range.end))
    }
}

fn unit_len(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Utf8 => c.len_utf8(),
        Encoding::Utf16 => c.len_utf16(),
        Encoding::Utf32 => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_agrees_with_std_counts() {
        let text = "Київ “quote” 東京 😀 end ".repeat(20);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let map = OffsetMap::new(&text, enc);
            for (i, _) in text.char_indices() {
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
