//! `focal eval --run DIR [--data PATH]`: re-evaluate a trained run on its test split.

use std::path::Path;

use anyhow::Context;

/// Re-evaluates the run in `run_dir` (its checkpoint, its split; the data from `data` or the
/// run's own source) and prints the test report at each decision rule, or metrics.json's JSON.
pub fn eval_run(
    run_dir: &Path,
    data: Option<&Path>,
    json: bool,
    digits: usize,
) -> anyhow::Result<()> {
    crate::train::check_run_dir(run_dir, "--run")?;
    let prepared = crate::train::run_data(run_dir, data)?;
    let mut metrics = focal_train::evaluate_run(run_dir, &prepared)
        .with_context(|| format!("--run {}", run_dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
        return Ok(());
    }
    if digits != 2 {
        // Re-render the per-rule text reports with the asked precision.
        for m in metrics.rules.values_mut() {
            let y_true: Vec<usize> = m
                .confusion_matrix
                .iter()
                .enumerate()
                .flat_map(|(t, row)| {
                    row.iter()
                        .enumerate()
                        .flat_map(move |(p, &n)| std::iter::repeat_n((t, p), n as usize))
                })
                .map(|(t, _)| t)
                .collect();
            let y_pred: Vec<usize> = m
                .confusion_matrix
                .iter()
                .flat_map(|row| {
                    row.iter()
                        .enumerate()
                        .flat_map(|(p, &n)| std::iter::repeat_n(p, n as usize))
                })
                .collect();
            let options = focal_metrics::ReportOptions {
                target_names: Some(metrics.class_names.clone()),
                digits,
                ..Default::default()
            };
            m.report_text = focal_metrics::ClassificationReport::new(
                &y_true,
                &y_pred,
                metrics.class_names.len(),
                &options,
            )?
            .to_string();
        }
    }
    print!("{}", focal_train::run::render_report(&metrics));
    Ok(())
}
