//! LEB128 varints, the one codec of the compact encodings: the index's stored sentence
//! ranges (`index::schema`) and the store's packed analyses (`store::packed`).

/// Appends `n` to `out`, seven bits a byte, low bits first, the high bit set on every byte
/// but the last.
pub(crate) fn push(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads the varint at `*at` and moves `*at` past it; `None` when the bytes end inside it
/// (or at `*at`). A tenth byte ends a number whatever its high bit says.
pub(crate) fn read(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 || shift >= 64 {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        // Proves every width decodes to what was encoded and a cut-off number reads as none.
        let values = [0, 1, 127, 128, 300, 1 << 35, u64::MAX];
        let mut bytes = Vec::new();
        for v in values {
            push(&mut bytes, v);
        }
        let mut at = 0;
        let back: Vec<u64> = std::iter::from_fn(|| read(&bytes, &mut at)).collect();
        assert_eq!(back, values);
        assert_eq!(at, bytes.len());
        let mut at = 0;
        assert_eq!(read(&[0x80, 0x80], &mut at), None);
        assert_eq!(at, 2);
    }
}
