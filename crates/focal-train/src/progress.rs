//! How the training loop reports progress; the CLI draws bars, a library user may ignore it.

use crate::run::EpochRecord;

/// Receives progress events from [`crate::train`]. Every method has an empty default.
pub trait Progress {
    /// An epoch starts with `steps` steps.
    fn epoch_start(&self, _epoch: usize, _epochs: usize, _steps: usize) {}
    /// Steps up to `step` (1-based) finished; `running_loss` is the mean training loss per
    /// sample of the epoch so far. Called every few steps (each call reads the loss back from
    /// the device) and after the epoch's last step.
    fn step(&self, _step: usize, _running_loss: f32) {}
    /// An epoch finished (validation included).
    fn epoch_end(&self, _record: &EpochRecord, _epochs: usize) {}
    /// Work other than an epoch (`what`: the frozen backbone's `features`) reached step
    /// `done` of `total`.
    fn work(&self, _what: &str, _done: usize, _total: usize) {}
    /// A free-form note (early stopping, resume, pretrained weights).
    fn message(&self, _text: &str) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
