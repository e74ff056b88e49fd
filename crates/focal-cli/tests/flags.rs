//! One flag set for train, compare and sweep: every training flag reaches every command's
//! runs, and a flag that makes no sense for a command is refused with a message.

mod common;
use std::fs;

use common::{focal, stderr, write_csv};

#[test]
fn compare_and_sweep_take_the_training_flags_into_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 120);
    let shared = [
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--weight-decay",
        "0.01",
        "--schedule",
        "cosine",
        "--optimizer",
        "sgd",
        "--clip-grad",
        "1.5",
        "--early-stop",
        "2",
        "--target-recall",
        "0.8",
        "--prior-bias",
        "0.01",
        "--checkpoint-every",
        "2",
        "--plan-only",
        "--quiet",
    ];
    let cmp = tmp.path().join("cmp");
    let mut args = vec![
        "compare",
        "--remedies",
        "ce,cb-focal,poly",
        "--beta",
        "0.99",
        "--epsilon",
        "2",
        "--out",
        cmp.to_str().unwrap(),
    ];
    args.extend(shared);
    let o = focal(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(cmp.join("plan.json")).unwrap()).unwrap();
    let runs = plan["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for r in runs {
        let c = &r["config"];
        assert_eq!(c["epochs"], 4, "compare's own default budget");
        assert_eq!(c["schedule"], "cosine");
        assert_eq!(c["optimizer"], "sgd");
        assert_eq!(c["early_stop"], 2);
        assert_eq!(c["target_recall"], 0.8);
        assert_eq!(c["prior_bias"], 0.01);
        assert_eq!(c["checkpoint_every"], 2);
        assert!((c["weight_decay"].as_f64().unwrap() - 0.01).abs() < 1e-6);
        assert!((c["clip_grad"].as_f64().unwrap() - 1.5).abs() < 1e-6);
    }
    let text = fs::read_to_string(cmp.join("plan.json")).unwrap();
    assert!(
        text.contains("0.99") && text.contains("\"epsilon\": 2.0"),
        "{text}"
    );

    let sweep = tmp.path().join("sweep");
    let mut args = vec![
        "sweep",
        "--gamma",
        "0,2",
        "--epochs",
        "3",
        "--out",
        sweep.to_str().unwrap(),
    ];
    args.extend(shared);
    let o = focal(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sweep.join("plan.json")).unwrap()).unwrap();
    let runs = plan["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["config"]["epochs"], 3);
        assert_eq!(r["config"]["schedule"], "cosine");
        assert_eq!(r["config"]["early_stop"], 2);
    }
}

#[test]
fn flags_that_make_no_sense_for_a_command_are_refused() {
    let cases: &[(&[&str], &[&str])] = &[
        // No listed remedy reads --beta.
        (
            &["compare", "--remedies", "ce,oversample", "--beta", "0.9"],
            &["--beta", "applies to none", "cb-focal"],
        ),
        // The sweep trains focal only.
        (&["sweep", "--tau", "2"], &["--tau", "focal sweep"]),
        // One gamma for train and compare.
        (
            &["compare", "--gamma", "0,1"],
            &["--gamma 0,1", "focal sweep"],
        ),
        (
            &["train", "--remedy", "focal", "--gamma", "1,2"],
            &["--gamma 1,2"],
        ),
        // --resume takes every setting from the run.
        (
            &["train", "--resume", "/nonexistent/run", "--epochs", "3"],
            &["--resume", "--epochs"],
        ),
        (
            &["train", "--long-tail", "10", "--positive", "Bag"],
            &["--long-tail", "--positive"],
        ),
        (
            &["train", "--image-size", "0x3"],
            &["--image-size", "at least 1"],
        ),
        (
            &["train", "--image-size", "64x64"],
            &["--image-size", "bundled"],
        ),
        (
            &["train", "--label-column", "y"],
            &["--label-column", "bundled"],
        ),
    ];
    for (args, needles) in cases {
        let mut all = args.to_vec();
        all.push("--quiet");
        let o = focal(&all);
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert!(!e.contains("panicked"), "{e}");
        for n in *needles {
            assert!(e.contains(n), "{args:?}: {e}");
        }
    }
}
