//! Experiments: several remedies (a comparison) or several focal-loss settings (a sweep) trained
//! on the same split, model, budget and seeds, and the honest table that judges them.
//!
//! An experiment folder holds one run folder per entry and seed (`<label>-seed<S>/`), plus
//! `comparison.json` (a [`Comparison`]: the per-seed numbers behind every cell), `comparison.md`
//! (the tables) and `report.html`.
//!
//! Winners: a column's best entry is called a win only when its mean beats every other entry's
//! mean by more than the noise, `sqrt(std_a^2 + std_b^2)` (the spread of the difference of two
//! single runs, sample standard deviations over the seeds). With one seed there is no noise
//! estimate, so no win is called; the best value is only marked.

use crate::ExperimentError;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use focal_train::PreparedData;
use focal_train::Progress;
use focal_train::Setting;
use focal_train::run::files::{read_json, write_atomic, write_json};
use focal_train::run::record::{EpochRecord, FinalMetrics};
use focal_train::train::RunSummary;
use focal_train::{Alpha, Gamma, RemedyKind, RemedyParams};
use focal_train::{DecisionRule, RuleMetrics};
use focal_train::{OptimizerKind, TrainConfig};

/// Trains one run of an experiment into its folder: [`focal_train::train::train`], or a caller's
/// wrapper of it (the pipeline's, which also draws the run's report).
pub type TrainFn =
    fn(&TrainConfig, &PreparedData, &Path, &dyn Progress) -> Result<RunSummary, ExperimentError>;

/// Continues an interrupted run in its folder: [`focal_train::train::resume`], or a caller's wrapper.
pub type ResumeFn = fn(&Path, &PreparedData, &dyn Progress) -> Result<RunSummary, ExperimentError>;

/// One entry of an experiment: a label and the training configuration (its seed is replaced
/// by each of the experiment's seeds).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Name of the entry in tables and folder names (e.g. `focal` or `gamma=2`).
    pub label: String,
    /// The configuration.
    pub config: TrainConfig,
}

/// Test metrics of one run at one decision rule, for the minority (positive) class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Decision threshold on P(positive), when not argmax.
    pub threshold: Option<f64>,
    /// Accuracy.
    pub accuracy: f64,
    /// Recall of the minority class.
    pub minority_recall: f64,
    /// Precision of the minority class.
    pub minority_precision: f64,
    /// F1 of the minority class.
    pub minority_f1: f64,
    /// Balanced accuracy.
    pub balanced_accuracy: f64,
    /// Matthews correlation coefficient.
    pub mcc: f64,
    /// Bootstrap 95% interval `[low, high]` of the minority class's F1 on the test split
    /// (binary runs; absent in runs written before intervals were computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minority_f1_interval: Option<[f64; 2]>,
}

/// The numbers of one run (one entry, one seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The training seed.
    pub seed: u64,
    /// The run folder, relative to the experiment folder.
    pub run_dir: String,
    /// Mean wall seconds per training epoch (validation included).
    pub time_per_epoch_s: f64,
    /// Test average precision of the minority class (macro one-vs-rest for multi-class).
    pub pr_auc: Option<f64>,
    /// Test ROC AUC.
    pub roc_auc: Option<f64>,
    /// Validation PR-AUC of the evaluated epoch (what a sweep chooses by).
    pub val_pr_auc: Option<f64>,
    /// Validation F1 of the minority class at the evaluated epoch.
    pub val_minority_f1: Option<f64>,
    /// Test metrics per decision rule.
    pub rules: BTreeMap<DecisionRule, RuleSummary>,
    /// Bootstrap 95% interval `[low, high]` of the test PR-AUC (binary runs; absent in runs
    /// written before intervals were computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_auc_interval: Option<[f64; 2]>,
}

/// One entry of an experiment with its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Label (remedy name, or sweep setting).
    pub label: String,
    /// The remedy with its resolved parameters.
    pub remedy: String,
    /// One result per seed (per group of K seeds for an ensemble; its `run_dir` then joins
    /// the group's run folders with `+`).
    pub seeds: Vec<SeedResult>,
    /// For an ensemble row (`focal compare --ensemble K`): K, the models averaged per result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble_of: Option<usize>,
}

/// One stage of a sweep: the chosen metric over one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepStage {
    /// `gamma`, `alpha` or `gamma x alpha`.
    pub parameter: String,
    /// Labels of the settings tried, in order.
    pub settings: Vec<String>,
    /// `(x, mean validation metric)`; x is the parameter value when numeric, else its position.
    pub points: Vec<(f64, f64)>,
    /// The setting chosen (best mean validation metric).
    pub chosen: String,
}

/// What a sweep tried and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// The validation metric that chooses (`val_pr_auc` or `val_minority_f1`).
    pub metric: SweepMetric,
    /// The stages, in order (gamma, then alpha; or one grid stage).
    pub stages: Vec<SweepStage>,
}

/// The task an experiment ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    /// Where the data came from.
    pub source: String,
    /// Class names of the task.
    pub class_names: Vec<String>,
    /// The minority (positive) class.
    pub minority: usize,
    /// Class counts of the train, validation and test splits.
    pub counts: [Vec<usize>; 3],
    /// Model, epochs, batch size, learning rate, optimizer.
    pub budget: String,
}

/// `comparison.json`: everything behind the tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Title of the report.
    pub title: String,
    /// The task and budget.
    pub task: TaskSummary,
    /// The training seeds.
    pub seeds: Vec<u64>,
    /// The entries, in the order they were asked for.
    pub entries: Vec<Entry>,
    /// Sweep stages, for a sweep.
    pub sweep: Option<SweepInfo>,
}

/// Mean and sample standard deviation (n - 1 in the denominator) of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation; 0 for a single value.
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Mean and spread of `values`; `None` when empty or when a value is undefined.
    pub fn of(values: &[Option<f64>]) -> Option<Stat> {
        let values: Vec<f64> = values.iter().copied().collect::<Option<Vec<f64>>>()?;
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Stat { mean, std, n })
    }
}

/// Whether larger or smaller values are better in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Larger is better.
    Higher,
    /// Smaller is better.
    Lower,
}

/// How a cell stands against the rest of its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Not the best.
    None,
    /// The best, ahead of every other entry by more than the noise.
    Win,
    /// The best mean, but within the noise of another entry (or only one seed).
    BestWithinNoise,
}

/// Marks the best cell of a column (see the module doc for what counts as a win).
pub fn mark_column(stats: &[Option<Stat>], better: Better) -> Vec<Mark> {
    let mut marks = vec![Mark::None; stats.len()];
    let key = |s: &Stat| match better {
        Better::Higher => s.mean,
        Better::Lower => -s.mean,
    };
    let Some((best, best_stat)) = stats
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .max_by(|a, b| key(&a.1).total_cmp(&key(&b.1)))
    else {
        return marks;
    };
    // Exact ties: every entry at the best value shares the mark; when all are equal, the column
    // tells nothing apart and nothing is marked.
    let tied: Vec<usize> = stats
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_some_and(|s| (key(&s) - key(&best_stat)).abs() <= 1e-12))
        .map(|(i, _)| i)
        .collect();
    if tied.len() > 1 {
        if tied.len() < stats.iter().flatten().count() {
            for i in tied {
                marks[i] = Mark::BestWithinNoise;
            }
        }
        return marks;
    }
    let clear = best_stat.n > 1
        && stats.iter().enumerate().all(|(i, s)| match s {
            Some(s) if i != best => {
                let noise = (best_stat.std.powi(2) + s.std.powi(2)).sqrt();
                s.n > 1 && key(&best_stat) - key(s) > noise
            }
            _ => true,
        });
    marks[best] = if clear {
        Mark::Win
    } else {
        Mark::BestWithinNoise
    };
    marks
}

/// One rendered table: header, rows of cells with their marks.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// What the table shows.
    pub caption: String,
    /// Column names (the first is the entry label).
    pub header: Vec<String>,
    /// One row per entry: the label, then `(cell text, mark)` per column.
    pub rows: Vec<(String, Vec<(String, Mark)>)>,
    /// Sentences under the table: why a cell that looks best carries no mark.
    pub notes: Vec<String>,
}

impl Table {
    /// The table as GitHub-flavoured Markdown; wins in bold, best-within-noise in italics.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("| {} |\n|", self.header.join(" | "));
        for (i, _) in self.header.iter().enumerate() {
            s.push_str(if i == 0 { "---|" } else { "---:|" });
        }
        s.push('\n');
        for (label, cells) in &self.rows {
            let _ = write!(s, "| {label} |");
            for (text, mark) in cells {
                let _ = match mark {
                    Mark::Win => write!(s, " **{text}** |"),
                    Mark::BestWithinNoise => write!(s, " *{text}* |"),
                    Mark::None => write!(s, " {text} |"),
                };
            }
            s.push('\n');
        }
        for note in &self.notes {
            let _ = write!(s, "\n{note}\n");
        }
        s
    }
}

/// Reads a run's bootstrap interval `[low, high]` of a column's value at a decision rule.
type IntervalOf = fn(&SeedResult, DecisionRule) -> Option<[f64; 2]>;

/// One column of the comparison table.
struct Column {
    /// Header; `{}` stands for the positive (rare) class's name.
    name: &'static str,
    /// Which direction is better.
    better: Better,
    /// Digits after the decimal point.
    digits: usize,
    /// How to read the value from a run at a decision rule.
    extract: fn(&SeedResult, DecisionRule) -> Option<f64>,
    /// How to read the value's bootstrap 95% interval, for the columns that have one.
    interval: Option<IntervalOf>,
}

/// The columns of the comparison table.
const COLUMNS: [Column; 8] = [
    Column {
        name: "accuracy",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.accuracy),
        interval: None,
    },
    Column {
        name: "{} recall",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.minority_recall),
        interval: None,
    },
    Column {
        name: "{} precision",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.minority_precision),
        interval: None,
    },
    Column {
        name: "{} F1",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.minority_f1),
        interval: Some(|s, r| s.rules.get(&r).and_then(|m| m.minority_f1_interval)),
    },
    Column {
        name: "PR-AUC",
        better: Better::Higher,
        digits: 3,
        extract: |s, _| s.pr_auc,
        interval: Some(|s, _| s.pr_auc_interval),
    },
    Column {
        name: "balanced accuracy",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.balanced_accuracy),
        interval: None,
    },
    Column {
        name: "MCC",
        better: Better::Higher,
        digits: 3,
        extract: |s, r| s.rules.get(&r).map(|m| m.mcc),
        interval: None,
    },
    Column {
        name: "time/epoch (s)",
        better: Better::Lower,
        digits: 1,
        extract: |s, _| Some(s.time_per_epoch_s),
        interval: None,
    },
];

/// Columns that a model predicting no positive at all tops on an imbalanced split.
const WON_BY_ALL_NEGATIVE: [&str; 1] = ["accuracy"];

/// A table cell: the mean, with `± std` over several seeds; `n/a` when undefined.
pub(crate) fn format_stat(stat: Option<Stat>, digits: usize) -> String {
    match stat {
        None => "n/a".to_string(),
        Some(s) if s.n > 1 => format!("{:.digits$} ± {:.digits$}", s.mean, s.std),
        Some(s) => format!("{:.digits$}", s.mean),
    }
}

/// The bootstrap interval shown beside a cell: the one run's, or with several seeds the mean of
/// their bounds; `None` unless every run has one.
fn mean_interval(intervals: &[Option<[f64; 2]>]) -> Option<[f64; 2]> {
    let all: Vec<[f64; 2]> = intervals.iter().copied().collect::<Option<Vec<_>>>()?;
    if all.is_empty() {
        return None;
    }
    let n = all.len() as f64;
    Some([
        all.iter().map(|i| i[0]).sum::<f64>() / n,
        all.iter().map(|i| i[1]).sum::<f64>() / n,
    ])
}

impl Comparison {
    /// The table at decision rule `rule`; `None` when no run has it.
    pub fn table(&self, rule: DecisionRule) -> Option<Table> {
        if !self
            .entries
            .iter()
            .any(|e| e.seeds.iter().any(|s| s.rules.contains_key(&rule)))
        {
            return None;
        }
        let stats: Vec<Vec<Option<Stat>>> = COLUMNS
            .iter()
            .map(|col| {
                self.entries
                    .iter()
                    .map(|e| {
                        Stat::of(
                            &e.seeds
                                .iter()
                                .map(|s| (col.extract)(s, rule))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect()
            })
            .collect();
        let (marks, notes) = self.marks(rule, &stats);
        let mut header = vec![if self.sweep.is_some() {
            "setting".to_string()
        } else {
            "remedy".to_string()
        }];
        // The positive (rare) class's columns name it: "Shirt recall".
        let positive = self
            .task
            .class_names
            .get(self.task.minority)
            .cloned()
            .unwrap_or_else(|| "positive".to_string());
        header.extend(COLUMNS.iter().map(|col| col.name.replace("{}", &positive)));
        let rows = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let cells = COLUMNS
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let mut text = format_stat(stats[c][i], col.digits);
                        let interval = col.interval.and_then(|get| {
                            mean_interval(&e.seeds.iter().map(|s| get(s, rule)).collect::<Vec<_>>())
                        });
                        if let (Some([low, high]), Some(_)) = (interval, stats[c][i]) {
                            let d = col.digits;
                            text.push_str(&format!(" [{low:.d$}, {high:.d$}]"));
                        }
                        (text, marks[c][i])
                    })
                    .collect();
                (e.label.clone(), cells)
            })
            .collect();
        let minority = self
            .task
            .class_names
            .get(self.task.minority)
            .cloned()
            .unwrap_or_default();
        let caption = match rule {
            DecisionRule::Tuned => format!(
                "threshold on P({minority}) tuned on validation for the best F1 of {minority}"
            ),
            DecisionRule::Argmax => "argmax (the default decision)".to_string(),
            DecisionRule::Threshold(t) => format!("P({minority}) >= {t}"),
        };
        Some(Table {
            caption,
            header,
            rows,
            notes,
        })
    }

    /// The marks of every column at `rule`, and a note for each column where a degenerate
    /// entry lost the mark it would have had.
    ///
    /// An entry that never finds the positive class at `rule` (its recall 0 in every seed, as
    /// a model that predicts all-negative) tops accuracy on an imbalanced test split by
    /// predicting the majority: its accuracy is the share of the other classes, not skill. It
    /// competes for no mark in such columns.
    fn marks(
        &self,
        rule: DecisionRule,
        stats: &[Vec<Option<Stat>>],
    ) -> (Vec<Vec<Mark>>, Vec<String>) {
        let degenerate: Vec<bool> = self
            .entries
            .iter()
            .map(|e| {
                !e.seeds.is_empty()
                    && e.seeds
                        .iter()
                        .all(|s| s.rules.get(&rule).is_some_and(|m| m.minority_recall == 0.0))
            })
            .collect();
        let mut notes = Vec::new();
        let marks = COLUMNS
            .iter()
            .zip(stats)
            .map(|(col, st)| {
                let all = mark_column(st, col.better);
                if !WON_BY_ALL_NEGATIVE.contains(&col.name) || !degenerate.contains(&true) {
                    return all;
                }
                let kept: Vec<Option<Stat>> = st
                    .iter()
                    .zip(&degenerate)
                    .map(|(s, &d)| if d { None } else { *s })
                    .collect();
                let lost: Vec<&str> = self
                    .entries
                    .iter()
                    .zip(&degenerate)
                    .zip(&all)
                    .filter(|((_, d), m)| **d && **m != Mark::None)
                    .map(|((e, _), _)| e.label.as_str())
                    .collect();
                if !lost.is_empty() {
                    notes.push(self.degenerate_note(col.name, &lost));
                }
                mark_column(&kept, col.better)
            })
            .collect();
        (marks, notes)
    }

    /// Why the entries `lost` carry no mark in the column `column`.
    fn degenerate_note(&self, column: &str, lost: &[&str]) -> String {
        let t = &self.task;
        let minority = t.class_names.get(t.minority).cloned().unwrap_or_default();
        let test = &t.counts[2];
        let total: usize = test.iter().sum();
        let share = match test.get(t.minority) {
            Some(&n) if total > 0 => format!(" ({:.3})", (total - n) as f64 / total as f64),
            _ => String::new(),
        };
        format!(
            "{column}: no mark for {}, which never {} {minority} (recall 0): {} {column} is at most the share of the other classes{share}, what a model that never predicts {minority} scores.",
            lost.join(", "),
            if lost.len() == 1 { "finds" } else { "find" },
            if lost.len() == 1 { "its" } else { "their" },
        )
    }

    /// One line describing the task, split and budget.
    pub fn describe_task(&self) -> String {
        let t = &self.task;
        let counts = |c: &[usize]| {
            c.iter()
                .zip(&t.class_names)
                .map(|(n, name)| format!("{name} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "Data: {}. {}: {}. Train: {}; validation: {}; test: {}. Budget: {}. Seeds: {}.",
            t.source,
            if t.class_names.len() == 2 {
                "Positive (rare) class"
            } else {
                "Rarest class (its recall, precision and F1 are tabled)"
            },
            t.class_names.get(t.minority).cloned().unwrap_or_default(),
            counts(&t.counts[0]),
            counts(&t.counts[1]),
            counts(&t.counts[2]),
            t.budget,
            self.seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// How to read the marks.
    pub fn legend(&self) -> String {
        let intervals = self
            .entries
            .iter()
            .flat_map(|e| &e.seeds)
            .any(|s| s.pr_auc_interval.is_some());
        let marks = self.marks_legend();
        if !intervals {
            return marks;
        }
        let how = if self.seeds.len() > 1 {
            ", the seeds' bounds averaged"
        } else {
            ""
        };
        format!(
            "{marks} [low, high] beside F1 and PR-AUC: the 95% bootstrap interval over the test split ({} resamples{how}), how far the figure could move on another test split of the same size.",
            focal_metrics::bootstrap::DEFAULT_RESAMPLES
        )
    }

    fn marks_legend(&self) -> String {
        let mut legend = self.seeds_legend();
        if let Some(k) = self.entries.iter().find_map(|e| e.ensemble_of) {
            let groups = self.seeds.len() / k;
            let spread = if groups > 1 {
                format!("its cells are mean ± std over the {groups} ensembles")
            } else {
                "one ensemble: one value, no ± and never a win".to_string()
            };
            let _ = write!(
                legend,
                " An ensemble row averages the probabilities of {k} seeds' models (the seeds in groups of {k}, in order) and judges the average as one model, its threshold tuned on the averaged validation probabilities; {spread}; its time/epoch is the sum of its members'."
            );
        }
        legend
    }

    fn seeds_legend(&self) -> String {
        if self.seeds.len() > 1 {
            format!(
                "Cells are mean ± sample std over {} seeds. Bold: best, and ahead of every other entry by more than the noise sqrt(std_a² + std_b²). Italic: best mean, but within the noise of another entry, so not a win. All metrics on the test split; recall, precision and F1 are the positive (rare) class's.",
                self.seeds.len()
            )
        } else {
            "One seed: no noise estimate, so no win is called; italic marks the best value only. Train 3 or more seeds to tell wins from noise. All metrics on the test split; recall, precision and F1 are the positive (rare) class's.".to_string()
        }
    }

    /// `comparison.md`: the task, both tables and the legend.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# {}\n\n{}\n\n", self.title, self.describe_task());
        for rule in DecisionRule::TRAINED {
            if let Some(t) = self.table(rule) {
                let _ = write!(s, "## Test, {}\n\n{}\n", t.caption, t.to_markdown());
            }
        }
        if let Some(sweep) = &self.sweep {
            for stage in &sweep.stages {
                let _ = writeln!(
                    s,
                    "Sweep over {}: chose {} (best mean validation {}).\n",
                    stage.parameter, stage.chosen, sweep.metric
                );
            }
        }
        let _ = writeln!(s, "{}", self.legend());
        s
    }

    /// Writes `comparison.json` and `comparison.md` into `out_dir` (the HTML report is drawn
    /// from them by [`crate::report`]).
    pub fn write(&self, out_dir: &Path) -> Result<(), ExperimentError> {
        write_json(
            &out_dir.join(focal_train::run::folder::COMPARISON_FILE),
            self,
        )?;
        write_atomic(
            &out_dir.join("comparison.md"),
            self.to_markdown().as_bytes(),
        )?;
        Ok(())
    }
}

fn rule_summary(m: &RuleMetrics, minority: usize) -> RuleSummary {
    let c = m.per_class.get(minority);
    RuleSummary {
        threshold: m.threshold,
        accuracy: m.accuracy,
        minority_recall: c.map_or(0.0, |c| c.recall),
        minority_precision: c.map_or(0.0, |c| c.precision),
        minority_f1: c.map_or(0.0, |c| c.f1),
        balanced_accuracy: m.balanced_accuracy,
        mcc: m.mcc,
        minority_f1_interval: None,
    }
}

/// The numbers of one finished run, from its `metrics.json` and the history of its last
/// checkpoint (the files, so that a comparison gathered from run folders written by many
/// processes is the one a single process writes).
pub(crate) fn seed_result(
    m: &FinalMetrics,
    history: &[EpochRecord],
    seed: u64,
    run_dir: String,
    minority: usize,
) -> SeedResult {
    let evaluated = history
        .iter()
        .find(|r| r.epoch == m.evaluated_epoch)
        .or(history.last());
    SeedResult {
        seed,
        run_dir,
        time_per_epoch_s: m.time_per_epoch_s,
        pr_auc: m.test_pr_auc,
        roc_auc: m.test_roc_auc,
        val_pr_auc: evaluated.and_then(|r| r.val_pr_auc),
        val_minority_f1: evaluated.and_then(|r| r.val_per_class.get(minority).map(|c| c[2])),
        rules: m
            .rules
            .iter()
            .map(|(k, v)| {
                let mut summary = rule_summary(v, minority);
                summary.minority_f1_interval = m
                    .intervals
                    .as_ref()
                    .and_then(|i| i.f1.get(k))
                    .map(|i| [i.low, i.high]);
                (*k, summary)
            })
            .collect(),
        pr_auc_interval: m.intervals.as_ref().map(|i| [i.pr_auc.low, i.pr_auc.high]),
    }
}

/// Labels become folder names: keep them to letters, digits, `-`, `_`, `.` and `=`.
pub(crate) fn folder_name(label: &str, seed: u64) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{clean}-seed{seed}")
}

/// A short description of the training budget shared by every entry.
pub fn budget_line(config: &TrainConfig) -> String {
    format!(
        "model {}, {} epochs, batch {}, {} lr {}",
        config.model(),
        config.epochs(),
        config.batch_size(),
        match config.optimizer() {
            OptimizerKind::Adam => "Adam",
            OptimizerKind::Sgd => "SGD",
        },
        config.lr()
    )
}

/// The task an experiment runs on, as its tables describe it.
pub fn task_summary(data: &PreparedData, config: &TrainConfig) -> TaskSummary {
    let counts = |idx: &[usize]| data.dataset.class_counts_of(idx);
    TaskSummary {
        source: data.task.source.to_string(),
        class_names: data.dataset.class_names.clone(),
        minority: data.minority(),
        counts: [
            counts(&data.splits.train),
            counts(&data.splits.val),
            counts(&data.splits.test),
        ],
        budget: budget_line(config),
    }
}

/// The validation metric a sweep chooses by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepMetric {
    /// Validation average precision of the minority class.
    ValPrAuc,
    /// Validation F1 of the minority class (argmax).
    ValMinorityF1,
}

impl SweepMetric {
    /// The name used in tables and `comparison.json`.
    pub fn name(self) -> &'static str {
        match self {
            SweepMetric::ValPrAuc => "val_pr_auc",
            SweepMetric::ValMinorityF1 => "val_minority_f1",
        }
    }

    /// The metric of `s`.
    fn of(self, s: &SeedResult) -> Option<f64> {
        match self {
            SweepMetric::ValPrAuc => s.val_pr_auc,
            SweepMetric::ValMinorityF1 => s.val_minority_f1,
        }
    }
}

impl std::fmt::Display for SweepMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to sweep (recorded in `plan.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// The gammas to try.
    pub gammas: Vec<Gamma>,
    /// The alphas to try (at the best gamma, or crossed with every gamma for a grid). Empty: alpha
    /// stays `base_alpha`.
    pub alphas: Vec<Alpha>,
    /// The alpha used while sweeping gamma (`None`: no class weights).
    pub base_alpha: Option<Alpha>,
    /// A full grid instead of gamma first, then alpha.
    pub grid: bool,
    /// The validation metric that chooses.
    pub metric: SweepMetric,
}

impl SweepSpec {
    /// Whether the sweep has a second stage (alpha at the best gamma), which can only be
    /// planned once the first stage's runs are finished.
    pub fn two_stage(&self) -> bool {
        !self.grid && !self.alphas.is_empty()
    }

    /// The entries of the first stage: every gamma at `base_alpha`, or the whole grid. Every
    /// gamma is checked (by the remedy's own rule) before the first run starts.
    pub fn first_stage(&self, base: &TrainConfig) -> Result<Vec<Plan>, ExperimentError> {
        if self.gammas.is_empty() {
            return Err(ExperimentError::NothingToSweep {
                setting: Setting::Gamma,
            });
        }
        let plans = self
            .gammas
            .iter()
            .map(|&g| focal_plan(base, g, self.base_alpha.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        if !self.grid {
            return Ok(plans);
        }
        let alphas: Vec<Option<Alpha>> = if self.alphas.is_empty() {
            vec![self.base_alpha.clone()]
        } else {
            self.alphas.iter().cloned().map(Some).collect()
        };
        let mut grid = Vec::new();
        for &g in &self.gammas {
            for a in &alphas {
                grid.push(focal_plan(base, g, a.clone())?);
            }
        }
        Ok(grid)
    }

    /// The entries of the second stage: every alpha at gamma number `best_gamma`.
    pub fn second_stage(
        &self,
        base: &TrainConfig,
        best_gamma: usize,
    ) -> Result<Vec<Plan>, ExperimentError> {
        let gamma = self.gammas[best_gamma];
        self.alphas
            .iter()
            .map(|a| focal_plan(base, gamma, Some(a.clone())))
            .collect()
    }

    /// The first stage judged on its entries: the stage's table line and the chosen entry.
    pub fn judge_first(&self, entries: &[Entry]) -> Result<(SweepStage, usize), ExperimentError> {
        if self.grid {
            let xs = (0..entries.len()).map(|i| i as f64).collect();
            stage("gamma x alpha", entries, xs, self.metric)
        } else {
            let xs = self.gammas.iter().map(|&g| f64::from(g.get())).collect();
            stage("gamma", entries, xs, self.metric)
        }
    }

    /// The second stage judged on its entries.
    pub fn judge_second(&self, entries: &[Entry]) -> Result<SweepStage, ExperimentError> {
        Ok(stage("alpha", entries, alpha_xs(&self.alphas), self.metric)?.0)
    }
}

fn focal_plan(
    base: &TrainConfig,
    gamma: Gamma,
    alpha: Option<Alpha>,
) -> Result<Plan, ExperimentError> {
    let label = match &alpha {
        Some(a) => format!("gamma={gamma} alpha={a}"),
        None => format!("gamma={gamma}"),
    };
    let remedy = RemedyParams {
        gamma: Some(gamma),
        alpha,
        ..RemedyParams::default()
    }
    .check(RemedyKind::Focal)?;
    let config = base.with_remedy(remedy)?;
    Ok(Plan { label, config })
}

fn stage(
    parameter: &str,
    entries: &[Entry],
    xs: Vec<f64>,
    metric: SweepMetric,
) -> Result<(SweepStage, usize), ExperimentError> {
    let means: Vec<Option<f64>> = entries
        .iter()
        .map(|e| {
            Stat::of(&e.seeds.iter().map(|s| metric.of(s)).collect::<Vec<_>>()).map(|s| s.mean)
        })
        .collect();
    let best = means
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.map(|m| (i, m)))
        // On a tie the first setting (the smaller gamma, as listed) is kept.
        .fold(None, |best: Option<(usize, f64)>, (i, m)| match best {
            Some((_, b)) if b >= m => best,
            _ => Some((i, m)),
        })
        .map(|(i, _)| i)
        .ok_or_else(|| ExperimentError::SweepUndefined {
            parameter: parameter.to_string(),
            metric: metric.name(),
        })?;
    Ok((
        SweepStage {
            parameter: parameter.to_string(),
            settings: entries.iter().map(|e| e.label.clone()).collect(),
            points: xs
                .into_iter()
                .zip(&means)
                .filter_map(|(x, m)| m.map(|m| (x, m)))
                .collect(),
            chosen: entries[best].label.clone(),
        },
        best,
    ))
}

fn alpha_xs(alphas: &[Alpha]) -> Vec<f64> {
    let numeric: Option<Vec<f64>> = alphas
        .iter()
        .map(|a| match a {
            Alpha::Scalar(v) => Some(f64::from(v.get())),
            _ => None,
        })
        .collect();
    numeric.unwrap_or_else(|| (0..alphas.len()).map(|i| i as f64).collect())
}

/// Reads `comparison.json` from an experiment folder.
pub fn read_comparison(dir: &Path) -> Result<Comparison, ExperimentError> {
    Ok(read_json(
        &dir.join(focal_train::run::folder::COMPARISON_FILE),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mean: f64, std: f64, n: usize) -> Option<Stat> {
        Some(Stat { mean, std, n })
    }

    #[test]
    fn stat_is_mean_and_sample_std() {
        let s = Stat::of(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]).unwrap();
        assert!((s.mean - 2.5).abs() < 1e-12);
        // numpy.std([1,2,3,4], ddof=1) = 1.2909944487358056
        assert!((s.std - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(Stat::of(&[Some(1.0), None]), None);
        assert_eq!(Stat::of(&[]), None);
        assert_eq!(Stat::of(&[Some(0.5)]).unwrap().std, 0.0);
    }

    #[test]
    fn a_win_needs_a_gap_larger_than_the_noise() {
        // 0.80 ± 0.01 against 0.70 ± 0.01: a clear win.
        let m = mark_column(&[stat(0.8, 0.01, 3), stat(0.7, 0.01, 3)], Better::Higher);
        assert_eq!(m, vec![Mark::Win, Mark::None]);
        // 0.80 ± 0.10 against 0.75 ± 0.10: inside the noise.
        let m = mark_column(&[stat(0.8, 0.1, 3), stat(0.75, 0.1, 3)], Better::Higher);
        assert_eq!(m, vec![Mark::BestWithinNoise, Mark::None]);
        // One seed: never a win.
        let m = mark_column(&[stat(0.8, 0.0, 1), stat(0.1, 0.0, 1)], Better::Higher);
        assert_eq!(m, vec![Mark::BestWithinNoise, Mark::None]);
        // Lower is better for time; undefined cells are skipped.
        let m = mark_column(&[stat(5.0, 0.1, 2), None, stat(2.0, 0.1, 2)], Better::Lower);
        assert_eq!(m, vec![Mark::None, Mark::None, Mark::Win]);
        assert_eq!(
            mark_column(&[None, None], Better::Higher),
            vec![Mark::None; 2]
        );
    }

    #[test]
    fn folder_names_are_safe() {
        assert_eq!(
            folder_name("gamma=2 alpha=cb:0.99", 1),
            "gamma=2_alpha=cb_0.99-seed1"
        );
    }
}
