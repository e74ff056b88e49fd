//! `focal eval`: judge predictions per class, as scikit-learn's `classification_report` does.
//!
//! Inputs: `--predictions FILE.csv` (any model's predictions) or `--run DIR` (a trained run's
//! model re-evaluated on its test split). Both become the same [`Judged`]: labels,
//! probabilities and the decisions to judge, each judged by [`Evaluation`] and printed in one
//! text layout and one JSON schema.

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

/// One decision rule to judge: its name, the threshold on P(positive) when it has one, a
/// description for the text, and the predicted labels.
struct Decision {
    rule: String,
    threshold: Option<f64>,
    describe: String,
    y_pred: Vec<usize>,
}

/// Everything `focal eval` judges, whatever the input: the labels and probabilities, the
/// decisions to judge, and where they came from.
struct Judged {
    source: &'static str,
    path: PathBuf,
    /// A sentence on where the predictions come from (the text's last line).
    origin: String,
    predictions: Predictions,
    classes: Vec<String>,
    positive: Option<usize>,
    decisions: Vec<Decision>,
}

/// Runs `focal eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let judged = match (&args.run, &args.predictions) {
        (Some(run_dir), _) => from_run(run_dir, &args)?,
        (None, Some(path)) => from_predictions(path, &args)?,
        (None, None) => bail!(
            "nothing to evaluate: pass --predictions FILE.csv or --run DIR (see `focal eval --help`)"
        ),
    };
    let ranking = Ranking::compute(
        &judged.predictions,
        judged.positive.unwrap_or(1),
        Some(&judged.classes),
    )?;
    let mut evaluations = Vec::with_capacity(judged.decisions.len());
    for d in &judged.decisions {
        evaluations.push(Evaluation::compute(
            &judged.predictions,
            &d.y_pred,
            ranking.clone(),
            args.digits,
            Some(judged.classes.clone()),
        )?);
    }
    let text = if args.json {
        serde_json::to_string_pretty(&json_output(&judged, &evaluations))? + "\n"
    } else {
        text_output(&judged, &evaluations)
    };
    emit(&text)
}

/// `--threshold T` checked against a two-class input with probabilities: the decision it adds.
fn threshold_decision(
    t: f64,
    predictions: &Predictions,
    positive: usize,
    classes: &[String],
) -> anyhow::Result<Decision> {
    let Some(probs) = &predictions.probs else {
        bail!("--threshold {t}: the file has no probability columns (p_0, p_1) to threshold");
    };
    if predictions.n_classes != 2 {
        bail!(
            "--threshold {t}: a threshold decides between two classes; the data has {}",
            predictions.n_classes
        );
    }
    if !(0.0..=1.0).contains(&t) {
        bail!("--threshold {t}: a probability threshold must be in [0, 1]");
    }
    Ok(Decision {
        rule: "threshold".to_string(),
        threshold: Some(t),
        describe: format!(
            "threshold: {} when P({}) >= {t} (--threshold)",
            classes[positive], classes[positive]
        ),
        y_pred: probs
            .chunks(2)
            .map(|row| {
                if row[positive] >= t {
                    positive
                } else {
                    1 - positive
                }
            })
            .collect(),
    })
}

/// `--predictions FILE`: the file's labels, probabilities and decisions.
fn from_predictions(path: &std::path::Path, args: &EvalArgs) -> anyhow::Result<Judged> {
    if path.is_dir() {
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
    let predictions = Predictions::read(path)?;
    let n = predictions.n_classes;
    let classes: Vec<String> = match (&args.class_names, &predictions.class_names) {
        (Some(names), _) if names.len() != n => bail!(
            "--class-names: {} names for {n} classes (the file's p_ columns, or its labels); give \
             one name per class, in label order",
            names.len(),
        ),
        (Some(names), Some(file)) if names != file => bail!(
            "--class-names: the file names its classes itself ({}); leave --class-names out",
            file.join(", ")
        ),
        (Some(names), _) => names.clone(),
        (None, Some(file)) => file.clone(),
        (None, None) => (0..n).map(|c| c.to_string()).collect(),
    };
    let named = args.class_names.is_some() || predictions.class_names.is_some();
    let positive = match &args.positive {
        Some(p) => {
            let index = match classes.iter().position(|c| c == p) {
                Some(i) if named => i,
                _ => match p.parse::<usize>() {
                    Ok(i) => i,
                    Err(_) if named => bail!(
                        "--positive {p}: no such class; the classes are {}",
                        classes.join(", ")
                    ),
                    Err(_) => bail!(
                        "--positive {p}: a name needs --class-names (the file holds class \
                         indices); or give the index"
                    ),
                },
            };
            if n != 2 || index > 1 {
                bail!(
                    "--positive {p}: needs a two-class file and a class 0 or 1 (the file has {n} \
                     classes)"
                );
            }
            if let Some(s) = predictions.score_of
                && s != index
            {
                bail!(
                    "--positive {p}: the file's single score column is P({}); give --positive {} \
                     or a file with both probability columns",
                    classes[s],
                    classes[s]
                );
            }
            Some(index)
        }
        None if n == 2 => Some(predictions.score_of.unwrap_or(1)),
        None => None,
    };
    let given = if predictions.y_pred_given {
        Decision {
            rule: "y_pred".to_string(),
            threshold: None,
            describe: format!("y_pred: the file's predicted labels ({})", path.display()),
            y_pred: predictions.y_pred.clone(),
        }
    } else {
        Decision {
            rule: "argmax".to_string(),
            threshold: None,
            describe: match predictions.score_of {
                Some(s) => format!(
                    "{} when its score >= 0.5 (the file has no y_pred column)",
                    classes[s]
                ),
                None => {
                    "argmax: the most probable class (the file has no y_pred column)".to_string()
                }
            },
            y_pred: predictions.y_pred.clone(),
        }
    };
    let decisions = match args.threshold {
        // --threshold replaces the file's decision: the user asked for this one.
        Some(t) => vec![threshold_decision(
            t,
            &predictions,
            positive.unwrap_or(1),
            &classes,
        )?],
        None => vec![given],
    };
    Ok(Judged {
        source: "predictions",
        path: path.to_path_buf(),
        origin: format!(
            "source: predictions file {} ({} samples)",
            path.display(),
            predictions.y_true.len()
        ),
        predictions,
        classes,
        positive,
        decisions,
    })
}

/// `--run DIR`: the run's model re-evaluated on its test split, at each of its decision rules
/// (and at `--threshold` when given).
fn from_run(run_dir: &std::path::Path, args: &EvalArgs) -> anyhow::Result<Judged> {
    crate::train::check_run_dir(run_dir, "--run")?;
    let prepared = crate::train::run_data(run_dir, args.data.as_deref())?;
    let (metrics, test) = focal_train::evaluate_run_predictions(run_dir, &prepared)
        .with_context(|| format!("--run {}", run_dir.display()))?;
    let classes = metrics.class_names.clone();
    let positive = metrics.positive;
    let argmax = test.argmax();
    let mut decisions = Vec::new();
    for (rule, m) in &metrics.rules {
        let (y_pred, describe) = match (m.threshold, positive) {
            (Some(t), Some(p)) => (
                test.at_threshold(p, t),
                format!(
                    "{rule}: {} when P({}) >= {t} (tuned on validation)",
                    classes[p], classes[p]
                ),
            ),
            _ => (argmax.clone(), format!("{rule}: the most probable class")),
        };
        decisions.push(Decision {
            rule: rule.name().to_string(),
            threshold: m.threshold,
            describe,
            y_pred,
        });
    }
    let predictions = Predictions {
        ids: None,
        y_true: test.y_true.clone(),
        y_pred: argmax,
        probs: Some(test.probs.iter().map(|&p| f64::from(p)).collect()),
        n_classes: test.n_classes,
        class_names: Some(classes.clone()),
        score_of: None,
        y_pred_given: false,
    };
    if let Some(t) = args.threshold {
        decisions.push(threshold_decision(
            t,
            &predictions,
            positive.unwrap_or(1),
            &classes,
        )?);
    }
    let temperature = metrics
        .temperature()
        .map(|t| format!(", probabilities at temperature {t:.4}"))
        .unwrap_or_default();
    Ok(Judged {
        source: "run",
        path: run_dir.to_path_buf(),
        origin: format!(
            "source: run {}, the model of epoch {} re-evaluated on its test split ({} samples{temperature})",
            run_dir.display(),
            metrics.evaluated_epoch,
            test.y_true.len()
        ),
        predictions,
        classes,
        positive,
        decisions,
    })
}

/// The text: each decision's evaluation (scikit-learn's classification report first), each
/// named after its block, then where the predictions came from.
fn text_output(judged: &Judged, evaluations: &[Evaluation]) -> String {
    let mut out = String::new();
    for (i, (d, e)) in judged.decisions.iter().zip(evaluations).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&e.text());
        let _ = writeln!(out, "decision: {}", d.describe);
    }
    let _ = writeln!(out, "\n{}", judged.origin);
    out
}

/// The JSON: the first decision's metrics at the top level (the keys `--json` always had),
/// every decision under `decisions`, and the input described.
fn json_output(judged: &Judged, evaluations: &[Evaluation]) -> serde_json::Value {
    let mut decisions = Vec::new();
    for (d, e) in judged.decisions.iter().zip(evaluations) {
        let mut v = serde_json::to_value(e.json()).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("rule".into(), d.rule.clone().into());
            o.insert("threshold".into(), d.threshold.into());
            o.insert("description".into(), d.describe.clone().into());
        }
        decisions.push(v);
    }
    let mut top = decisions.first().cloned().unwrap_or_default();
    if let Some(o) = top.as_object_mut() {
        o.insert("source".into(), judged.source.into());
        o.insert("path".into(), judged.path.display().to_string().into());
        o.insert("n_samples".into(), judged.predictions.y_true.len().into());
        o.insert("classes".into(), judged.classes.clone().into());
        o.insert("positive".into(), judged.positive.into());
        o.insert(
            "positive_name".into(),
            judged
                .positive
                .and_then(|p| judged.classes.get(p).cloned())
                .into(),
        );
        o.insert("decisions".into(), decisions.into());
    }
    top
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
pub enum Ranking {
    NoProbabilities,
    Skipped(String),
    Computed {
        average_precision: f64,
        roc_auc: f64,
        kind: String,
    },
}

impl Ranking {
    /// PR-AUC and ROC-AUC of `p`'s probabilities: of the class `positive` for two classes,
    /// macro one-vs-rest for more; `names` name the positive class in the description.
    pub fn compute(
        p: &Predictions,
        positive: usize,
        names: Option<&[String]>,
    ) -> anyhow::Result<Self> {
        let Some(probs) = &p.probs else {
            return Ok(Ranking::NoProbabilities);
        };
        if p.n_classes < 2 {
            return Ok(Ranking::Skipped(
                "a single class has no ranking".to_string(),
            ));
        }
        let mut support = vec![0usize; p.n_classes];
        for &t in &p.y_true {
            support[t] += 1;
        }
        if let Some(c) = support.iter().position(|&n| n == 0) {
            return Ok(Ranking::Skipped(format!(
                "class {c} never occurs in y_true"
            )));
        }
        if p.n_classes == 2 {
            let y: Vec<bool> = p.y_true.iter().map(|&v| v == positive).collect();
            let scores: Vec<f64> = probs.iter().skip(positive).step_by(2).copied().collect();
            let curve = BinaryCurve::new(&y, &scores)?;
            return Ok(Ranking::Computed {
                average_precision: curve.average_precision()?,
                roc_auc: curve.roc_auc()?,
                kind: match names.map(|n| &n[positive]) {
                    Some(name) if *name != positive.to_string() => format!("{name} positive"),
                    _ => format!("class {positive} positive"),
                },
            });
        }
        Ok(Ranking::Computed {
            average_precision: ranking::macro_average_precision_ovr(&p.y_true, probs, p.n_classes)?,
            roc_auc: ranking::macro_roc_auc_ovr(&p.y_true, probs, p.n_classes)?,
            kind: "macro one-vs-rest".to_string(),
        })
    }
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    report: &'a ClassificationReport,
    confusion_matrix: &'a ConfusionMatrix,
    balanced_accuracy: f64,
    mcc: f64,
    cohen_kappa: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roc_auc: Option<f64>,
    /// What the ranking metrics rank (`class 1 positive`, `macro one-vs-rest`), or why they
    /// were not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    ranking: Option<String>,
}

impl Evaluation {
    /// Computes the report and the other metrics of the decisions `y_pred` on `p`: `digits` is
    /// the report's precision, `names` the report's class names, `ranking` the ranking metrics
    /// of `p` ([`Ranking::compute`]: they do not depend on the decisions, so callers judging
    /// several decisions compute them once).
    pub fn compute(
        p: &Predictions,
        y_pred: &[usize],
        ranking: Ranking,
        digits: usize,
        names: Option<Vec<String>>,
    ) -> anyhow::Result<Self> {
        let options = ReportOptions {
            digits,
            target_names: names,
            ..Default::default()
        };
        let confusion = ConfusionMatrix::new(&p.y_true, y_pred, p.n_classes)?;
        let report = ClassificationReport::from_confusion(&confusion, &options)?;
        let imbalanced = ImbalancedReport::from_confusion(&confusion, &options, 0.1)?;
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
        let (average_precision, roc_auc, ranking) = match &self.ranking {
            Ranking::Computed {
                average_precision,
                roc_auc,
                kind,
            } => (
                Some(*average_precision),
                Some(*roc_auc),
                Some(kind.to_string()),
            ),
            Ranking::Skipped(why) => (None, None, Some(format!("not computed: {why}"))),
            Ranking::NoProbabilities => (None, None, None),
        };
        JsonOutput {
            report: &self.report,
            confusion_matrix: &self.confusion,
            balanced_accuracy: self.balanced_accuracy,
            mcc: self.mcc,
            cohen_kappa: self.kappa,
            average_precision,
            roc_auc,
            ranking,
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
