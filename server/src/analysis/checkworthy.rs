//! Check-worthiness (stub).

/// Scores a sentence.
pub fn score(_sentence: &str) -> f32 {
    0.0
}
