//! Remedies for class imbalance: one named combination of a data-side strategy and a loss.
//!
//! Every remedy is described once, in the table below: its name, what it does to the data, its
//! loss, and its parameters with their types and defaults. [`Remedy`] (a remedy with checked
//! parameters), [`RemedyKind`] (which remedy), [`RemedyKind::info`], [`Remedy::default_for`],
//! the parameters a remedy reads, [`RemedyParams::check`] and the record in `config.json` all
//! derive from it; only the loss a remedy trains with ([`Remedy::loss`]) is written by hand.
//! The decision side (argmax, or a threshold tuned on validation) is applied to every remedy at
//! evaluation, so each run reports both.

mod alpha;
mod loss;
mod table;

pub use alpha::Alpha;
pub use loss::Loss;
pub use table::{DataSide, Remedy, RemedyInfo, RemedyKind, RemedyParams, RemedyRecord};

pub use crate::value::{
    DEFAULT_CB_BETA, DEFAULT_DRW_BETA, DEFAULT_EPSILON, DEFAULT_GAMMA, DEFAULT_TAU,
};

#[cfg(test)]
mod tests;
