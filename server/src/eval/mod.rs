//! Evaluation commands behind `dossier-eval`: each module loads a development set from
//! `../shared/data`, runs the engine on it and scores the result the way the judging does.

pub mod ir;
