//! `report.txt`: per decision rule, the scikit-learn classification report and the confusion
//! matrix of the test split.

use std::path::Path;

use crate::error::TrainError;
use crate::evaluate::DecisionRule;
use crate::run::files::write_atomic;
use crate::run::record::FinalMetrics;

/// Writes `report.txt`: per rule, the classification report and the confusion matrix.
pub fn write_report(dir: &Path, metrics: &FinalMetrics) -> Result<(), TrainError> {
    write_atomic(&dir.join("report.txt"), render_report(metrics).as_bytes())
}

/// The text of `report.txt` (also what `focal train` prints).
pub fn render_report(metrics: &FinalMetrics) -> String {
    let mut s = String::new();
    for rule in DecisionRule::TRAINED {
        let Some(m) = metrics.rules.get(&rule) else {
            continue;
        };
        let title = match (rule, m.threshold) {
            (DecisionRule::Tuned, Some(t)) => format!(
                "test, threshold {t:.4} on P({}) tuned on validation ({})",
                metrics
                    .positive
                    .map_or(String::new(), |p| metrics.class_names[p].clone()),
                m.objective.map(|o| o.to_string()).unwrap_or_default()
            ),
            _ => "test, argmax".to_string(),
        };
        s.push_str(&format!("== {title}\n\n{}\n", m.report_text));
        s.push_str(&format!(
            "balanced accuracy {:.4}  MCC {:.4}  PR-AUC {}\n",
            m.balanced_accuracy,
            m.mcc,
            metrics
                .test_pr_auc
                .map_or("n/a".to_string(), |v| format!("{v:.4}"))
        ));
        if let (Some(iv), Some(p)) = (&metrics.intervals, metrics.positive)
            && let Some(f1) = iv.f1.get(&rule)
        {
            s.push_str(&format!(
                "bootstrap 95% intervals ({} resamples of the test split, seed {}): {} F1 {:.4} [{:.4}, {:.4}], PR-AUC {:.4} [{:.4}, {:.4}]\n",
                iv.resamples,
                iv.seed,
                metrics.class_names[p],
                f1.estimate,
                f1.low,
                f1.high,
                iv.pr_auc.estimate,
                iv.pr_auc.low,
                iv.pr_auc.high
            ));
        }
        // The one layout of a confusion matrix (focal-metrics'), as `focal eval` prints it.
        if let Ok(cm) = focal_metrics::ConfusionMatrix::from_rows(&m.confusion_matrix) {
            s.push('\n');
            s.push_str(&cm.text());
        }
        s.push('\n');
    }
    if let Some(c) = &metrics.calibration {
        let f = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        s.push_str(&format!(
            "calibration: temperature {:.4} fitted on validation, {} (validation ECE {:.4} -> {:.4}); test ECE {} -> {}, Brier {} -> {}\n",
            c.temperature,
            if c.applied { "applied" } else { "not applied" },
            c.val_ece_before,
            c.val_ece_after,
            f(c.test_ece_before),
            f(c.test_ece_after),
            f(c.test_brier_before),
            f(c.test_brier_after)
        ));
    }
    s
}
