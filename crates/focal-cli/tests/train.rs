//! `focal train`, `focal info`: flags checked before any data is read, a tiny run end to end.

mod common;
use common::{focal, stderr, write_csv};

#[test]
fn bad_flag_values_fail_naming_the_flag_before_reading_data() {
    // --data points nowhere: each error must come from the flag check, before the data.
    let cases: &[(&[&str], &str)] = &[
        (&["--lr", "0"], "--lr"),
        (&["--epochs", "0"], "--epochs"),
        (&["--batch-size", "0"], "--batch-size"),
        (&["--remedy", "focall"], "focall"),
        (&["--remedy", "focal", "--alpha", "2"], "--alpha"),
        (&["--remedy", "focal", "--alpha", "cb:1.5"], "--alpha"),
        (&["--remedy", "ce", "--gamma", "2"], "--gamma"),
        (&["--remedy", "focal", "--gamma=-1"], "--gamma"),
        (&["--target-recall", "1.5"], "--target-recall"),
        (&["--prior-bias", "1"], "--prior-bias"),
        (&["--clip-grad", "0"], "--clip-grad"),
        (&["--model", "cnn", "--pretrained", "w.pth"], "--pretrained"),
        (
            &["--model", "resnet18", "--pretrained", "/nonexistent/w.pth"],
            "--pretrained",
        ),
        (&["--finetune", "head"], "--pretrained"),
        (&["--finetune", "last:5"], "--finetune"),
        (&["--finetune", "some"], "--finetune"),
        (&["--head", "mlp:0"], "--head"),
        (&["--model", "cnn", "--head", "mlp:64"], "--head"),
        (&["--feature-cache", ""], "--feature-cache"),
        (&["--optimizer", "adamw"], "adamw"),
        (&["--device", "tpu"], "tpu"),
    ];
    for (args, flag) in cases {
        let mut all = vec!["train", "--data", "/nonexistent/data.csv", "--quiet"];
        all.extend_from_slice(args);
        let o = focal(&all);
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert!(e.contains(flag), "{args:?}: {e}");
        assert!(!e.contains("data.csv"), "{args:?} read the data first: {e}");
    }
}

#[test]
fn a_missing_gpu_backend_says_how_to_build_one() {
    if cfg!(any(feature = "vulkan", feature = "cuda")) {
        return; // built with a GPU backend: the GPU path is checked on a machine with a GPU
    }
    let o = focal(&[
        "train",
        "--device",
        "gpu",
        "--quiet",
        "--data",
        "/nonexistent.csv",
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("--device gpu") && e.contains("--features vulkan"),
        "{e}"
    );
}

#[test]
fn tiny_run_end_to_end_then_resume_and_info() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 300);
    let out = tmp.path().join("runs");
    let o = focal(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--remedy",
        "focal",
        "--alpha",
        "0.75",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "r",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("== test, argmax") && stdout.contains("precision    recall  f1-score"),
        "{stdout}"
    );
    assert!(stdout.contains("tuned on validation"), "{stdout}");
    // Not a terminal: one line per epoch on stderr.
    assert_eq!(
        stderr(&o)
            .lines()
            .filter(|l| l.starts_with("epoch "))
            .count(),
        2,
        "{}",
        stderr(&o)
    );
    let run = out.join("r");
    for f in [
        "config.json",
        "split.json",
        "history.csv",
        "metrics.json",
        "report.txt",
        "report.html",
        "predictions.csv",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(
        config.contains("\"focal\"") && config.contains("0.75"),
        "{config}"
    );

    // The same name again: a fresh folder beside it.
    let o2 = focal(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "r",
    ]);
    assert!(o2.status.success(), "{}", stderr(&o2));
    assert!(o2.stdout.is_empty());
    assert!(out.join("r-2/metrics.json").is_file());

    // Resuming a finished run re-evaluates it and reports the same metrics.
    let before = std::fs::read_to_string(run.join("metrics.json")).unwrap();
    let o3 = focal(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert!(o3.status.success(), "{}", stderr(&o3));
    let after = std::fs::read_to_string(run.join("metrics.json")).unwrap();
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("time_per_epoch_s"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&before), strip(&after));

    let info = focal(&["info"]);
    assert!(info.status.success());
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("backend") && text.contains("cpu threads"),
        "{text}"
    );
}

/// Writes `n` RGB images of `w`x`h` into `root/<class>/`, the first `rare` of them in class
/// `b` (a brighter square), the others in `a`.
fn write_image_folder(root: &std::path::Path, n: usize, rare: usize, (w, h): (u32, u32)) {
    for i in 0..n {
        let class = if i < rare { "b" } else { "a" };
        let dir = root.join(class);
        std::fs::create_dir_all(&dir).unwrap();
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let base = ((x * 7 + y * 3 + i as u32 * 11) % 90) as u8;
            let spot = i < rare && (w / 3..w / 2).contains(&x) && (h / 3..h / 2).contains(&y);
            image::Rgb([base + if spot { 150 } else { 40 }, base, base / 2])
        });
        img.save(dir.join(format!("{i:02}.png"))).unwrap();
    }
}

#[test]
fn large_images_train_resnet18_from_scratch_at_the_measured_size_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (large, small) = (tmp.path().join("scans"), tmp.path().join("small"));
    write_image_folder(&large, 40, 12, (96, 80));
    write_image_folder(&small, 40, 12, (20, 24));
    let out = tmp.path().join("runs");
    let run = |data: &std::path::Path, name: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--out",
            out.to_str().unwrap(),
            "--name",
            name,
        ];
        args.extend_from_slice(extra);
        let o = focal(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let config = std::fs::read_to_string(out.join(name).join("config.json")).unwrap();
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        (stderr(&o), config["task"]["image_size"].clone())
    };
    // From scratch: ResNet-18 (the images are larger than 64x64) at 64x64, the line says why.
    let (err, size) = run(&large, "scratch", &[]);
    assert!(err.contains("model: resnet18 (the default"), "{err}");
    assert!(
        err.contains("images: read at 64x64 (the default for resnet18 trained from scratch")
            && err.contains("EXPERIMENTS.md")
            && err.contains("--image-size to change"),
        "{err}"
    );
    assert_eq!(size, serde_json::json!([64, 64]));
    // A size asked for is neither replaced nor explained.
    let (err, size) = run(&large, "asked", &["--image-size", "48x40"]);
    assert!(!err.contains("images: read at"), "{err}");
    assert_eq!(size, serde_json::json!([48, 40]));
    // The CNN keeps images that share one size no larger than its own.
    let (err, size) = run(&small, "small", &[]);
    assert!(
        err.contains("model: cnn (the default")
            && err.contains("images: read at their own 20x24 (no larger than cnn's 64x64"),
        "{err}"
    );
    assert_eq!(size, serde_json::json!([20, 24]));
}
