//! `focal train`: one model, one remedy, judged per class on a held-out test split.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use focal_data::split::SplitFractions;
use focal_train::run::{EpochRecord, render_report};
use focal_train::{PreparedData, Progress, REMEDIES, RemedyKind, TrainConfig};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::training::{TrainingArgs, set_threads};

/// A remedy name, with the descriptions of focal-train's remedy table as help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemedyArg(pub RemedyKind);

const fn remedy_args() -> [RemedyArg; REMEDIES.len()] {
    let mut a = [RemedyArg(RemedyKind::Ce); REMEDIES.len()];
    let mut i = 0;
    while i < REMEDIES.len() {
        a[i] = RemedyArg(REMEDIES[i].kind);
        i += 1;
    }
    a
}
static REMEDY_ARGS: [RemedyArg; REMEDIES.len()] = remedy_args();

impl ValueEnum for RemedyArg {
    fn value_variants<'a>() -> &'a [Self] {
        &REMEDY_ARGS
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        let info = self.0.info();
        Some(PossibleValue::new(info.name).help(info.description))
    }
}

/// Arguments of `focal train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The data, task, model, budget, optimizer and remedy parameters.
    #[command(flatten)]
    pub training: TrainingArgs,
    /// The imbalance remedy.
    #[arg(long, value_enum, default_value = "ce")]
    pub remedy: RemedyArg,
    /// Folder that receives the run folder.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Name of the run folder (default: REMEDY-MODEL-seedSEED; -2, -3... when taken).
    #[arg(long)]
    pub name: Option<String>,
    /// Continue the interrupted run in this folder (its config.json gives every setting;
    /// --data overrides where the data are read from; a flag that would change a setting is
    /// refused).
    #[arg(long, value_name = "DIR", conflicts_with_all = RESUME_CONFLICTS)]
    pub resume: Option<PathBuf>,
}

/// The flags `--resume` refuses: the run's config.json sets what they would.
const RESUME_CONFLICTS: [&str; 38] = [
    "positive",
    "ratio",
    "long_tail",
    "allow_majority_positive",
    "label_column",
    "image_size",
    "max_memory",
    "model",
    "gamma",
    "alpha",
    "beta",
    "tau",
    "epsilon",
    "pretrained",
    "prior_bias",
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "weight_decay",
    "schedule",
    "warmup_epochs",
    "clip_grad",
    "early_stop",
    "target_recall",
    "device",
    "stream",
    "checkpoint_every",
    "seed",
    "calibrate",
    "augment",
    "augment_flip",
    "augment_shift",
    "augment_rotate",
    "log_dir",
    "remedy",
    "out",
    "name",
];

impl TrainArgs {
    /// The training configuration, every flag checked (before any data is read).
    fn config(&self) -> anyhow::Result<TrainConfig> {
        let remedy = self.training.remedy_params()?.check(self.remedy.0)?;
        self.training.check_augment_flags(&[self.remedy.0])?;
        self.training.config(remedy, TrainConfig::DEFAULT_EPOCHS)
    }
}

/// Checks that `dir`, given with `flag`, is a run folder (it has `config.json`); otherwise says
/// what it is instead (missing, a file, an experiment folder) and what to give.
pub fn check_run_dir(dir: &Path, flag: &str) -> anyhow::Result<()> {
    let shown = dir.display();
    if !dir.exists() {
        bail!("{flag} {shown}: no such folder; give a run folder written by `focal train`");
    }
    if !dir.is_dir() {
        bail!("{flag} {shown}: a file; give a run folder written by `focal train`");
    }
    if dir.join("config.json").is_file() {
        return Ok(());
    }
    if dir.join("plan.json").is_file() || dir.join("comparison.json").is_file() {
        let example = std::fs::read_dir(dir)
            .ok()
            .and_then(|entries| {
                let mut runs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("config.json").is_file())
                    .collect();
                runs.sort();
                runs.into_iter().next()
            })
            .map_or(String::new(), |p| format!(", e.g. {}", p.display()));
        bail!(
            "{flag} {shown}: an experiment folder (compare or sweep), not a run; give one of its \
             run folders{example} (`focal report {shown}` rebuilds the experiment's report)"
        );
    }
    bail!(
        "{flag} {shown}: not a run folder (no config.json); give a folder written by `focal train` \
         (its run folder is printed at the end of training)"
    )
}

/// Rebuilds the data of a finished or interrupted run, from `data` or the run's own source.
pub fn run_data(run_dir: &Path, data: Option<&Path>) -> anyhow::Result<PreparedData> {
    focal_train::run::run_data(run_dir, data).with_context(|| match data {
        Some(p) => format!(
            "rebuilding the task of {} from --data {}",
            run_dir.display(),
            p.display()
        ),
        None => format!("rebuilding the task of {}", run_dir.display()),
    })
}

/// Progress on stderr: bars on a terminal, one line per epoch otherwise, nothing with --quiet.
pub(crate) struct CliProgress {
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
    pub(crate) fn new(quiet: bool, epochs: usize, data: &PreparedData) -> Self {
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
            s.set_style(style("  step {pos}/{len} [{bar:30}] ETA {eta} loss {msg}"));
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

    pub(crate) fn finish(&self) {
        if let Mode::Bars { epochs, steps, .. } = &self.mode {
            steps.finish_and_clear();
            epochs.finish_and_clear();
        }
    }
}

/// The line printed after each epoch: losses, validation PR-AUC, and the precision, recall and
/// F1 (at argmax) of the positive class (`minority`: the positive class of a binary task, the
/// rarest class otherwise), named.
fn epoch_line(r: &EpochRecord, epochs: usize, minority: usize, name: &str) -> String {
    let prf = r.val_per_class.get(minority).map_or_else(
        || "n/a".to_string(),
        |[p, rc, f1]| format!("P {p:.3} R {rc:.3} F1 {f1:.3}"),
    );
    format!(
        "epoch {}/{}  train loss {:.4}  val loss {:.4}  val PR-AUC {}  val {name}: {prf}  {:.1}s",
        r.epoch,
        epochs,
        r.train_loss,
        r.val_loss,
        r.val_pr_auc.map_or("n/a".into(), |v| format!("{v:.4}")),
        r.time_s
    )
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
            steps.set_message(format!("{running_loss:.4} (epoch mean so far)"));
        }
    }
    fn epoch_end(&self, record: &EpochRecord, n: usize) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!(
                "{}",
                epoch_line(record, n, self.minority, &self.minority_name)
            ),
            Mode::Bars { epochs, .. } => {
                epochs.set_position(record.epoch as u64);
                epochs.println(epoch_line(record, n, self.minority, &self.minority_name));
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

/// Removes the run folder of a fresh run that failed before it wrote `config.json` (nothing
/// there can be resumed: bad pretrained weights, a model that does not fit the data), and
/// `--out` when this run created it and it is empty again. Best effort: the training error is
/// what the user sees.
fn remove_unstarted(run_dir: &Path, out: &Path, out_existed: bool) {
    if run_dir.join("config.json").exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(run_dir);
    if !out_existed {
        let _ = std::fs::remove_dir(out);
    }
}

/// Runs `focal train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let t = &args.training;
    set_threads(t.threads)?;
    let summary = if let Some(dir) = &args.resume {
        check_run_dir(dir, "--resume")?;
        let data = run_data(dir, t.task.data.as_deref())?;
        let rc = focal_train::read_config(dir)?;
        let progress = CliProgress::new(t.quiet, rc.train.epochs, &data);
        let s = focal_experiment::pipeline::resume(dir, &data, &progress)
            .with_context(|| format!("--resume {}", dir.display()));
        progress.finish();
        s?
    } else {
        let config = args.config()?;
        let spec = t.task.spec(t.seed)?;
        let source = t.load()?;
        let data = PreparedData::from_source(source, &spec, SplitFractions::default())
            .and_then(|d| d.with_input_normalization(t.input_normalization()))
            .with_context(|| match &t.task.data {
                Some(p) => format!("building the task from --data {}", p.display()),
                None => "building the task".to_string(),
            })?
            .with_label_column(t.task.label_column.clone());
        // Refused before a run folder is made (augmentation needs images).
        config.check_samples(&data.dataset.kind)?;
        let name = args.name.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-seed{}",
                config.remedy.kind(),
                config.model,
                config.seed
            )
        });
        if args.out.exists() && !args.out.is_dir() {
            bail!(
                "--out {}: a file is there; give a folder (run folders are made inside it)",
                args.out.display()
            );
        }
        let out_existed = args.out.exists();
        let dir = focal_train::run::fresh_run_dir(&args.out, &name)?;
        // --log-dir DIR: this run logs to DIR/<its folder's name>.
        let mut config = config;
        config.log_dir = config
            .log_dir
            .map(|d| d.join(dir.file_name().unwrap_or(name.as_ref())));
        let progress = CliProgress::new(t.quiet, config.epochs, &data);
        if !t.quiet {
            progress.message(&crate::training::task_line(&t.task, &data));
            progress.message(&t.model_line()?);
            for w in crate::training::few_positives_warnings(&data) {
                progress.message(&w);
            }
            let c = |s: &[usize]| data.dataset.class_counts_of(s);
            progress.message(&format!(
                "task: {} classes {:?}; train {:?}, val {:?}, test {:?}; remedy {}; run folder {}",
                data.n_classes(),
                data.dataset.class_names,
                c(&data.splits.train),
                c(&data.splits.val),
                c(&data.splits.test),
                config.remedy_label(),
                dir.display()
            ));
        }
        let s = focal_experiment::pipeline::train(&config, &data, &dir, &progress);
        progress.finish();
        if s.is_err() {
            remove_unstarted(&dir, &args.out, out_existed);
        }
        s.with_context(|| format!("training into {}", dir.display()))?
    };
    if !t.quiet {
        print!("{}", render_report(&summary.metrics));
        println!(
            "time per epoch: {:.1} s over {} epochs ({}); run folder: {}",
            summary.time_per_epoch_s(),
            summary.metrics.epochs_run,
            summary.metrics.stopped,
            summary.run_dir.display()
        );
    }
    Ok(())
}
