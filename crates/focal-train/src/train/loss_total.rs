//! The running total of an epoch's training loss: the device's losses read back every few
//! steps in one transfer, the NaN guard on each.

use burn::tensor::Tensor;

use crate::error::TrainError;

/// The running total of an epoch's training loss, read from the device every few steps.
pub(super) struct LossTotal {
    pub(super) epoch: usize,
    pub(super) last_good_epoch: usize,
    pub(super) inject_nan_at: Option<(usize, usize)>,
    /// Sum of loss x batch size over the steps read so far.
    pub(super) sum: f64,
    /// Samples of the steps read so far.
    pub(super) n: usize,
    /// Steps not read yet: (step, batch size, loss on the device).
    pub(super) pending: Vec<(usize, usize, Tensor<1>)>,
}

impl LossTotal {
    /// Reads the pending steps' losses in one transfer; the first NaN or infinite one stops the
    /// run, naming its step.
    pub(super) fn read(&mut self) -> Result<(), TrainError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let values = Tensor::cat(self.pending.iter().map(|p| p.2.clone()).collect(), 0)
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| {
                TrainError::device(format!(
                    "reading the training loss back from the device: {e:?}"
                ))
            })?;
        for (&(step, len, _), &v) in self.pending.iter().zip(&values) {
            let value = if self.inject_nan_at == Some((self.epoch, step)) {
                f32::NAN
            } else {
                v
            };
            if !value.is_finite() {
                return Err(TrainError::NonFinite {
                    epoch: self.epoch,
                    step,
                    value,
                    last_good_epoch: self.last_good_epoch,
                });
            }
            self.sum += value as f64 * len as f64;
            self.n += len;
        }
        self.pending.clear();
        Ok(())
    }

    /// Mean loss per sample over the steps read so far.
    pub(super) fn mean(&self) -> f64 {
        if self.n > 0 {
            self.sum / self.n as f64
        } else {
            0.0
        }
    }
}
