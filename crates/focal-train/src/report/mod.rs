//! Self-contained HTML reports: one per run folder, one per comparison or sweep.
//!
//! Every chart is an inline SVG drawn with plotters, so a report opens offline, in any browser,
//! from a single file. Reports are rebuilt from the files of the run folders alone
//! (`config.json`, `metrics.json`, `checkpoint/last/state.json`, `curves/pr.csv`), which is what
//! `focal report DIR` does.
//!
//! This module is a leaf: it reads the run-folder formats ([`crate::run`]) and comparisons
//! ([`crate::experiment`]) and nothing imports it but the orchestration ([`crate::pipeline`]).

pub mod plots;

use std::fmt::Write as _;
use std::path::Path;

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::evaluate::DecisionRule;
use crate::experiment::{Comparison, Mark, Table};
use crate::run::checkpoint::{self, Which};
use crate::run::files::{read_json, write_atomic};
use crate::run::record::{EpochRecord, FinalMetrics, read_config};
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
}

/// The rows of a run report's configuration table, from `config.json`'s training settings.
fn configuration_rows(c: &TrainConfig) -> Vec<(String, String)> {
    let mut rows = vec![
        ("model".to_string(), c.model.to_string()),
        ("remedy".to_string(), c.remedy.label()),
        (
            "augmentation (training images)".to_string(),
            c.augment
                .map_or_else(|| "none".to_string(), |a| a.to_string()),
        ),
        ("epochs".to_string(), c.epochs.to_string()),
        ("batch size".to_string(), c.batch_size.to_string()),
        (
            "optimizer".to_string(),
            format!("{}, lr {}, {} schedule", c.optimizer, c.lr, c.schedule),
        ),
        ("seed".to_string(), c.seed.to_string()),
        ("calibration".to_string(), c.calibrate.name().to_string()),
    ];
    if c.weight_decay > 0.0 {
        rows.push(("weight decay".to_string(), c.weight_decay.to_string()));
    }
    if let Some(n) = c.clip_grad {
        rows.push(("gradient clipping (norm)".to_string(), n.to_string()));
    }
    if let Some(p) = c.early_stop {
        rows.push(("early stopping (patience)".to_string(), p.to_string()));
    }
    rows
}

impl RunFiles {
    /// Reads the files of the run folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, TrainError> {
        let metrics: FinalMetrics = read_json(&dir.join("metrics.json"))?;
        let config = read_config(dir)?;
        let minority = config.task.minority.unwrap_or(0);
        let history = if checkpoint::exists(dir) {
            checkpoint::read_state(dir, Which::Last)?.history
        } else {
            Vec::new()
        };
        let pr_curve = read_pr_curve(&dir.join("curves").join("pr.csv"), metrics.positive)?;
        let curves = dir.join("curves");
        Ok(RunFiles {
            metrics,
            history,
            pr_curve,
            minority,
            reliability: read_reliability(&curves.join("calibration.csv"))?,
            reliability_uncalibrated: read_reliability(
                &curves.join("calibration_uncalibrated.csv"),
            )?,
            configuration: configuration_rows(&config.train),
        })
    }
}

/// Reads `curves/pr.csv` (`class,precision,recall,threshold`) for `class` (binary tasks: the
/// positive class); an absent file gives no points.
fn read_pr_curve(path: &Path, class: Option<usize>) -> Result<Vec<(f64, f64)>, TrainError> {
    let Some(class) = class else {
        return Ok(Vec::new());
    };
    read_points(path, |field| {
        Ok(if field(0)? as usize == class {
            Some((field(2)?, field(1)?))
        } else {
            None
        })
    })
}

/// Reads a reliability diagram (`lower,upper,count,mean_confidence,accuracy`): the
/// `(mean_confidence, accuracy)` of each bin that holds samples; an absent file gives none.
fn read_reliability(path: &Path) -> Result<Vec<(f64, f64)>, TrainError> {
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
    pick: impl Fn(&dyn Fn(usize) -> Result<f64, TrainError>) -> Result<Option<(f64, f64)>, TrainError>,
) -> Result<Vec<(f64, f64)>, TrainError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| TrainError::format(path, e))?;
    let mut points = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| TrainError::format(path, e))?;
        let field = |k: usize| -> Result<f64, TrainError> {
            record
                .get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| {
                    TrainError::format(
                        path,
                        format!("line {}: column {} is not a number", i + 2, k + 1),
                    )
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
    }
}

fn epoch_series(
    name: &str,
    history: &[EpochRecord],
    f: impl Fn(&EpochRecord) -> Option<f64>,
) -> Series {
    Series {
        name: name.to_string(),
        points: history
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect(),
    }
}

/// A line chart; an error names the chart.
fn line(spec: &LineChart, series: &[Series]) -> Result<String, TrainError> {
    line_chart(spec, series).map_err(|message| TrainError::Chart {
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
) -> Result<String, TrainError> {
    confusion_heatmap(title, class_names, matrix, size).map_err(|message| TrainError::Chart {
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
    s
}

/// The HTML report of one run folder.
pub fn run_html(title: &str, run: &RunFiles) -> Result<String, TrainError> {
    let m = &run.metrics;
    let pos = run.minority;
    let pos_name = m.class_names.get(pos).cloned().unwrap_or_default();
    let mut html = page_head(title);
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
    if !run.configuration.is_empty() {
        html.push_str("<h2>Configuration</h2>");
        html.push_str(&plots::html_table(
            &["setting".to_string(), "value".to_string()],
            &run.configuration
                .iter()
                .map(|(k, v)| vec![k.clone(), v.clone()])
                .collect::<Vec<_>>(),
        ));
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
        &chart("loss per epoch", "epoch", "loss", None),
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
        &chart("validation, per epoch", "epoch", "score", Some((0.0, 1.0))),
        &val,
    )?);
    html.push_str("</div><h2>Test</h2><div class=\"grid\">");
    if !run.pr_curve.is_empty() {
        let pr = [Series {
            name: format!("{pos_name} (AP {})", fmt_opt(m.test_pr_auc)),
            points: run.pr_curve.clone(),
        }];
        let mut spec = chart(
            "precision-recall curve (test)",
            "recall",
            "precision",
            Some((0.0, 1.02)),
        );
        spec.x_range = Some((0.0, 1.0));
        html.push_str(&line(&spec, &pr)?);
    }
    if !run.reliability.is_empty() {
        let mut series = vec![Series {
            name: "perfect calibration".to_string(),
            points: vec![(0.0, 0.0), (1.0, 1.0)],
        }];
        let after = match m.temperature() {
            Some(t) => format!("calibrated, T = {t:.3}"),
            None => "the run's probabilities".to_string(),
        };
        if !run.reliability_uncalibrated.is_empty() {
            series.push(Series {
                name: "before calibration (T = 1)".to_string(),
                points: run.reliability_uncalibrated.clone(),
            });
        }
        series.push(Series {
            name: after,
            points: run.reliability.clone(),
        });
        let mut spec = chart(
            "reliability diagram (test, top label)",
            "mean confidence",
            "accuracy",
            Some((0.0, 1.02)),
        );
        spec.x_range = Some((0.0, 1.0));
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
pub fn write_run_report(dir: &Path) -> Result<(), TrainError> {
    let run = RunFiles::read(dir)?;
    let name = dir
        .file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned());
    let html = run_html(&format!("focal run {name}"), &run)?;
    write_atomic(&dir.join("report.html"), html.as_bytes())
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
pub fn comparison_html(cmp: &Comparison, out_dir: &Path) -> Result<String, TrainError> {
    let mut html = page_head(&cmp.title);
    let _ = write!(
        html,
        "<p class=\"note\">{}</p>",
        html_escape(&cmp.describe_task())
    );
    for rule in DecisionRule::ALL {
        if let Some(table) = cmp.table(rule) {
            let _ = write!(
                html,
                "<h2>Test metrics, {}</h2>{}",
                html_escape(&table.caption),
                table_html(&table)
            );
        }
    }
    let _ = write!(html, "<p class=\"note\">{}</p>", html_escape(&cmp.legend()));
    // Curves: the first seed of every entry, one line each.
    let mut runs = Vec::new();
    for entry in &cmp.entries {
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
        &chart(
            "training loss (each remedy's own loss)",
            "epoch",
            "loss",
            None,
        ),
        &series(&|r| Some(r.train_loss)),
    )?);
    html.push_str(&line(
        &chart("validation cross-entropy", "epoch", "loss", None),
        &series(&|r| Some(r.val_loss)),
    )?);
    html.push_str(&line(
        &chart(
            &format!("validation F1 of {pos_name}"),
            "epoch",
            "F1",
            Some((0.0, 1.0)),
        ),
        &series(&|r| r.val_per_class.get(pos).map(|c| c[2])),
    )?);
    html.push_str(&line(
        &chart(
            "validation PR-AUC",
            "epoch",
            "average precision",
            Some((0.0, 1.0)),
        ),
        &series(&|r| r.val_pr_auc),
    )?);
    html.push_str("</div><h2>Test precision-recall curves</h2><div class=\"grid\">");
    let pr: Vec<Series> = runs
        .iter()
        .map(|(label, r)| Series {
            name: format!("{label} (AP {})", fmt_opt(r.metrics.test_pr_auc)),
            points: r.pr_curve.clone(),
        })
        .collect();
    let mut spec = chart(
        &format!("precision-recall of {pos_name} (test)"),
        "recall",
        "precision",
        Some((0.0, 1.02)),
    );
    spec.x_range = Some((0.0, 1.0));
    spec.size = (640, 420);
    html.push_str(&line(&spec, &pr)?);
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
            let s = [Series {
                name: format!("validation {}", sweep.metric),
                points: stage.points.clone(),
            }];
            html.push_str(&line(
                &chart(
                    &format!("{} over {}", sweep.metric, stage.parameter),
                    &stage.parameter,
                    &sweep.metric,
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
