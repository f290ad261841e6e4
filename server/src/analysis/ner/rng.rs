//! The one random generator of training: xorshift64* (Vigna 2016), small, fast and
//! deterministic, so the same seed gives the same shuffles, embeddings and cluster seeds, and
//! the shipped model files are reproducible byte for byte.

/// A xorshift64* generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from `seed` (made odd: the state must not be zero).
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `[0, 1)` from the top 24 bits.
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Shuffles `items` in place (Fisher–Yates, from the back).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences the models were trained with (the two generators this one replaced, in
    /// `train.rs` and `induce.rs`, computed independently): a change here changes
    /// `models/ner.bin`.
    #[test]
    fn sequences_are_the_ones_the_models_were_trained_with() {
        let mut r = Rng::new(42);
        let got: Vec<u64> = (0..4).map(|_| r.next()).collect();
        assert_eq!(
            got,
            [
                0x9eb3_1902_fb08_80bd,
                0x7411_91fc_cc34_92f7,
                0x1d2f_a72b_7757_ad59,
                0x8b32_51ce_44bc_b842
            ]
        );
        let mut r = Rng::new(42);
        assert_eq!((r.unit(), r.unit()), (0.619_920_3, 0.453_393_04));
        let mut order: Vec<usize> = (0..10).collect();
        Rng::new(7).shuffle(&mut order);
        assert_eq!(order, [7, 6, 4, 3, 1, 8, 0, 9, 5, 2]);
    }
}
