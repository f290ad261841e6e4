//! Evaluation and training code behind `dossier-eval`: readers for the development data and
//! scorers that reproduce the judges' scripts exactly.

pub mod claims;
