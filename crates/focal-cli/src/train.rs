//! `focal train`: one model, one remedy, judged per class on a held-out test split.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use focal_train::run::render_report;
use focal_train::{Progress, RemedyKind, Setting, TrainConfig};

use crate::args::{TrainingArgs, named, set_threads};
use crate::progress::CliProgress;

/// Arguments of `focal train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The data, task, model, budget, optimizer and remedy parameters.
    #[command(flatten)]
    pub training: TrainingArgs,
    /// The imbalance remedy (see the README's table; `--help` lists each with its parameters).
    #[arg(long, default_value_t = RemedyKind::Ce, value_parser = named::<RemedyKind>())]
    pub remedy: RemedyKind,
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

/// The flags `--resume` refuses: the run's config.json sets what they would (every flag of
/// these groups, and these flags).
const RESUME_CONFLICTS: [&str; 8] = [
    // Each a flag group: every flag of the struct of that name.
    "SourceArgs",
    "ReadingArgs",
    "TaskArgs",
    "SplitArgs",
    "SettingsArgs",
    "remedy",
    "out",
    "name",
];

/// Removes the run folder of a fresh run that failed before it wrote `config.json` (nothing
/// there can be resumed: bad pretrained weights, a model that does not fit the data), and
/// `--out` when this run created it and it is empty again. Best effort: the training error is
/// what the user sees.
fn remove_unstarted(run_dir: &Path, out: &Path, out_existed: bool) {
    if focal_train::run::is_started(run_dir) {
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
        focal_train::run::check_run(dir, Setting::Resume)?;
        let data = focal_train::run::run_data(dir, t.data.as_deref())
            .with_context(|| format!("rebuilding the task of {}", dir.display()))?;
        let rc = focal_train::read_config(dir)?;
        let progress = CliProgress::new(t.quiet, rc.train.epochs(), &data);
        let s = focal_experiment::pipeline::resume(dir, &data, &progress)
            .with_context(|| format!("--resume {}", dir.display()));
        progress.finish();
        s?
    } else {
        // Every flag is checked before the data are read.
        let data_spec = t.data_spec();
        data_spec.task()?;
        let remedy = t.remedy_params(true)?.check(args.remedy)?;
        let model = data_spec.model(t.settings.model);
        let spec = t.train_spec(
            model
                .as_ref()
                .map_or(focal_train::ModelKind::Cnn, |m| m.model),
            remedy,
            TrainConfig::DEFAULT_EPOCHS,
        );
        let config = spec.check()?;
        // The loader names a broken file more precisely than the header probe did.
        let prepared = data_spec.prepare(config.model(), config.pretrained().is_some());
        let model = model?;
        let data = prepared.with_context(|| match &t.data {
            Some(p) => format!("building the task from --data {}", p.display()),
            None => "building the task".to_string(),
        })?;
        // Refused before a run folder is made (augmentation needs images).
        config.check_samples(&data.dataset.kind)?;
        let name = args.name.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-seed{}",
                config.remedy().kind(),
                config.model(),
                config.seed()
            )
        });
        let out_existed = args.out.exists();
        let dir = focal_train::run::fresh_run_dir(&args.out, &name)?;
        // --log-dir DIR: this run logs to DIR/<its folder's name>.
        let config = config.with_log_dir(
            config
                .log_dir()
                .map(|d| d.join(dir.file_name().unwrap_or(name.as_ref()))),
        );
        let progress = CliProgress::new(t.quiet, config.epochs(), &data);
        if !t.quiet {
            crate::args::first_lines(&data_spec, &data, &model).for_each(|l| progress.message(&l));
            progress.message(&format!(
                "{}; remedy {}; run folder {}",
                data.split_line(),
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
