//! Progress on stderr: bars on a terminal, one line per epoch otherwise, nothing with --quiet.

use std::io::IsTerminal;
use std::time::Duration;

use focal_train::run::EpochRecord;
use focal_train::{PreparedData, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress on stderr: bars on a terminal, one line per epoch otherwise, nothing with --quiet.
pub struct CliProgress {
    mode: Mode,
    /// The task's minority class, whose recall the epoch line shows.
    minority: usize,
    /// Its name.
    minority_name: String,
}

enum Mode {
    Quiet,
    Lines,
    Bars {
        _multi: MultiProgress,
        epochs: ProgressBar,
        steps: ProgressBar,
    },
}

impl CliProgress {
    /// Progress of a run of `epochs` epochs on `data` (whose positive or rarest class the epoch
    /// line follows).
    pub fn new(quiet: bool, epochs: usize, data: &PreparedData) -> Self {
        let minority = data.minority();
        let minority_name = data
            .dataset
            .class_names
            .get(minority)
            .cloned()
            .unwrap_or_else(|| format!("class {minority}"));
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = |t: &str| {
                ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar())
            };
            let e = multi.add(ProgressBar::new(epochs as u64));
            e.set_style(style(
                "epoch {prefix}/{len} [{bar:30}] {elapsed_precise} ETA {eta} {msg}",
            ));
            let s = multi.add(ProgressBar::new(0));
            s.set_style(style("  step {pos}/{len} [{bar:30}] ETA {eta} {msg}"));
            e.enable_steady_tick(Duration::from_millis(500));
            Mode::Bars {
                _multi: multi,
                epochs: e,
                steps: s,
            }
        } else {
            Mode::Lines
        };
        CliProgress {
            mode,
            minority,
            minority_name,
        }
    }

    pub fn finish(&self) {
        if let Mode::Bars { epochs, steps, .. } = &self.mode {
            steps.finish_and_clear();
            epochs.finish_and_clear();
        }
    }
}

impl Progress for CliProgress {
    fn epoch_start(&self, epoch: usize, _epochs: usize, steps: usize) {
        if let Mode::Bars {
            epochs, steps: s, ..
        } = &self.mode
        {
            // The bar fills with finished epochs; the counter names the one running.
            epochs.set_position(epoch as u64 - 1);
            epochs.set_prefix(epoch.to_string());
            s.set_length(steps as u64);
            s.set_position(0);
            s.reset_eta();
        }
    }
    fn step(&self, step: usize, running_loss: f32) {
        if let Mode::Bars { steps, .. } = &self.mode {
            steps.set_position(step as u64);
            steps.set_message(format!("loss {running_loss:.4} (epoch mean so far)"));
        }
    }
    fn work(&self, what: &str, done: usize, total: usize) {
        if let Mode::Bars { steps, .. } = &self.mode {
            steps.set_length(total as u64);
            steps.set_position(done as u64);
            steps.set_message(what.to_string());
        }
    }
    fn epoch_end(&self, record: &EpochRecord, n: usize) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{}", record.line(n, self.minority, &self.minority_name)),
            Mode::Bars { epochs, .. } => {
                epochs.set_position(record.epoch as u64);
                epochs.println(record.line(n, self.minority, &self.minority_name));
            }
        }
    }
    fn message(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{text}"),
            Mode::Bars { epochs, .. } => epochs.println(text),
        }
    }
}
