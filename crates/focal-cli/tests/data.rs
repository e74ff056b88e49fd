//! `focal data inspect`, run as a user would.

use std::path::Path;
use std::process::{Command, Output};

fn focal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn inspect_without_data_describes_the_bundled_set() {
    let v = json(&focal(&["data", "inspect", "--json"]));
    assert_eq!(v["format"], "bundled");
    assert_eq!(v["n_samples"], 10_000);
    assert_eq!(v["n_classes"], 10);
    assert_eq!(v["class_names"][8], "Bag");
    assert_eq!(v["class_counts"], serde_json::json!(vec![1000; 10]));
    assert_eq!(v["shape"], serde_json::json!([1, 28, 28]));
    assert!(v["splits"].is_null());
    assert_eq!(v["imbalance_ratio"], 1.0);

    let text = focal(&["data", "inspect"]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("imbalance:   1.00"), "{text}");
    assert!(text.contains("Ankle boot"), "{text}");
}

#[test]
fn inspect_previews_a_task() {
    let v = json(&focal(&[
        "data",
        "inspect",
        "--json",
        "--positive",
        "Bag",
        "--ratio",
        "98:2",
    ]));
    assert_eq!(v["class_names"], serde_json::json!(["not Bag", "Bag"]));
    assert_eq!(v["class_counts"], serde_json::json!([8967, 183]));
    assert_eq!(v["imbalance_ratio"], 49.0);
}

#[test]
fn inspect_a_csv_with_a_label_column() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.csv");
    std::fs::write(&p, "y,a,b\nno,1,2\nyes,3,4\nno,5,6\n").unwrap();
    let v = json(&focal(&[
        "data",
        "inspect",
        "--json",
        "--data",
        p.to_str().unwrap(),
        "--label-column",
        "y",
    ]));
    assert_eq!(v["format"], "csv");
    assert_eq!(v["shape"], serde_json::json!([2]));
    assert_eq!(v["class_names"], serde_json::json!(["no", "yes"]));
    assert_eq!(v["class_counts"], serde_json::json!([2, 1]));
    assert_eq!(v["imbalance_ratio"], 2.0);
}

#[test]
fn bad_inputs_exit_non_zero_with_a_located_message() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("missing.npz");
    let out = focal(&["data", "inspect", "--data", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.npz"), "{err}");

    let p = d.path().join("bad.csv");
    std::fs::write(&p, "a,label\n1,x\nzz,y\n").unwrap();
    let out = focal(&["data", "inspect", "--data", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("`zz`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = focal(&[
        "data",
        "inspect",
        "--data",
        p.to_str().unwrap(),
        "--label-column",
        "nope",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no label column `nope`"));

    // NEGATIVE:POSITIVE read backwards makes the positive the majority: refused, with the fix.
    let out = focal(&["data", "inspect", "--positive", "Bag", "--ratio", "1:2000"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--ratio `1:2000`") && err.contains("--allow-majority-positive"),
        "{err}"
    );
    let out = focal(&[
        "data",
        "inspect",
        "--positive",
        "Bag",
        "--ratio",
        "1:2000",
        "--allow-majority-positive",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("9000 negative") && err.contains("1000 positive"),
        "{err}"
    );
}

#[test]
fn inspect_pneumoniamnist_when_present() {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/medmnist/pneumoniamnist.npz"
    ));
    if !p.is_file() {
        println!("skipped: {} is absent", p.display());
        return;
    }
    let v = json(&focal(&[
        "data",
        "inspect",
        "--json",
        "--data",
        p.to_str().unwrap(),
    ]));
    assert_eq!(v["format"], "npz");
    assert_eq!(v["n_samples"], 5030);
    assert_eq!(v["splits"]["train"], serde_json::json!([388, 3494]));
    assert_eq!(v["splits"]["val"], serde_json::json!([135, 389]));
    assert_eq!(v["splits"]["test"], serde_json::json!([234, 390]));
}
