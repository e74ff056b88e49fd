//! Many training runs on one split: which remedy works on my data, side by side.
//!
//! - [`experiment`]: a comparison of remedies or a sweep of a remedy's parameters, as a list of
//!   [`experiment::Plan`]s sharing one task, split and budget; their tables
//!   ([`experiment::Comparison`]: mean and spread over seeds, wins called only outside the
//!   noise);
//! - [`plan`]: the experiment written down (`plan.json` + `split.json`) so that any process, a
//!   `--jobs` worker or a cluster's array task, trains run I into its own folder, and
//!   [`plan::gather`] builds the tables from the run folders alone;
//! - [`ensemble`]: groups of seeds averaged and judged as one model;
//! - [`report`]: `report.html` of a run or an experiment (tables and plots), drawn from the
//!   folders' files alone;
//! - [`pipeline`]: a run or an experiment from start to report, the only caller of [`report`].
//!
//! It builds on [`focal_train`] (one run: models, remedies, the loop, the run folder) and adds
//! nothing to it: the training loop writes no HTML, and a build of focal-train alone compiles
//! no plotting library.

pub mod ensemble;
mod error;
pub mod experiment;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod slurm;
pub mod spec;
pub mod workers;

pub use error::ExperimentError;
