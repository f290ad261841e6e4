//! Quantities (stub; replaced below).
use crate::analysis::tokenize::Token;
use std::ops::Range;

/// A number with a unit and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The value.
    pub value: f64,
    /// Lower bound.
    pub lower: Option<f64>,
    /// Upper bound.
    pub upper: Option<f64>,
    /// Unit.
    pub unit: String,
    /// Byte span.
    pub span: Range<usize>,
}

/// Finds quantities.
pub fn find_quantities(_text: &str, _tokens: &[Token]) -> Vec<Quantity> {
    Vec::new()
}
