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
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use focal_train::PreparedData;
use focal_train::Progress;
use focal_train::run::files::{read_json, write_atomic, write_json};
use focal_train::run::record::{EpochRecord, FinalMetrics};
use focal_train::train::RunSummary;

use focal_train::{DecisionRule, RuleMetrics};
use focal_train::{OptimizerKind, TrainConfig};

/// Trains one run of an experiment into its folder: [`focal_train::train::train`], or a caller's
/// wrapper of it (the pipeline's, which also draws the run's report).
pub type TrainFn =
    fn(&TrainConfig, &PreparedData, &Path, &dyn Progress) -> Result<RunSummary, ExperimentError>;

/// Continues an interrupted run in its folder: [`focal_train::train::resume`], or a caller's wrapper.
pub type ResumeFn = fn(&Path, &PreparedData, &dyn Progress) -> Result<RunSummary, ExperimentError>;

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

/// Reads `comparison.json` from an experiment folder.
pub fn read_comparison(dir: &Path) -> Result<Comparison, ExperimentError> {
    Ok(read_json(
        &dir.join(focal_train::run::folder::COMPARISON_FILE),
    )?)
}

mod records;
mod sweep;

pub use records::{
    Comparison, Entry, Plan, RuleSummary, SeedResult, Stat, SweepInfo, SweepMetric, SweepStage,
    TaskSummary,
};
pub use sweep::SweepSpec;

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
