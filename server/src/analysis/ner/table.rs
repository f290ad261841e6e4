//! A compact open-addressing hash table from pre-hashed `u64` keys to small values, and the
//! little-endian reader/writer of the model's binary format.
//!
//! The tagger looks up some forty features per token, so lookups must be cheap: keys are
//! already well-mixed hashes (never 0, which marks an empty slot), the table is a power of two
//! at most half full, and probing is linear.

use super::NerError;

/// A hash table from non-zero `u64` keys to `V`.
#[derive(Debug, Clone)]
pub(crate) struct Table<V> {
    keys: Vec<u64>,
    values: Vec<V>,
    mask: usize,
    len: usize,
}

impl<V: Copy + Default> Table<V> {
    /// A table with room for `n` keys.
    pub(super) fn with_capacity(n: usize) -> Self {
        let size = (n.max(4) * 2).next_power_of_two();
        Table {
            keys: vec![0; size],
            values: vec![V::default(); size],
            mask: size - 1,
            len: 0,
        }
    }

    /// Number of keys.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The value stored under `key`.
    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<V> {
        let mut i = (key as usize) & self.mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.values[i]);
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Stores `value` under `key` (`key` must not be 0), growing as needed.
    pub(super) fn insert(&mut self, key: u64, value: V) {
        debug_assert!(key != 0);
        if (self.len + 1) * 2 > self.keys.len() {
            self.grow();
        }
        let mut i = (key as usize) & self.mask;
        loop {
            let k = self.keys[i];
            if k == key {
                self.values[i] = value;
                return;
            }
            if k == 0 {
                self.keys[i] = key;
                self.values[i] = value;
                self.len += 1;
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let mut bigger = Table::with_capacity(self.keys.len());
        for (k, v) in self.iter() {
            bigger.insert(k, v);
        }
        *self = bigger;
    }

    /// All (key, value) pairs, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.keys
            .iter()
            .zip(&self.values)
            .filter(|(k, _)| **k != 0)
            .map(|(k, v)| (*k, *v))
    }
}

/// Appends little-endian values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
}

/// Reads little-endian values from a byte slice, failing cleanly when it runs out.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], NerError> {
        if self.bytes.len() < N {
            return Err(NerError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(N);
        self.bytes = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], NerError> {
        if self.bytes.len() < n {
            return Err(NerError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, NerError> {
        Ok(self.take::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, NerError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    pub(crate) fn i16(&mut self) -> Result<i16, NerError> {
        Ok(i16::from_le_bytes(self.take()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, NerError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, NerError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32, NerError> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    /// A count that must fit in what is left (each item at least `min_item` bytes).
    pub(crate) fn count(&mut self, min_item: usize) -> Result<usize, NerError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item.max(1)) > self.bytes.len() {
            return Err(NerError::Truncated);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_stores_and_finds_keys_across_growth() {
        let mut t = Table::with_capacity(2);
        for k in 1..1000u64 {
            t.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1, k as u32);
        }
        assert_eq!(t.len(), 999);
        assert_eq!(t.get(5u64.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1), Some(5));
        assert_eq!(t.get(2), None);
    }

    #[test]
    fn reader_reports_truncation_instead_of_panicking() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(r.u32().is_err());
        let mut r = Reader::new(&[255, 255, 255, 255]);
        assert!(r.count(1).is_err());
    }
}
