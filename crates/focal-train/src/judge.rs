//! Judging predictions per class, as scikit-learn's `classification_report` does: any model's
//! predictions file, or a trained run's model re-evaluated on its test split. Both become one
//! [`Judgement`]: the labels, the probabilities and the decisions to judge, each judged by
//! focal-metrics' [`Evaluation`] and shown in one text layout and one JSON schema.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use focal_data::{DataSetting, msg};
use focal_metrics::{Evaluation, Ranking};

use crate::data::TaskKind;
use crate::error::TrainError;
use crate::evaluate::DecisionRule;
use crate::run::PredictionsFile;
use crate::setting::{Message, Setting};
use crate::value::Threshold;

/// What to judge.
#[derive(Debug, Clone, PartialEq)]
pub enum JudgeInput {
    /// A CSV of predictions: `[id,]y_true[,y_pred][,p_0,...]` (see
    /// [`focal_data::predictions`]).
    Predictions(PathBuf),
    /// A run folder, its model re-evaluated on its test split at each of its decision rules;
    /// `data` where its data are when not at the recorded path.
    Run {
        /// The run folder.
        dir: PathBuf,
        /// The run's data, when not at the path the run recorded.
        data: Option<PathBuf>,
    },
}

/// What to judge and how, as a user gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeSpec {
    /// The predictions or the run.
    pub input: JudgeInput,
    /// A predictions file's positive class, by name or index (default class 1).
    pub positive: Option<String>,
    /// A threshold on the positive class's probability to judge (it replaces a predictions
    /// file's own decisions; a run's are judged beside it).
    pub threshold: Option<f64>,
    /// A predictions file's class names, in label order.
    pub class_names: Option<Vec<String>>,
    /// Digits of the classification report.
    pub digits: usize,
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Decided {
    /// A predictions file's own `y_pred` column.
    Given,
    /// A decision rule.
    Rule(DecisionRule),
}

/// One set of decisions to judge.
#[derive(Debug, Clone)]
struct Decision {
    decided: Decided,
    threshold: Option<f64>,
    describe: Message,
    y_pred: Vec<usize>,
}

/// Everything judged, whatever the input.
#[derive(Debug, Clone)]
pub struct Judgement {
    source: &'static str,
    path: PathBuf,
    /// Where the predictions come from (the text's last line).
    origin: String,
    n_samples: usize,
    classes: Vec<String>,
    positive: Option<usize>,
    decisions: Vec<Decision>,
    evaluations: Vec<Evaluation>,
}

/// Judges what `spec` says.
pub fn judge(spec: &JudgeSpec) -> Result<Judgement, TrainError> {
    let judged = match &spec.input {
        JudgeInput::Run { dir, data } => from_run(dir, data.as_deref(), spec)?,
        JudgeInput::Predictions(path) => from_predictions(path, spec)?,
    };
    let (file, mut judgement) = judged;
    let ranking = Ranking::compute(
        &file.y_true,
        file.probs.as_deref(),
        file.n_classes,
        judgement.positive.unwrap_or(1),
        Some(&judgement.classes),
    )?;
    for d in &judgement.decisions {
        judgement.evaluations.push(Evaluation::compute(
            &file.y_true,
            &d.y_pred,
            file.n_classes,
            ranking.clone(),
            spec.digits,
            Some(judgement.classes.clone()),
        )?);
    }
    Ok(judgement)
}

impl Judgement {
    /// The text: each decision's evaluation (scikit-learn's classification report first),
    /// each named after its block, then where the predictions came from; settings named by
    /// `names`.
    pub fn text(&self, names: &dyn Fn(Setting) -> String) -> String {
        let mut out = String::new();
        for (i, (d, e)) in self.decisions.iter().zip(&self.evaluations).enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&e.text());
            let _ = writeln!(out, "decision: {}", d.describe.render(names));
        }
        let _ = writeln!(out, "\n{}", self.origin);
        out
    }

    /// The JSON: the first decision's metrics at the top level, every decision under
    /// `decisions` (with `rule`, `threshold` and `description`), and the input described
    /// (`source`, `path`, `n_samples`, `classes`, `positive`, `positive_name`).
    pub fn json(&self, names: &dyn Fn(Setting) -> String) -> serde_json::Value {
        let mut decisions = Vec::new();
        for (d, e) in self.decisions.iter().zip(&self.evaluations) {
            let mut v = e.json();
            if let Some(o) = v.as_object_mut() {
                let rule = match d.decided {
                    Decided::Given => "y_pred",
                    Decided::Rule(r) => r.name(),
                };
                o.insert("rule".into(), rule.into());
                o.insert("threshold".into(), d.threshold.into());
                o.insert("description".into(), d.describe.render(names).into());
            }
            decisions.push(v);
        }
        let mut top = decisions.first().cloned().unwrap_or_default();
        if let Some(o) = top.as_object_mut() {
            o.insert("source".into(), self.source.into());
            o.insert("path".into(), self.path.display().to_string().into());
            o.insert("n_samples".into(), self.n_samples.into());
            o.insert("classes".into(), self.classes.clone().into());
            o.insert("positive".into(), self.positive.into());
            o.insert(
                "positive_name".into(),
                self.positive
                    .and_then(|p| self.classes.get(p).cloned())
                    .into(),
            );
            o.insert("decisions".into(), decisions.into());
        }
        top
    }
}

/// A threshold `t` on the positive class's probability, checked against a two-class input
/// with probabilities: the decision it adds.
fn threshold_decision(
    t: f64,
    file: &PredictionsFile,
    positive: usize,
    classes: &[String],
) -> Result<Decision, TrainError> {
    let Some(probs) = &file.probs else {
        return Err(TrainError::invalid(msg![
            Setting::Threshold,
            format!(" {t}: the file has no probability columns (p_0, p_1) to threshold")
        ]));
    };
    if file.n_classes != 2 {
        return Err(TrainError::invalid(msg![
            Setting::Threshold,
            format!(
                " {t}: a threshold decides between two classes; the data has {}",
                file.n_classes
            )
        ]));
    }
    let threshold = Threshold::new(t)?;
    let kind = TaskKind::Binary { positive };
    let negative = kind.negative().unwrap_or(0);
    Ok(Decision {
        decided: Decided::Rule(DecisionRule::Threshold(threshold)),
        threshold: Some(t),
        describe: msg![
            format!(
                "threshold: {} when P({}) >= {t} (",
                classes[positive], classes[positive]
            ),
            Setting::Threshold,
            ")"
        ],
        y_pred: probs
            .chunks(2)
            .map(|row| {
                if row[positive] >= t {
                    positive
                } else {
                    negative
                }
            })
            .collect(),
    })
}

/// The judgement's parts for a predictions file (evaluations still to compute).
fn from_predictions(
    path: &Path,
    spec: &JudgeSpec,
) -> Result<(PredictionsFile, Judgement), TrainError> {
    if path.is_dir() {
        let predictions = path.join(crate::run::predictions::TEST_PREDICTIONS);
        let hint = if predictions.is_file() {
            msg![
                "give its predictions file, ",
                Setting::Predictions,
                format!(" {}, or re-evaluate the run with ", predictions.display()),
                Setting::Run,
                format!(" {}", path.display())
            ]
        } else {
            msg![
                "give a CSV file (a run's predictions.csv, or any model's `y_true,y_pred[,p_0,...]`)"
            ]
        };
        let mut m = msg![
            Setting::Predictions,
            format!(" {}: a folder; ", path.display())
        ];
        m.0.extend(hint.0);
        return Err(TrainError::invalid(m));
    }
    let file = PredictionsFile::read(path)?;
    let n = file.n_classes;
    let classes: Vec<String> = match (&spec.class_names, &file.class_names) {
        (Some(names), _) if names.len() != n => {
            return Err(TrainError::invalid(msg![
                Setting::ClassNames,
                format!(
                    ": {} names for {n} classes (the file's p_ columns, or its labels); give one \
                     name per class, in label order",
                    names.len()
                )
            ]));
        }
        (Some(names), Some(own)) if names != own => {
            return Err(TrainError::invalid(msg![
                Setting::ClassNames,
                format!(
                    ": the file names its classes itself ({}); leave ",
                    own.join(", ")
                ),
                Setting::ClassNames,
                " out"
            ]));
        }
        (Some(names), _) => names.clone(),
        (None, Some(own)) => own.clone(),
        (None, None) => (0..n).map(|c| c.to_string()).collect(),
    };
    let named = spec.class_names.is_some() || file.class_names.is_some();
    let positive_flag = Setting::Data(DataSetting::Positive);
    let positive = match &spec.positive {
        Some(p) => {
            let index = match classes.iter().position(|c| c == p) {
                Some(i) if named => i,
                _ => match p.parse::<usize>() {
                    Ok(i) => i,
                    Err(_) if named => {
                        return Err(TrainError::invalid(msg![
                            positive_flag,
                            format!(
                                " {p}: no such class; the classes are {}",
                                classes.join(", ")
                            )
                        ]));
                    }
                    Err(_) => {
                        return Err(TrainError::invalid(msg![
                            positive_flag,
                            format!(" {p}: a name needs "),
                            Setting::ClassNames,
                            " (the file holds class indices); or give the index"
                        ]));
                    }
                },
            };
            if n != 2 || index > 1 {
                return Err(TrainError::invalid(msg![
                    positive_flag,
                    format!(
                        " {p}: needs a two-class file and a class 0 or 1 (the file has {n} classes)"
                    )
                ]));
            }
            if let Some(s) = file.score_of
                && s != index
            {
                return Err(TrainError::invalid(msg![
                    positive_flag,
                    format!(
                        " {p}: the file's single score column is P({}); give ",
                        classes[s]
                    ),
                    positive_flag,
                    format!(" {} or a file with both probability columns", classes[s])
                ]));
            }
            Some(index)
        }
        None if n == 2 => Some(file.score_of.unwrap_or(1)),
        None => None,
    };
    let given = if file.y_pred_given {
        Decision {
            decided: Decided::Given,
            threshold: None,
            describe: msg![format!(
                "y_pred: the file's predicted labels ({})",
                path.display()
            )],
            y_pred: file.y_pred.clone(),
        }
    } else {
        Decision {
            decided: Decided::Rule(DecisionRule::Argmax),
            threshold: None,
            describe: msg![match file.score_of {
                Some(s) => format!(
                    "{} when its score >= 0.5 (the file has no y_pred column)",
                    classes[s]
                ),
                None => {
                    "argmax: the most probable class (the file has no y_pred column)".to_string()
                }
            }],
            y_pred: file.y_pred.clone(),
        }
    };
    let decisions = match spec.threshold {
        // A threshold replaces the file's decision: the user asked for this one.
        Some(t) => vec![threshold_decision(
            t,
            &file,
            positive.unwrap_or(1),
            &classes,
        )?],
        None => vec![given],
    };
    let judgement = Judgement {
        source: "predictions",
        path: path.to_path_buf(),
        origin: format!(
            "source: predictions file {} ({} samples)",
            path.display(),
            file.y_true.len()
        ),
        n_samples: file.y_true.len(),
        classes,
        positive,
        decisions,
        evaluations: Vec::new(),
    };
    Ok((file, judgement))
}

/// The judgement's parts for a run: its model re-evaluated on its test split, at each of its
/// decision rules (and at the threshold asked for).
fn from_run(
    run_dir: &Path,
    data: Option<&Path>,
    spec: &JudgeSpec,
) -> Result<(PredictionsFile, Judgement), TrainError> {
    crate::run::check_run(run_dir, Setting::Run)?;
    let prepared = crate::run::run_data(run_dir, data)?;
    let (metrics, test) = crate::train::evaluate_run_predictions(run_dir, &prepared)?;
    let classes = metrics.class_names.clone();
    let positive = metrics.positive;
    let argmax = test.argmax();
    let mut decisions = Vec::new();
    for (rule, m) in &metrics.rules {
        let (y_pred, describe) = match (m.threshold, positive) {
            (Some(t), Some(p)) => (
                test.at_threshold(p, t),
                msg![format!(
                    "{rule}: {} when P({}) >= {t} (tuned on validation)",
                    classes[p], classes[p]
                )],
            ),
            _ => (
                argmax.clone(),
                msg![format!("{rule}: the most probable class")],
            ),
        };
        decisions.push(Decision {
            decided: Decided::Rule(*rule),
            threshold: m.threshold,
            describe,
            y_pred,
        });
    }
    let file = PredictionsFile {
        ids: None,
        y_true: test.y_true.clone(),
        y_pred: argmax,
        probs: Some(test.probs.iter().map(|&p| f64::from(p)).collect()),
        n_classes: test.n_classes,
        class_names: Some(classes.clone()),
        score_of: None,
        y_pred_given: false,
    };
    if let Some(t) = spec.threshold {
        decisions.push(threshold_decision(
            t,
            &file,
            positive.unwrap_or(1),
            &classes,
        )?);
    }
    let temperature = metrics
        .temperature()
        .map(|t| format!(", probabilities at temperature {t:.4}"))
        .unwrap_or_default();
    let transfer = crate::run::read_config(run_dir)?
        .transfer
        .map(|t| format!("\n{}", t.summary()))
        .unwrap_or_default();
    let judgement = Judgement {
        source: "run",
        path: run_dir.to_path_buf(),
        origin: format!(
            "source: run {}, the model of epoch {} re-evaluated on its test split ({} samples{temperature}){transfer}",
            run_dir.display(),
            metrics.evaluated_epoch,
            test.y_true.len()
        ),
        n_samples: test.y_true.len(),
        classes,
        positive,
        decisions,
        evaluations: Vec::new(),
    };
    Ok((file, judgement))
}
