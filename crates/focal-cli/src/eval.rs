//! `focal eval`: judge predictions per class, as scikit-learn's `classification_report` does.
//!
//! Inputs: `--predictions FILE.csv` (any model's predictions) or `--run DIR` (a trained run's
//! model re-evaluated on its test split); focal-train's `judge` does the rest.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use focal_train::judge::{JudgeInput, JudgeSpec, judge};

use crate::flags::flag;

/// Arguments of `focal eval`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["predictions", "run"])))]
pub struct EvalArgs {
    // ---- What to evaluate: exactly one input. ----
    /// CSV of predictions: header `y_true,y_pred`, optionally followed by `p_0,...,p_{C-1}`
    /// (class probabilities, each row summing to 1) and optionally preceded by a sample `id`
    /// column (as a run's predictions.csv has). Classes are 0..C-1, where C is the number of
    /// `p_` columns, or 1 + the largest label when there are none. Labels may be names
    /// (`cat`, `dog`: classes sorted, or in the order of `p_cat,p_dog` columns); a two-class
    /// file may give one score column (`score` or `p_1`, the positive class's probability);
    /// without y_pred the decision is the argmax (a score: >= 0.5).
    #[arg(long, value_name = "FILE.csv")]
    pub predictions: Option<PathBuf>,

    /// A run folder written by `focal train` (or `focal compare`): re-evaluates its model on its
    /// test split and prints the report at each decision rule (argmax, tuned threshold).
    #[arg(long, value_name = "DIR", conflicts_with = "predictions")]
    pub run: Option<PathBuf>,

    /// With `--run`: the data set to evaluate on, when it is not at the path the run recorded.
    /// Its fingerprint must match the run's.
    #[arg(long, value_name = "PATH", requires = "run")]
    pub data: Option<PathBuf>,

    // ---- How to print it. ----
    /// Print one JSON object instead of text, the same schema for --predictions and --run
    /// (README, "eval's JSON"): the first decision's report, confusion_matrix,
    /// balanced_accuracy, mcc, cohen_kappa and, with probabilities and every class present in
    /// y_true, average_precision, roc_auc and ranking; then source, path, n_samples, classes,
    /// positive, positive_name, and decisions (one object per decision rule with the same
    /// metric keys plus rule, threshold and description).
    #[arg(long)]
    pub json: bool,

    /// With --predictions: the positive class of a two-class file, by name (see --class-names)
    /// or index: its probability column is the score of PR-AUC and ROC-AUC, and --threshold
    /// applies to it. Default: class 1 (scikit-learn's pos_label=1).
    #[arg(long, value_name = "NAME|INDEX", requires = "predictions")]
    pub positive: Option<String>,

    /// Two classes with probabilities: decide "positive" when the positive class's probability
    /// is >= T. With --predictions it replaces the file's y_pred (e.g. a run's tuned
    /// threshold); with --run it is judged beside the run's own decision rules.
    #[arg(long, value_name = "T")]
    pub threshold: Option<f64>,

    /// With --predictions: the class names, comma-separated in label order (0, 1, ...), for
    /// the report's rows and for --positive.
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        requires = "predictions"
    )]
    pub class_names: Option<Vec<String>>,

    /// Digits after the decimal point in the classification report (the other metrics print
    /// with at least 4).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub digits: usize,
}

/// Runs `focal eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let input = match (args.run, args.predictions) {
        (Some(dir), _) => JudgeInput::Run {
            dir,
            data: args.data,
        },
        (None, Some(path)) => JudgeInput::Predictions(path),
        (None, None) => anyhow::bail!(
            "nothing to evaluate: pass --predictions FILE.csv or --run DIR (see `focal eval --help`)"
        ),
    };
    let judgement = judge(&JudgeSpec {
        input,
        positive: args.positive,
        threshold: args.threshold,
        class_names: args.class_names,
        digits: args.digits,
    })?;
    let names = |s| flag(s).to_string();
    let text = if args.json {
        serde_json::to_string_pretty(&judgement.json(&names))? + "\n"
    } else {
        judgement.text(&names)
    };
    emit(&text)
}

/// Writes to stdout; a closed pipe (`focal eval ... | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("writing the evaluation to stdout"),
    }
}
