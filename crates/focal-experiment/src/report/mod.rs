//! Self-contained HTML reports: one per run folder, one per comparison or sweep.
//!
//! Every chart is an inline SVG drawn with plotters, so a report opens offline, in any browser,
//! from a single file. Reports are rebuilt from the files of the run folders alone
//! (`config.json`, `metrics.json`, `checkpoint/last/state.json`, `curves/*.csv`), which is what
//! `focal report DIR` does.
//!
//! This module is a leaf: it reads the run-folder formats ([`focal_train::run`]) and comparisons
//! ([`crate::experiment`]) and nothing imports it but the orchestration ([`crate::pipeline`]).

pub mod plots;

use crate::ExperimentError;
use std::fmt::Write as _;
use std::path::Path;

use crate::experiment::{Comparison, Entry, Mark, Table};
use focal_train::DecisionRule;
use focal_train::TrainError;
use focal_train::run::checkpoint;
use focal_train::run::files::{read_json, write_atomic};
use focal_train::run::record::{EpochRecord, FinalMetrics, RunConfig, read_config};
use plots::{LineChart, Series, confusion_heatmap, html_escape, line_chart};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;margin:8px 0 16px;font-size:.9em}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}\
th{background:#f4f6f8}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}\
.note{color:#555;font-size:.9em}pre{background:#f7f7f7;padding:10px;overflow:auto;font-size:.85em}";

/// Everything a report needs from one finished run folder.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// `metrics.json`.
    pub metrics: FinalMetrics,
    /// Per-epoch history (from the last checkpoint's state).
    pub history: Vec<EpochRecord>,
    /// Test precision-recall curve of the positive class: `(recall, precision)` points.
    pub pr_curve: Vec<(f64, f64)>,
    /// Test ROC curve of the positive class: `(false positive rate, true positive rate)`
    /// points (`curves/roc.csv`).
    pub roc_curve: Vec<(f64, f64)>,
    /// The task's minority class (from `config.json`).
    pub minority: usize,
    /// Test reliability diagram, `(mean confidence, accuracy)` of each non-empty bin: of the
    /// run's probabilities (`curves/calibration.csv`), and at T = 1 when the run applied a
    /// temperature (`curves/calibration_uncalibrated.csv`).
    pub reliability: Vec<(f64, f64)>,
    /// See `reliability`.
    pub reliability_uncalibrated: Vec<(f64, f64)>,
    /// The run's configuration as `(setting, value)` rows (from `config.json`).
    pub configuration: Vec<(String, String)>,
    /// The data and task as `(setting, value)` rows (from `config.json`).
    pub task: Vec<(String, String)>,
    /// One line naming the data, the task, the remedy with its parameters and the model.
    pub summary: String,
}

/// The rows of a run report's data-and-task table, from `config.json`.
fn task_rows(rc: &RunConfig) -> Vec<(String, String)> {
    let t = &rc.task;
    let mut rows = vec![("data".to_string(), t.source.to_string())];
    if let Some(p) = rc.positive {
        let name = rc.class_names.get(p).cloned().unwrap_or_default();
        let task = match &t.positive_name {
            Some(source) if *source != name => {
                format!("binary: {name} (\"{source}\" in the data) against the rest")
            }
            _ => format!("binary: {name} against the rest"),
        };
        rows.push(("task".to_string(), task));
    } else {
        rows.push((
            "task".to_string(),
            format!("{} classes: {}", rc.n_classes, rc.class_names.join(", ")),
        ));
    }
    if let Some((neg, pos)) = t.ratio {
        rows.push((
            "imposed ratio (negative:positive)".to_string(),
            format!("{neg}:{pos}"),
        ));
    }
    if let Some(f) = t.long_tail {
        rows.push(("long-tail imbalance factor".to_string(), f.to_string()));
    }
    let counts = |c: &[usize]| {
        let total: usize = c.iter().sum();
        let per: Vec<String> = c
            .iter()
            .zip(&rc.class_names)
            .map(|(n, name)| format!("{name} {n}"))
            .collect();
        format!("{} (total {total})", per.join(", "))
    };
    let c = &rc.class_counts;
    rows.push(("train split".to_string(), counts(&c.train)));
    if rc.train_counts_after_remedy != c.train && !rc.train_counts_after_remedy.is_empty() {
        rows.push((
            "train, after the remedy's resampling".to_string(),
            counts(&rc.train_counts_after_remedy),
        ));
    }
    rows.push(("validation split".to_string(), counts(&c.val)));
    rows.push(("test split".to_string(), counts(&c.test)));
    rows
}

/// The line at the top of a run report: data, task, remedy and model.
fn summary_line(rc: &RunConfig) -> String {
    let task = match rc.positive {
        Some(p) => {
            let name = rc.class_names.get(p).cloned().unwrap_or_default();
            let test = &rc.class_counts.test;
            match test.get(p) {
                Some(n) => format!(
                    "positive class {name} ({n} of {} test samples)",
                    test.iter().sum::<usize>()
                ),
                None => format!("positive class {name}"),
            }
        }
        None => format!("{} classes", rc.n_classes),
    };
    let transfer = (rc.transfer.as_ref()).map_or(String::new(), |t| {
        format!(" Transfer learning: {}.", t.summary())
    });
    format!(
        "Data: {}. Task: {task}. Remedy: {}. Model: {}.{transfer}",
        rc.task.source,
        rc.train.remedy().label(),
        rc.train.model()
    )
}

impl RunFiles {
    /// Reads the files of the run folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, ExperimentError> {
        let metrics: FinalMetrics = read_json(&dir.join(focal_train::run::folder::METRICS_FILE))?;
        let config = read_config(dir)?;
        let minority = config.task.minority.unwrap_or(0);
        let history = if checkpoint::exists(dir) || dir.join("history.csv").is_file() {
            focal_train::run::run_history(dir)?
        } else {
            Vec::new()
        };
        let curves = dir.join("curves");
        let pr_curve = read_curve(&curves.join("pr.csv"), metrics.positive, (2, 1))?;
        let roc_curve = read_curve(&curves.join("roc.csv"), metrics.positive, (1, 2))?;
        Ok(RunFiles {
            metrics,
            history,
            pr_curve,
            roc_curve,
            minority,
            reliability: read_reliability(&curves.join("calibration.csv"))?,
            reliability_uncalibrated: read_reliability(
                &curves.join("calibration_uncalibrated.csv"),
            )?,
            configuration: config.train.rows(),
            task: task_rows(&config),
            summary: summary_line(&config),
        })
    }

    /// The share of the positive class in the test split (see [`prevalence`]).
    pub fn prevalence(&self) -> Option<f64> {
        prevalence(&self.metrics)
    }
}

/// The positive class's share of the test split, from a confusion matrix of `metrics.json`
/// (its row sums are the test class counts): the precision of a classifier that guesses, the
/// baseline of a precision-recall curve. `None` for multi-class runs.
pub fn prevalence(m: &FinalMetrics) -> Option<f64> {
    let pos = m.positive?;
    let cm = &m.rules.values().next()?.confusion_matrix;
    let total: u64 = cm.iter().flatten().sum();
    let positives: u64 = cm.get(pos)?.iter().sum();
    (total > 0).then(|| positives as f64 / total as f64)
}

/// Reads a curve of `class` (binary tasks: the positive class) from `curves/pr.csv`
/// (`class,precision,recall,threshold`) or `curves/roc.csv` (`class,fpr,tpr,threshold`):
/// the points `(column x, column y)` of `columns`. An absent file gives no points.
fn read_curve(
    path: &Path,
    class: Option<usize>,
    columns: (usize, usize),
) -> Result<Vec<(f64, f64)>, ExperimentError> {
    let Some(class) = class else {
        return Ok(Vec::new());
    };
    read_points(path, |field| {
        Ok(if field(0)? as usize == class {
            Some((field(columns.0)?, field(columns.1)?))
        } else {
            None
        })
    })
}

/// Reads a reliability diagram (`lower,upper,count,mean_confidence,accuracy`): the
/// `(mean_confidence, accuracy)` of each bin that holds samples; an absent file gives none.
fn read_reliability(path: &Path) -> Result<Vec<(f64, f64)>, ExperimentError> {
    read_points(path, |field| {
        Ok(if field(2)? > 0.0 {
            Some((field(3)?, field(4)?))
        } else {
            None
        })
    })
}

/// The points `pick` takes from the rows of a numeric CSV file with a header; `pick` reads a
/// row's columns through the function it is given (an error names the file, line and column).
/// An absent file gives no points.
fn read_points(
    path: &Path,
    pick: impl Fn(
        &dyn Fn(usize) -> Result<f64, ExperimentError>,
    ) -> Result<Option<(f64, f64)>, ExperimentError>,
) -> Result<Vec<(f64, f64)>, ExperimentError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| TrainError::format(path, e))?;
    let mut points = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| TrainError::format(path, e))?;
        let field = |k: usize| -> Result<f64, ExperimentError> {
            record
                .get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| {
                    TrainError::format(
                        path,
                        format!("line {}: column {} is not a number", i + 2, k + 1),
                    )
                    .into()
                })
        };
        points.extend(pick(&field)?);
    }
    Ok(points)
}

fn chart(title: &str, x: &str, y: &str, y_range: Option<(f64, f64)>) -> LineChart {
    LineChart {
        title: title.to_string(),
        x_label: x.to_string(),
        y_label: y.to_string(),
        y_range,
        x_range: None,
        size: (560, 360),
        integer_x: false,
        legend_lower_right: false,
    }
}

/// A chart over epochs: whole epochs on the x axis.
fn epoch_chart(title: &str, y: &str, y_range: Option<(f64, f64)>) -> LineChart {
    LineChart {
        integer_x: true,
        ..chart(title, "epoch", y, y_range)
    }
}

/// A precision-recall chart of `curves`, with the precision of a classifier that guesses
/// (the positive class's share of the test split) as a baseline.
fn pr_chart(title: &str, curves: Vec<Series>, prevalence: Option<f64>) -> (LineChart, Vec<Series>) {
    let mut spec = chart(title, "recall", "precision", Some((0.0, 1.02)));
    spec.x_range = Some((0.0, 1.0));
    let mut series = curves;
    if let Some(p) = prevalence {
        series.push(Series::reference(
            format!("chance (prevalence {p:.3})"),
            vec![(0.0, p), (1.0, p)],
        ));
    }
    (spec, series)
}

/// A ROC chart of `curves`, with the diagonal of a classifier that guesses.
fn roc_chart(title: &str, curves: Vec<Series>) -> (LineChart, Vec<Series>) {
    let mut spec = chart(
        title,
        "false positive rate",
        "true positive rate",
        Some((0.0, 1.02)),
    );
    spec.x_range = Some((0.0, 1.0));
    spec.legend_lower_right = true;
    let mut series = curves;
    series.push(Series::reference(
        "chance (AUC 0.5)",
        vec![(0.0, 0.0), (1.0, 1.0)],
    ));
    (spec, series)
}

fn epoch_series(
    name: &str,
    history: &[EpochRecord],
    f: impl Fn(&EpochRecord) -> Option<f64>,
) -> Series {
    Series::data(
        name,
        history
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect(),
    )
}

/// A line chart; an error names the chart.
fn line(spec: &LineChart, series: &[Series]) -> Result<String, ExperimentError> {
    line_chart(spec, series).map_err(|message| ExperimentError::Chart {
        chart: spec.title.clone(),
        message,
    })
}

/// A confusion-matrix heat map; an error names the chart.
fn heatmap(
    title: &str,
    class_names: &[String],
    matrix: &[Vec<u64>],
    size: (u32, u32),
) -> Result<String, ExperimentError> {
    confusion_heatmap(title, class_names, matrix, size).map_err(|message| ExperimentError::Chart {
        chart: title.to_string(),
        message,
    })
}

/// A comparison table as HTML; wins in bold, best-within-noise in italics.
pub fn table_html(table: &Table) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in &table.header {
        let _ = write!(s, "<th>{}</th>", html_escape(h));
    }
    s.push_str("</tr></thead><tbody>\n");
    for (label, cells) in &table.rows {
        let _ = write!(s, "<tr><td>{}</td>", html_escape(label));
        for (text, mark) in cells {
            let t = html_escape(text);
            let _ = match mark {
                Mark::Win => write!(s, "<td><b>{t}</b></td>"),
                Mark::BestWithinNoise => write!(s, "<td><i>{t}</i></td>"),
                Mark::None => write!(s, "<td>{t}</td>"),
            };
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
    for note in &table.notes {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", html_escape(note));
    }
    s
}

/// The HTML report of one run folder.
pub fn run_html(title: &str, run: &RunFiles) -> Result<String, ExperimentError> {
    let m = &run.metrics;
    let pos = run.minority;
    let pos_name = m.class_names.get(pos).cloned().unwrap_or_default();
    let mut html = page_head(title);
    if !run.summary.is_empty() {
        let _ = write!(html, "<p>{}</p>", html_escape(&run.summary));
    }
    let _ = write!(
        html,
        "<p class=\"note\">Evaluated epoch {} of {} ({}); {:.1} s per epoch. Test PR-AUC {}, ROC AUC {}.</p>",
        m.evaluated_epoch,
        m.epochs_run,
        html_escape(m.stopped.name()),
        m.time_per_epoch_s,
        fmt_opt(m.test_pr_auc),
        fmt_opt(m.test_roc_auc)
    );
    let rows = |rows: &[(String, String)]| {
        plots::html_table(
            &["setting".to_string(), "value".to_string()],
            &rows
                .iter()
                .map(|(k, v)| vec![k.clone(), v.clone()])
                .collect::<Vec<_>>(),
        )
    };
    if !run.task.is_empty() {
        html.push_str("<h2>Data and task</h2>");
        html.push_str(&rows(&run.task));
    }
    if !run.configuration.is_empty() {
        html.push_str("<h2>Configuration</h2>");
        html.push_str(&rows(&run.configuration));
    }
    html.push_str("<h2>Training</h2><div class=\"grid\">");
    let losses = [
        epoch_series("train loss (remedy's own)", &run.history, |r| {
            Some(r.train_loss)
        }),
        epoch_series("validation cross-entropy", &run.history, |r| {
            Some(r.val_loss)
        }),
    ];
    html.push_str(&line(
        &epoch_chart("loss per epoch", "loss", None),
        &losses,
    )?);
    let val = [
        epoch_series(&format!("F1 of {pos_name}"), &run.history, |r| {
            r.val_per_class.get(pos).map(|c| c[2])
        }),
        epoch_series(&format!("recall of {pos_name}"), &run.history, |r| {
            r.val_per_class.get(pos).map(|c| c[1])
        }),
        epoch_series("PR-AUC", &run.history, |r| r.val_pr_auc),
    ];
    html.push_str(&line(
        &epoch_chart("validation, per epoch", "score", Some((0.0, 1.0))),
        &val,
    )?);
    html.push_str("</div><h2>Test</h2><div class=\"grid\">");
    if !run.pr_curve.is_empty() {
        let (spec, series) = pr_chart(
            "precision-recall curve (test)",
            vec![Series::data(
                format!("{pos_name} (AP {})", fmt_opt(m.test_pr_auc)),
                run.pr_curve.clone(),
            )],
            run.prevalence(),
        );
        html.push_str(&line(&spec, &series)?);
    }
    if !run.roc_curve.is_empty() {
        let (spec, series) = roc_chart(
            "ROC curve (test)",
            vec![Series::data(
                format!("{pos_name} (AUC {})", fmt_opt(m.test_roc_auc)),
                run.roc_curve.clone(),
            )],
        );
        html.push_str(&line(&spec, &series)?);
    }
    if !run.reliability.is_empty() {
        let mut series = Vec::new();
        let after = match m.temperature() {
            Some(t) => format!("calibrated, T = {t:.3}"),
            None => "the run's probabilities".to_string(),
        };
        if !run.reliability_uncalibrated.is_empty() {
            series.push(Series::data(
                "before calibration (T = 1)",
                run.reliability_uncalibrated.clone(),
            ));
        }
        series.push(Series::data(after, run.reliability.clone()));
        series.push(Series::reference(
            "perfect calibration",
            vec![(0.0, 0.0), (1.0, 1.0)],
        ));
        let mut scores = Vec::new();
        if let Some(e) = m.test_ece {
            scores.push(format!("ECE {e:.3}"));
        }
        if let Some(b) = m.test_brier {
            scores.push(format!("Brier {b:.3}"));
        }
        let title = if scores.is_empty() {
            "reliability diagram (test, top label)".to_string()
        } else {
            format!("reliability diagram (test): {}", scores.join(", "))
        };
        let mut spec = chart(&title, "mean confidence", "accuracy", Some((0.0, 1.02)));
        spec.x_range = Some((0.0, 1.0));
        spec.legend_lower_right = true;
        html.push_str(&line(&spec, &series)?);
    }
    for (rule, r) in &m.rules {
        let t = match r.threshold {
            Some(t) => format!("{rule} (threshold {t:.3})"),
            None => rule.to_string(),
        };
        html.push_str(&heatmap(
            &t,
            &m.class_names,
            &r.confusion_matrix,
            (380, 320),
        )?);
    }
    html.push_str("</div>");
    let mut notes = Vec::new();
    if let Some(p) = run.prevalence() {
        notes.push(format!(
            "{pos_name} is {:.1}% of the test split: a classifier that guesses has precision {p:.3} at every recall (the dashed line of the precision-recall curve) and ROC AUC 0.5.",
            p * 100.0
        ));
    }
    if m.test_ece.is_some() || m.test_brier.is_some() {
        notes.push(format!(
            "Calibration of the run's probabilities{} on test: expected calibration error (top label, {} bins) {}, Brier score of {pos_name} {}; lower is better for both.",
            m.temperature()
                .map_or_else(String::new, |t| format!(" (temperature {t:.3} applied)")),
            focal_train::run::curves::CALIBRATION_BINS,
            fmt_opt(m.test_ece),
            fmt_opt(m.test_brier)
        ));
    }
    for n in notes {
        let _ = write!(html, "<p class=\"note\">{}</p>", html_escape(&n));
    }
    if let Some(c) = &m.calibration {
        let _ = write!(
            html,
            "<h2>Calibration</h2><p class=\"note\">Temperature scaling fitted on validation: \
             T = {:.4}, {}. Validation ECE {:.4} at T = 1, {:.4} at T.</p>",
            c.temperature,
            if c.applied {
                "applied to every probability of the run"
            } else {
                "not applied (it did not lower the validation ECE)"
            },
            c.val_ece_before,
            c.val_ece_after
        );
        html.push_str(&plots::html_table(
            &[
                "test".to_string(),
                "T = 1".to_string(),
                "fitted T".to_string(),
            ],
            &[
                vec![
                    "ECE (top label)".to_string(),
                    fmt_opt(c.test_ece_before),
                    fmt_opt(c.test_ece_after),
                ],
                vec![
                    "Brier score".to_string(),
                    fmt_opt(c.test_brier_before),
                    fmt_opt(c.test_brier_after),
                ],
            ],
        ));
    }
    for (rule, r) in &m.rules {
        let _ = write!(
            html,
            "<h2>Classification report, {}</h2><pre>{}</pre>",
            html_escape(rule.name()),
            html_escape(&r.report_text)
        );
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

/// Writes `report.html` into the run folder `dir`, from its files.
pub fn write_run_report(dir: &Path) -> Result<(), ExperimentError> {
    let run = RunFiles::read(dir)?;
    let name = dir
        .file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned());
    let html = run_html(&format!("focal run {name}"), &run)?;
    write_atomic(&dir.join("report.html"), html.as_bytes())?;
    Ok(())
}

/// Adds to the tuned-threshold table, after the entry's label, the threshold on P(positive)
/// each entry chose on validation (mean ± sample std over its seeds, like the other cells).
fn with_thresholds(table: &mut Table, cmp: &Comparison) {
    table.header.insert(1, "threshold".to_string());
    for ((_, cells), entry) in table.rows.iter_mut().zip(&cmp.entries) {
        let t: Vec<Option<f64>> = entry
            .seeds
            .iter()
            .map(|s| s.rules.get(&DecisionRule::Tuned).and_then(|r| r.threshold))
            .collect();
        let text = crate::experiment::format_stat(crate::experiment::Stat::of(&t), 3);
        cells.insert(0, (text, Mark::None));
    }
}

fn page_head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = html_escape(title)
    )
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"))
}

/// The HTML report of a comparison (or sweep): the tables, then per-remedy curves of the first
/// seed's runs, read from their folders under `out_dir`.
pub fn comparison_html(cmp: &Comparison, out_dir: &Path) -> Result<String, ExperimentError> {
    let mut html = page_head(&cmp.title);
    let _ = write!(
        html,
        "<p class=\"note\">{}</p>",
        html_escape(&cmp.describe_task())
    );
    // The labels name the remedies; their parameters are said once here (a note, not a
    // table: the page's tables are the comparison's).
    let own = |e: &&Entry| e.ensemble_of.is_none();
    if cmp.entries.iter().filter(own).any(|e| e.label != e.remedy) {
        let remedies: Vec<String> = cmp
            .entries
            .iter()
            .filter(own)
            .map(|e| format!("{}: {}", e.label, e.remedy))
            .collect();
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            html_escape(&format!("Losses and parameters. {}.", remedies.join("; ")))
        );
    }
    for rule in DecisionRule::TRAINED {
        if let Some(mut table) = cmp.table(rule) {
            if rule == DecisionRule::Tuned {
                with_thresholds(&mut table, cmp);
            }
            let _ = write!(
                html,
                "<h2>Test metrics, {}</h2>{}",
                html_escape(&table.caption),
                table_html(&table)
            );
        }
    }
    let _ = write!(html, "<p class=\"note\">{}</p>", html_escape(&cmp.legend()));
    // Curves: the first seed of every entry, one line each (an ensemble has no curves of its
    // own).
    let mut runs = Vec::new();
    for entry in cmp.entries.iter().filter(|e| e.ensemble_of.is_none()) {
        if let Some(first) = entry.seeds.first() {
            let files = RunFiles::read(&out_dir.join(&first.run_dir))?;
            runs.push((entry.label.clone(), files));
        }
    }
    let seed_note = cmp
        .entries
        .first()
        .and_then(|e| e.seeds.first())
        .map_or(0, |s| s.seed);
    let _ = write!(
        html,
        "<h2>Training curves (seed {seed_note})</h2><div class=\"grid\">"
    );
    let pos = cmp.task.minority;
    let pos_name = cmp.task.class_names.get(pos).cloned().unwrap_or_default();
    let series = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<Series> {
        runs.iter()
            .map(|(label, r)| epoch_series(label, &r.history, f))
            .collect()
    };
    html.push_str(&line(
        &epoch_chart("training loss (each remedy's own loss)", "loss", None),
        &series(&|r| Some(r.train_loss)),
    )?);
    html.push_str(&line(
        &epoch_chart("validation cross-entropy", "loss", None),
        &series(&|r| Some(r.val_loss)),
    )?);
    html.push_str(&line(
        &epoch_chart(
            &format!("validation F1 of {pos_name}"),
            "F1",
            Some((0.0, 1.0)),
        ),
        &series(&|r| r.val_per_class.get(pos).map(|c| c[2])),
    )?);
    html.push_str(&line(
        &epoch_chart("validation PR-AUC", "average precision", Some((0.0, 1.0))),
        &series(&|r| r.val_pr_auc),
    )?);
    html.push_str("</div><h2>Test precision-recall and ROC curves</h2><div class=\"grid\">");
    let pr: Vec<Series> = runs
        .iter()
        .map(|(label, r)| {
            Series::data(
                format!("{label} (AP {})", fmt_opt(r.metrics.test_pr_auc)),
                r.pr_curve.clone(),
            )
        })
        .collect();
    // Every entry is tested on the same split, so one prevalence serves them all.
    let prevalence = runs.iter().find_map(|(_, r)| r.prevalence());
    let (mut spec, pr) = pr_chart(
        &format!("precision-recall of {pos_name} (test)"),
        pr,
        prevalence,
    );
    spec.size = (560, 420);
    html.push_str(&line(&spec, &pr)?);
    if runs.iter().any(|(_, r)| !r.roc_curve.is_empty()) {
        let roc: Vec<Series> = runs
            .iter()
            .map(|(label, r)| {
                Series::data(
                    format!("{label} (AUC {})", fmt_opt(r.metrics.test_roc_auc)),
                    r.roc_curve.clone(),
                )
            })
            .collect();
        let (mut spec, roc) = roc_chart(&format!("ROC of {pos_name} (test)"), roc);
        spec.size = (560, 420);
        html.push_str(&line(&spec, &roc)?);
    }
    html.push_str("</div>");
    if let Some(p) = prevalence {
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            html_escape(&format!(
                "{pos_name} is {:.1}% of the test split: a classifier that guesses has precision {p:.3} at every recall (dashed) and ROC AUC 0.5.",
                p * 100.0
            ))
        );
    }
    html.push_str("<div class=\"grid\">");
    html.push_str(
        "</div><h2>Confusion matrices (test, argmax and tuned threshold)</h2><div class=\"grid\">",
    );
    for (label, r) in &runs {
        for (rule, m) in &r.metrics.rules {
            html.push_str(&heatmap(
                &format!("{label}, {rule}"),
                &r.metrics.class_names,
                &m.confusion_matrix,
                (340, 300),
            )?);
        }
    }
    html.push_str("</div>");
    if let Some(sweep) = &cmp.sweep {
        html.push_str("<h2>Sweep</h2><div class=\"grid\">");
        for stage in &sweep.stages {
            let s = [Series::data(
                format!("validation {}", sweep.metric),
                stage.points.clone(),
            )];
            html.push_str(&line(
                &chart(
                    &format!("{} over {}", sweep.metric, stage.parameter),
                    &stage.parameter,
                    sweep.metric.name(),
                    None,
                ),
                &s,
            )?);
        }
        html.push_str("</div>");
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

#[cfg(test)]
mod tests;
