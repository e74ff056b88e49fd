//! Real data in, an imbalanced task out: loaders, task construction, stratified splits, samplers.
//!
//! Every loader produces one in-memory [`Dataset`]; see `dataset.rs` for its conventions.

mod dataset;

pub use dataset::{Dataset, SampleKind, Splits};
