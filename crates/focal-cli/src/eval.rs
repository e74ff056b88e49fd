//! `focal eval`: judge predictions per class, as scikit-learn's `classification_report` does.
//!
//! Inputs: `--predictions FILE.csv` (any model's predictions). The evaluation itself
//! ([`Predictions`] -> [`Evaluation`]) does not care where the predictions came from, so other
//! inputs (a trained run folder) only need to produce a [`Predictions`].

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use focal_metrics::ranking::{self, BinaryCurve};
use focal_metrics::{
    ClassificationReport, ConfusionMatrix, ImbalancedReport, ReportOptions, balanced_accuracy,
    cohen_kappa, matthews_corrcoef,
};
use focal_train::run::PredictionsFile as Predictions;
use serde::Serialize;

/// Arguments of `focal eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    // ---- What to evaluate: exactly one input. ----
    /// CSV of predictions: header `y_true,y_pred`, optionally followed by `p_0,...,p_{C-1}`
    /// (class probabilities, each row summing to 1) and optionally preceded by a sample `id`
    /// column (as a run's predictions.csv has). Classes are 0..C-1, where C is the number of
    /// `p_` columns, or 1 + the largest label when there are none.
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
    /// Print one JSON object (keys report, confusion_matrix, balanced_accuracy, mcc, and, with
    /// probabilities and every class present in y_true, average_precision and roc_auc) instead
    /// of text.
    #[arg(long)]
    pub json: bool,

    /// With --predictions: the positive class of a two-class file, by name (see --class-names)
    /// or index: its probability column is the score of PR-AUC and ROC-AUC, and --threshold
    /// applies to it. Default: class 1 (scikit-learn's pos_label=1).
    #[arg(long, value_name = "NAME|INDEX", requires = "predictions")]
    pub positive: Option<String>,

    /// With --predictions of a two-class file with probabilities: decide "positive" when the
    /// positive class's probability is >= T (instead of the file's y_pred), e.g. a run's
    /// tuned threshold.
    #[arg(long, value_name = "T", requires = "predictions")]
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
    if let Some(run_dir) = &args.run {
        return crate::eval_run::eval_run(run_dir, args.data.as_deref(), args.json, args.digits);
    }
    let mut predictions = match &args.predictions {
        Some(path) if path.is_dir() => {
            let hint = if path.join("predictions.csv").is_file() {
                format!(
                    "give its predictions file, --predictions {}, or re-evaluate the run with --run {}",
                    path.join("predictions.csv").display(),
                    path.display()
                )
            } else {
                "give a CSV file (a run's predictions.csv, or any model's `y_true,y_pred[,p_0,...]`)"
                    .to_string()
            };
            bail!("--predictions {}: a folder; {hint}", path.display())
        }
        Some(path) => Predictions::read(path)?,
        None => bail!(
            "nothing to evaluate: pass --predictions FILE.csv or --run DIR (see `focal eval --help`)"
        ),
    };
    let names = match &args.class_names {
        Some(names) if names.len() != predictions.n_classes => bail!(
            "--class-names: {} names for {} classes (the file's p_ columns, or its labels); give \
             one name per class, in label order",
            names.len(),
            predictions.n_classes
        ),
        other => other.clone(),
    };
    let positive = match &args.positive {
        Some(p) => {
            let index = match (p.parse::<usize>(), &names) {
                (Ok(i), _) => i,
                (Err(_), Some(names)) => names.iter().position(|n| n == p).with_context(|| {
                    format!(
                        "--positive {p}: no such class; the classes are {}",
                        names.join(", ")
                    )
                })?,
                (Err(_), None) => bail!(
                    "--positive {p}: a name needs --class-names (the file holds class indices); \
                     or give the index"
                ),
            };
            if predictions.n_classes != 2 || index > 1 {
                bail!(
                    "--positive {p}: needs a two-class file and a class 0 or 1 (the file has {} \
                     classes)",
                    predictions.n_classes
                );
            }
            index
        }
        None => 1,
    };
    if let Some(t) = args.threshold {
        let Some(probs) = &predictions.probs else {
            bail!("--threshold {t}: the file has no probability columns (p_0, p_1) to threshold");
        };
        if predictions.n_classes != 2 {
            bail!(
                "--threshold {t}: a threshold decides between two classes; the file has {}",
                predictions.n_classes
            );
        }
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold {t}: a probability threshold must be in [0, 1]");
        }
        predictions.y_pred = probs
            .chunks(2)
            .map(|row| {
                if row[positive] >= t {
                    positive
                } else {
                    1 - positive
                }
            })
            .collect();
    }
    let evaluation = Evaluation::compute(&predictions, args.digits, positive, names)?;
    let text = if args.json {
        serde_json::to_string_pretty(&evaluation.json())? + "\n"
    } else {
        evaluation.text()
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

/// Every metric `focal eval` reports.
#[derive(Debug, Clone)]
pub struct Evaluation {
    report: ClassificationReport,
    imbalanced: ImbalancedReport,
    confusion: ConfusionMatrix,
    balanced_accuracy: f64,
    mcc: f64,
    kappa: f64,
    ranking: Ranking,
}

/// Ranking metrics, or why they were not computed.
#[derive(Debug, Clone)]
enum Ranking {
    NoProbabilities,
    Skipped(String),
    Computed {
        average_precision: f64,
        roc_auc: f64,
        kind: &'static str,
    },
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    report: &'a ClassificationReport,
    confusion_matrix: &'a ConfusionMatrix,
    balanced_accuracy: f64,
    mcc: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roc_auc: Option<f64>,
}

impl Evaluation {
    /// Computes the report and the other metrics: `digits` is the report's precision,
    /// `positive` the class of a two-class file whose probability ranks for PR-AUC and ROC-AUC,
    /// `names` the report's class names.
    pub fn compute(
        p: &Predictions,
        digits: usize,
        positive: usize,
        names: Option<Vec<String>>,
    ) -> anyhow::Result<Self> {
        let options = ReportOptions {
            digits,
            target_names: names,
            ..Default::default()
        };
        let confusion = ConfusionMatrix::new(&p.y_true, &p.y_pred, p.n_classes)?;
        let report = ClassificationReport::from_confusion(&confusion, &options)?;
        let imbalanced = ImbalancedReport::from_confusion(&confusion, &options, 0.1)?;
        let ranking = match &p.probs {
            None => Ranking::NoProbabilities,
            Some(_) if p.n_classes < 2 => {
                Ranking::Skipped("a single class has no ranking".to_string())
            }
            Some(probs) => match (0..p.n_classes).find(|&c| confusion.support(c) == 0) {
                Some(c) => Ranking::Skipped(format!("class {c} never occurs in y_true")),
                None if p.n_classes == 2 => {
                    let y: Vec<bool> = p.y_true.iter().map(|&v| v == positive).collect();
                    let scores: Vec<f64> =
                        probs.iter().skip(positive).step_by(2).copied().collect();
                    let curve = BinaryCurve::new(&y, &scores)?;
                    Ranking::Computed {
                        average_precision: curve.average_precision()?,
                        roc_auc: curve.roc_auc()?,
                        kind: if positive == 1 {
                            "class 1 positive"
                        } else {
                            "class 0 positive"
                        },
                    }
                }
                None => Ranking::Computed {
                    average_precision: ranking::macro_average_precision_ovr(
                        &p.y_true,
                        probs,
                        p.n_classes,
                    )?,
                    roc_auc: ranking::macro_roc_auc_ovr(&p.y_true, probs, p.n_classes)?,
                    kind: "macro one-vs-rest",
                },
            },
        };
        Ok(Self {
            balanced_accuracy: balanced_accuracy(&confusion),
            mcc: matthews_corrcoef(&confusion),
            kappa: cohen_kappa(&confusion),
            report,
            imbalanced,
            confusion,
            ranking,
        })
    }

    /// The JSON object printed by `--json`.
    fn json(&self) -> JsonOutput<'_> {
        let (average_precision, roc_auc) = match self.ranking {
            Ranking::Computed {
                average_precision,
                roc_auc,
                ..
            } => (Some(average_precision), Some(roc_auc)),
            _ => (None, None),
        };
        JsonOutput {
            report: &self.report,
            confusion_matrix: &self.confusion,
            balanced_accuracy: self.balanced_accuracy,
            mcc: self.mcc,
            average_precision,
            roc_auc,
        }
    }

    /// The text report: scikit-learn's classification report first, byte for byte, then the
    /// confusion matrix, imbalanced-learn's report and the other metrics.
    pub fn text(&self) -> String {
        let mut out = self.report.to_string();
        let rows = self.confusion.rows();
        let n = rows.len();
        let width = rows
            .iter()
            .flatten()
            .map(|v| v.to_string().len())
            .chain([n.saturating_sub(1).to_string().len()])
            .max()
            .unwrap_or(1)
            .max(3);
        let label_width = n.saturating_sub(1).to_string().len().max(4);
        out.push_str("\nconfusion matrix (rows = true label, columns = predicted label)\n\n");
        let _ = write!(out, "{:>label_width$}", "");
        for c in 0..n {
            let _ = write!(out, "  {c:>width$}");
        }
        out.push('\n');
        for (t, row) in rows.iter().enumerate() {
            let _ = write!(out, "{t:>label_width$}");
            for v in row {
                let _ = write!(out, "  {v:>width$}");
            }
            out.push('\n');
        }
        let _ = write!(out, "\n{}\n", self.imbalanced);
        let d = self.report.digits().max(4);
        let fmt = |x: f64| {
            if x.is_nan() {
                "nan (undefined)".to_string()
            } else {
                format!("{x:.d$}")
            }
        };
        let _ = writeln!(out, "balanced accuracy  {}", fmt(self.balanced_accuracy));
        let _ = writeln!(out, "MCC                {}", fmt(self.mcc));
        let _ = writeln!(out, "Cohen's kappa      {}", fmt(self.kappa));
        match &self.ranking {
            Ranking::NoProbabilities => {}
            Ranking::Skipped(why) => {
                let _ = writeln!(out, "average precision  not computed: {why}");
                let _ = writeln!(out, "ROC AUC            not computed: {why}");
            }
            Ranking::Computed {
                average_precision,
                roc_auc,
                kind,
            } => {
                let _ = writeln!(
                    out,
                    "average precision  {} ({kind})",
                    fmt(*average_precision)
                );
                let _ = writeln!(out, "ROC AUC            {} ({kind})", fmt(*roc_auc));
            }
        }
        out
    }
}
