use super::*;
use crate::experiment::read_comparison;
use std::path::PathBuf;

/// A comparison folder of three two-epoch runs (weighted-ce, focal, ldam-drw) on a binary
/// task with 8 positives among 46 test samples; at argmax weighted-ce and focal predict no
/// positive at all.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare-cf3ce54")
}

/// The texts of the chart whose title is `title`.
fn svg_titled<'a>(html: &'a str, title: &str) -> Vec<&'a str> {
    html.split("<svg")
        .map(plots::svg_texts)
        .find(|texts| texts.contains(&title))
        .unwrap_or_else(|| panic!("no chart titled {title:?}"))
}

#[test]
fn run_page_names_the_run_and_draws_roc_baselines_and_calibration() {
    let run = RunFiles::read(&fixture().join("focal-seed0")).unwrap();
    assert_eq!(run.history.len(), 2);
    assert!(!run.roc_curve.is_empty());
    // 8 tumours among 46 test samples.
    assert!((run.prevalence().unwrap() - 8.0 / 46.0).abs() < 1e-12);
    let html = run_html("run", &run).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    // Data, task, remedy with its parameters, model.
    assert!(html.contains(
        "Data: crates/focal-train/tests/fixtures/compare-cf3ce54/data.csv. Task: positive class tumour (8 of 46 test samples). Remedy: focal(gamma=2, alpha=0.25). Model: mlp."
    ));
    assert!(html.contains("<td>test split</td><td>healthy 38, tumour 8 (total 46)</td>"));
    // ROC curve with its AUC and the chance diagonal.
    let roc = svg_titled(&html, "ROC curve (test)");
    assert!(roc.contains(&"tumour (AUC 0.9243)") && roc.contains(&"chance (AUC 0.5)"));
    // PR curve with the prevalence baseline.
    let pr = svg_titled(&html, "precision-recall curve (test)");
    assert!(pr.contains(&"chance (prevalence 0.174)"), "{pr:?}");
    // ECE and Brier with the reliability diagram (this run did not calibrate).
    assert!(run.metrics.calibration.is_none());
    svg_titled(&html, "reliability diagram (test): ECE 0.195, Brier 0.116");
    assert!(html.contains("expected calibration error (top label, 15 bins) 0.1948"));
    // Two epochs: ticks at 1 and 2 only.
    for title in ["loss per epoch", "validation, per epoch"] {
        let texts = svg_titled(&html, title);
        assert!(
            texts.contains(&"1") && texts.contains(&"2"),
            "{title}: {texts:?}"
        );
        assert!(!texts.contains(&"1.5"), "{title} has a tick 1.5: {texts:?}");
    }
}

#[test]
fn comparison_page_shows_thresholds_roc_and_the_prevalence() {
    let dir = fixture();
    let cmp = read_comparison(&dir).unwrap();
    let html = comparison_html(&cmp, &dir).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(html.contains("Data: crates/focal-train/tests/fixtures/compare-cf3ce54/data.csv"));
    assert!(html.contains("focal: focal(gamma=2, alpha=0.25)"));
    // Two tables, as before: the thresholds are a column of the tuned one.
    assert_eq!(html.matches("<table>").count(), 2);
    // The tuned table names each entry's threshold (focal's: 0.26199...).
    let tuned = html
        .split("<h2>Test metrics, threshold")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    assert!(tuned.contains("<th>remedy</th><th>threshold</th><th>accuracy</th>"));
    assert!(tuned.contains("<tr><td>focal</td><td>0.262</td>"));
    let roc = svg_titled(&html, "ROC of tumour (test)");
    assert!(roc.contains(&"focal (AUC 0.9243)") && roc.contains(&"chance (AUC 0.5)"));
    let pr = svg_titled(&html, "precision-recall of tumour (test)");
    assert!(pr.contains(&"chance (prevalence 0.174)"));
    let texts = svg_titled(&html, "validation PR-AUC");
    assert!(texts.contains(&"1") && texts.contains(&"2") && !texts.contains(&"1.5"));
}

#[test]
fn an_all_negative_model_gets_no_mark_for_its_accuracy() {
    let mut cmp = read_comparison(&fixture()).unwrap();
    // weighted-ce predicts no tumour at argmax; lift its accuracy above ldam-drw's 0.913
    // (as on a test split of 2% positives, where all-negative scores 0.98).
    let wce = &mut cmp.entries[0];
    assert_eq!(wce.label, "weighted-ce");
    let argmax = wce.seeds[0].rules.get_mut(&DecisionRule::Argmax).unwrap();
    assert_eq!(argmax.minority_recall, 0.0);
    argmax.accuracy = 0.95;
    let table = cmp.table(DecisionRule::Argmax).unwrap();
    let accuracy: Vec<Mark> = table.rows.iter().map(|(_, cells)| cells[0].1).collect();
    // weighted-ce, focal (also all-negative), ldam-drw: the mark goes to ldam-drw.
    assert_eq!(accuracy, [Mark::None, Mark::None, Mark::BestWithinNoise]);
    assert_eq!(table.notes.len(), 1);
    assert!(
        table.notes[0]
            .starts_with("accuracy: no mark for weighted-ce, which never finds tumour (recall 0)"),
        "{}",
        table.notes[0]
    );
    assert!(table.notes[0].contains("(0.826)"));
    assert!(table_html(&table).contains("<p class=\"note\">accuracy: no mark for weighted-ce"));
    assert!(
        table
            .to_markdown()
            .contains("accuracy: no mark for weighted-ce")
    );
    // Where a model that finds positives is best anyway, no note.
    let cmp = read_comparison(&fixture()).unwrap();
    assert!(cmp.table(DecisionRule::Argmax).unwrap().notes.is_empty());
}
