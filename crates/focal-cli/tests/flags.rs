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
        // Augmentation: which images is never guessed; contradictions are refused.
        (
            &["train", "--augment-rotate", "5"],
            &[
                "--augment-rotate needs --augment minority",
                "oversample-augment",
            ],
        ),
        (
            &["compare", "--remedies", "ce,focal", "--augment-flip"],
            &["--augment-flip needs --augment minority"],
        ),
        (
            &["sweep", "--augment-shift", "1"],
            &["--augment-shift needs --augment minority"],
        ),
        (
            &[
                "train",
                "--remedy",
                "oversample-augment",
                "--augment",
                "none",
            ],
            &[
                "--augment none",
                "remedy oversample-augment",
                "remedy oversample ",
            ],
        ),
        (
            &["train", "--augment", "none", "--augment-shift", "3"],
            &["--augment-shift", "--augment none"],
        ),
        (
            &[
                "train",
                "--augment",
                "minority",
                "--augment-flip",
                "off",
                "--augment-shift",
                "0",
                "--augment-rotate",
                "0",
            ],
            &["--augment with no transform"],
        ),
        (
            &["train", "--augment", "all", "--augment-rotate", "200"],
            &["--augment-rotate 200", "[0, 180]"],
        ),
        (
            &["train", "--augment", "sometimes"],
            &["--augment", "sometimes"],
        ),
        (
            &["train", "--augment", "all", "--augment-flip", "maybe"],
            &["--augment-flip", "maybe"],
        ),
        (
            &["train", "--resume", "/nonexistent/run", "--augment", "all"],
            &["--resume", "--augment"],
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

#[test]
fn augmentation_flags_reach_the_runs_that_read_them() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
    };
    // Without --augment, the --augment-* flags set oversample-augment's transforms only.
    let cmp = tmp.path().join("cmp");
    let o = focal(&[
        "compare",
        "--remedies",
        "oversample,oversample-augment",
        "--augment-flip",
        "off",
        "--augment-rotate",
        "5",
        "--plan-only",
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = plan(&cmp);
    let runs = p["runs"].as_array().unwrap();
    assert!(runs[0]["config"]["augment"].is_null(), "oversample: none");
    let a = &runs[1]["config"]["augment"];
    assert_eq!(a["scope"], "minority");
    assert_eq!(a["flip"], false);
    assert_eq!(a["shift"], 2, "the default shift");
    assert_eq!(a["rotate"], 5.0);
    // --augment all reaches every remedy (and the table's budget line says so).
    let all = tmp.path().join("all");
    let o = focal(&[
        "compare",
        "--remedies",
        "ce,focal",
        "--augment",
        "all",
        "--augment-shift",
        "3",
        "--plan-only",
        "--quiet",
        "--out",
        all.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = plan(&all);
    for r in p["runs"].as_array().unwrap() {
        let a = &r["config"]["augment"];
        assert_eq!(a["scope"], "all");
        assert_eq!(a["flip"], true, "flips by default");
        assert_eq!(a["shift"], 3);
        assert_eq!(a["rotate"], 10.0, "the default rotation");
    }
    let budget = p["summary"]["budget"].as_str().unwrap();
    assert!(
        budget.contains("augment all: flip, shift 3 px, rotate 10 deg"),
        "{budget}"
    );
    // sweep takes them as well.
    let sweep = tmp.path().join("sweep");
    let o = focal(&[
        "sweep",
        "--gamma",
        "0,2",
        "--augment",
        "minority",
        "--augment-flip",
        "--plan-only",
        "--quiet",
        "--out",
        sweep.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for r in plan(&sweep)["runs"].as_array().unwrap() {
        assert_eq!(r["config"]["augment"]["scope"], "minority");
    }
    // --help states the defaults.
    let help = String::from_utf8(focal(&["train", "--help"]).stdout).unwrap();
    assert!(
        help.contains("shift up to 2 px") && help.contains("rotation up to 10 degrees"),
        "{help}"
    );

    // Feature rows cannot be augmented: refused before anything is trained or planned.
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 60);
    for args in [
        &["train", "--augment", "minority", "--out"][..],
        &[
            "compare",
            "--remedies",
            "ce,oversample-augment",
            "--plan-only",
            "--out",
        ][..],
    ] {
        let out = tmp.path().join(format!("csv-{}", args[0]));
        let mut all = args.to_vec();
        all.extend([
            out.to_str().unwrap(),
            "--data",
            csv.to_str().unwrap(),
            "--positive",
            "rare",
            "--model",
            "mlp",
            "--quiet",
        ]);
        let o = focal(&all);
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert!(
            e.contains("--augment") && e.contains("feature rows") && !e.contains("panicked"),
            "{e}"
        );
        assert!(!out.join("plan.json").exists());
    }
}
