//! `focal predict`: a trained run's model applied to new data, one CSV row per input.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use focal_train::predict::{Predictor, write_predictions};
use focal_train::{DecisionRule, DeviceChoice, Setting, TrainSpec};

use crate::args::{named, parse_count};

/// Arguments of `focal predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder (of `focal train`, or one run of a comparison). Its model of the evaluated
    /// epoch is used (the best validation epoch with --early-stop, else the last), with the
    /// run's image size, standardisation, class names and tuned threshold.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// What to predict: one image file, a folder of images (class folders not needed), a CSV
    /// with or without the label column, or any data `focal train` reads (its labels are then
    /// ignored, unless --eval). Images are resized and converted to the run's size and channels
    /// as training did.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// The CSV to write: `id` (the file path of an image, else the row number from 0),
    /// `p_<class>` per class, and `prediction` (the class name under --rule).
    #[arg(long, value_name = "FILE", default_value = "predictions-new.csv")]
    pub out: PathBuf,
    /// The decision: argmax, tuned (the threshold the run tuned on validation; binary runs), or
    /// a threshold in [0, 1] on the positive class's probability (binary runs). Default: tuned
    /// for binary runs, argmax otherwise.
    #[arg(long, value_name = "argmax|tuned|THRESHOLD")]
    pub rule: Option<String>,
    /// Samples moved to the device at a time.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = parse_count)]
    pub batch_size: usize,
    /// Where to predict.
    #[arg(long, default_value_t = TrainSpec::default().device, value_parser = named::<DeviceChoice>())]
    pub device: DeviceChoice,
    /// Worker threads of the CPU backend (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// CSV only: the label column, when the file has one (default: the run's).
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Also write each class's logit (before the softmax) as `logit_<class>` columns, e.g. to
    /// compare with an exported model in another framework (scripts/check_export.py).
    #[arg(long)]
    pub logits: bool,
    /// Judge the predictions against the data's labels (class folders, IDX, NPZ, a CSV with its
    /// label column) and print the classification report and confusion matrix.
    #[arg(long)]
    pub eval: bool,
    /// Print nothing but errors (and the report with --eval).
    #[arg(long, short)]
    pub quiet: bool,
    /// How a manifest or DICOM files are read (default: as the run read its data; a manifest
    /// with the run's image column is read as one).
    #[command(flatten)]
    pub reading: crate::args::ReadingArgs,
}

/// Runs `focal predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    crate::args::set_threads(args.threads)?;
    let rule = args
        .rule
        .as_deref()
        .map(str::parse::<DecisionRule>)
        .transpose()?;
    focal_train::run::check_run(&args.run, Setting::Run)?;
    let shown = args.run.display();
    let predictor =
        Predictor::open(&args.run, args.device).with_context(|| format!("--run {shown}"))?;
    let rule = rule.unwrap_or_else(|| predictor.default_rule());
    let inputs = predictor
        .read(
            &args.data,
            args.label_column.clone(),
            &args.reading.reading(),
        )
        .with_context(|| format!("--data {}", args.data.display()))?;
    if inputs.is_empty() {
        bail!("--data {}: holds no sample", args.data.display());
    }
    let labels = match (&inputs.labels, args.eval) {
        (Some(l), true) => Some(predictor.task_labels(&args.data, l)?),
        (None, true) => bail!(
            "--eval: {} holds no labels (image files, or a CSV without its label column); give \
             class folders, IDX, NPZ or a CSV with the label column, or leave --eval out",
            args.data.display()
        ),
        (_, false) => None,
    };
    let probs = predictor.probabilities(&inputs, args.batch_size)?;
    let pred = predictor.decide(&probs, rule)?;
    let names = predictor.class_names();
    let logits = if args.logits {
        Some(predictor.logits(&inputs, args.batch_size)?)
    } else {
        None
    };
    write_predictions(
        &args.out,
        &inputs.ids,
        names,
        &probs,
        logits.as_deref(),
        &pred,
    )
    .with_context(|| format!("--out {}", args.out.display()))?;
    let rule_text = match (rule, predictor.tuned_threshold) {
        (DecisionRule::Tuned, Some(t)) => format!("tuned threshold {t:.4}"),
        (r, _) => r.to_string(),
    };
    if !args.quiet {
        eprintln!(
            "{} predictions of {} (model of epoch {}, rule {rule_text}) written to {}",
            inputs.len(),
            shown,
            predictor.epoch,
            args.out.display()
        );
    }
    if let Some(y_true) = labels {
        let options = focal_metrics::ReportOptions {
            target_names: Some(names.to_vec()),
            ..Default::default()
        };
        let report =
            focal_metrics::ClassificationReport::new(&y_true, &pred, names.len(), &options)?;
        println!("rule: {rule_text}\n\n{report}");
        let cm = focal_metrics::ConfusionMatrix::new(&y_true, &pred, names.len())?;
        print!("{}", cm.text());
    }
    Ok(())
}
