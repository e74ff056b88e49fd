//! The settings of a run: [`TrainSpec`] as a user gives them (public, unchecked, `focal
//! train`'s defaults by `Default`), checked once into the [`TrainConfig`] a run trains with
//! (private fields, read through its methods; what `config.json` records).

mod checked;
mod kinds;
mod spec;

pub use checked::TrainConfig;
pub use kinds::{ADAM_EPSILON, Calibration, OptimizerKind, ScheduleKind, Streaming};
pub use spec::{AugmentChoice, AugmentSpec, TrainSpec};

#[cfg(test)]
mod tests;
