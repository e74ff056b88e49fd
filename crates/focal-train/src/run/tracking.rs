//! `--log-dir`: a run's progress in the formats experiment trackers read.
//!
//! ```text
//! <log dir>/
//!   events.out.tfevents.<secs>.<host>   TensorBoard: scalars per step (train/loss_running) and
//!                                       per epoch (train/loss, val/loss, val/pr_auc,
//!                                       val/roc_auc, val/accuracy, val/balanced_accuracy,
//!                                       val/{precision,recall,f1}_<class>, lr, epoch_time_s),
//!                                       test/pr_auc, test/roc_auc and, for a binary task, the
//!                                       test PR curve of the positive class at the end
//!   metrics.jsonl                       one JSON object per epoch: history.csv's record
//! ```
//!
//! A resumed run appends a new events file (TensorBoard reads every file of the folder) and
//! rewrites `metrics.jsonl` without the epochs it trains again. Step numbers are global
//! (`(epoch - 1) * steps per epoch + step`), so resumed curves continue where they stopped.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::TrainError;
use crate::evaluate::Predictions;
use crate::run::record::{EpochRecord, FinalMetrics};
use focal_tensorboard::EventWriter;

/// The file of per-epoch JSON objects.
pub const METRICS_JSONL: &str = "metrics.jsonl";

/// Thresholds of the test PR curve (TensorBoard's default is 127; 201 gives steps of 0.005).
const PR_CURVE_THRESHOLDS: u32 = 201;

/// Writes a run's progress to a log folder: TensorBoard events and `metrics.jsonl`.
pub struct Tracker {
    dir: PathBuf,
    events: EventWriter,
    class_names: Vec<String>,
    /// Steps of each epoch (the global step of an epoch's step `s` is
    /// `(epoch - 1) * steps + s`); set by [`Tracker::epoch_start`].
    steps: usize,
    epoch: usize,
}

impl Tracker {
    /// Opens `dir` for a run that starts after `done_epochs` finished epochs (0 for a fresh
    /// run): creates it, starts a new events file and drops the lines of `metrics.jsonl` of
    /// later epochs (a resumed run trains them again).
    pub fn open(
        dir: &Path,
        class_names: &[String],
        done_epochs: usize,
    ) -> Result<Self, TrainError> {
        let events = EventWriter::new(dir).map_err(|e| TrainError::io(dir, e))?;
        let jsonl = dir.join(METRICS_JSONL);
        match std::fs::read_to_string(&jsonl) {
            Ok(text) => {
                let kept: String = text
                    .lines()
                    .filter(|line| {
                        serde_json::from_str::<serde_json::Value>(line)
                            .ok()
                            .and_then(|v| v.get("epoch").and_then(serde_json::Value::as_u64))
                            .is_some_and(|e| e as usize <= done_epochs)
                    })
                    .map(|line| format!("{line}\n"))
                    .collect();
                crate::run::write_atomic(&jsonl, kept.as_bytes())?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TrainError::io(&jsonl, e)),
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            events,
            class_names: class_names.to_vec(),
            steps: 0,
            epoch: 1,
        })
    }

    fn global_step(&self, step: usize) -> i64 {
        ((self.epoch.saturating_sub(1)) * self.steps + step) as i64
    }

    fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<(), TrainError> {
        self.events
            .scalar(tag, step, value as f32)
            .map_err(|e| TrainError::io(self.events.path(), e))
    }

    /// Epoch `epoch` starts with `steps` steps.
    pub fn epoch_start(&mut self, epoch: usize, steps: usize) {
        self.epoch = epoch;
        self.steps = steps;
    }

    /// The running mean loss of the epoch after `step` (1-based) steps.
    pub fn step(&mut self, step: usize, running_loss: f32) -> Result<(), TrainError> {
        let s = self.global_step(step);
        self.scalar("train/loss_running", s, f64::from(running_loss))
    }

    /// An epoch finished: its scalars (at the epoch's last global step) and its line of
    /// `metrics.jsonl`; both flushed, so a live TensorBoard sees the epoch.
    pub fn epoch_end(&mut self, record: &EpochRecord) -> Result<(), TrainError> {
        self.epoch = record.epoch;
        let s = self.global_step(self.steps);
        let mut scalars = vec![
            ("train/loss".to_string(), Some(record.train_loss)),
            ("val/loss".to_string(), Some(record.val_loss)),
            ("val/accuracy".to_string(), Some(record.val_accuracy)),
            (
                "val/balanced_accuracy".to_string(),
                Some(record.val_balanced_accuracy),
            ),
            ("val/pr_auc".to_string(), record.val_pr_auc),
            ("val/roc_auc".to_string(), record.val_roc_auc),
            ("lr".to_string(), Some(record.lr)),
            ("epoch_time_s".to_string(), Some(record.time_s)),
        ];
        for (c, [p, r, f1]) in record.val_per_class.iter().enumerate() {
            let name = tag_part(self.class_names.get(c).map_or("", String::as_str), c);
            scalars.push((format!("val/precision_{name}"), Some(*p)));
            scalars.push((format!("val/recall_{name}"), Some(*r)));
            scalars.push((format!("val/f1_{name}"), Some(*f1)));
        }
        for (tag, value) in scalars {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                self.scalar(&tag, s, v)?;
            }
        }
        self.events
            .flush()
            .map_err(|e| TrainError::io(self.events.path(), e))?;
        let jsonl = self.dir.join(METRICS_JSONL);
        let line =
            serde_json::to_string(record).map_err(|e| TrainError::format(&jsonl, e.to_string()))?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&jsonl)
            .map_err(|e| TrainError::io(&jsonl, e))?;
        writeln!(file, "{line}").map_err(|e| TrainError::io(&jsonl, e))
    }

    /// The run finished: test PR-AUC and ROC-AUC, and for a binary task the test PR curve of
    /// the positive class (at the last global step).
    pub fn finish(
        &mut self,
        metrics: &FinalMetrics,
        test: &Predictions,
        positive: Option<usize>,
    ) -> Result<(), TrainError> {
        let s = self.global_step(self.steps);
        if let Some(v) = metrics.test_pr_auc.filter(|v| v.is_finite()) {
            self.scalar("test/pr_auc", s, v)?;
        }
        if let Some(v) = metrics.test_roc_auc.filter(|v| v.is_finite()) {
            self.scalar("test/roc_auc", s, v)?;
        }
        if let Some(p) = positive {
            let labels: Vec<bool> = test.y_true.iter().map(|&y| y == p).collect();
            let scores: Vec<f64> = (0..test.len()).map(|i| f64::from(test.row(i)[p])).collect();
            self.events
                .pr_curve("test/pr_curve", s, &labels, &scores, PR_CURVE_THRESHOLDS)
                .map_err(|e| TrainError::io(self.events.path(), e))?;
        }
        self.events
            .flush()
            .map_err(|e| TrainError::io(self.events.path(), e))
    }
}

/// A class name as a tag component: letters, digits, `-`, `.` and `_` kept, anything else
/// `_`; the class index when nothing is left.
fn tag_part(name: &str, index: usize) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('_').is_empty() {
        index.to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_become_tag_parts() {
        assert_eq!(tag_part("not Bag", 0), "not_Bag");
        assert_eq!(tag_part("T-shirt/top", 1), "T-shirt_top");
        assert_eq!(tag_part("  ", 3), "3");
    }
}
