//! The seeded random number generator behind initialization, shuffling, validation splits
//! and dropout.
//!
//! The stream is ChaCha8 (`rand_chacha`), whose output is fixed by its specification; the
//! conversions to floats, integers and permutations are defined here, so a seed gives the
//! same numbers on every platform and with every dependency version.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng};
use serde::{Deserialize, Serialize};

/// A deterministic random number generator with a state that can be saved and restored.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: ChaCha8Rng,
}

/// A snapshot of an [`Rng`], for checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte ChaCha seed, as hex.
    pub seed: String,
    /// The stream number.
    pub stream: u64,
    /// Position in the stream, in 32-bit words, as a decimal string (it is a `u128`).
    pub word_pos: String,
}

impl Rng {
    /// A generator seeded from one `u64`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An independent generator for a purpose (`salt`) derived from a seed, so that, say,
    /// adding dropout does not change the shuffling order.
    pub fn derived(seed: u64, salt: u64) -> Self {
        let mut rng = Self::new(seed);
        rng.inner.set_stream(salt);
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number in `[low, high)`.
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// A uniform integer in `0..n` (unbiased, by rejection).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Shuffles a slice in place (Fisher–Yates, from the back).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Saves the generator's exact position.
    pub fn state(&self) -> RngState {
        let seed = self.inner.get_seed();
        RngState {
            seed: seed.iter().map(|b| format!("{b:02x}")).collect(),
            stream: self.inner.get_stream(),
            word_pos: self.inner.get_word_pos().to_string(),
        }
    }

    /// Restores a generator saved by [`Rng::state`]; `None` if the snapshot is malformed.
    pub fn from_state(state: &RngState) -> Option<Self> {
        if state.seed.len() != 64 {
            return None;
        }
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(state.seed.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let mut inner = ChaCha8Rng::from_seed(seed);
        inner.set_stream(state.stream);
        inner.set_word_pos(state.word_pos.parse().ok()?);
        Some(Self { inner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_continues_the_stream() {
        let mut rng = Rng::derived(42, 7);
        for _ in 0..5 {
            rng.next_u64();
        }
        let mut restored = Rng::from_state(&rng.state()).unwrap();
        for _ in 0..10 {
            assert_eq!(rng.next_u64(), restored.next_u64());
        }
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        let mut b = a.clone();
        Rng::new(3).shuffle(&mut a);
        Rng::new(3).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn uniform_is_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.below(7) < 7);
        }
    }
}
