//! Real processes: `focal train` SIGKILLed at spread-out points and resumed, two processes on
//! one run folder, a disk that fills while a checkpoint is written.
//!
//! The kill trials compare the resumed run with an uninterrupted one: `predictions.csv` byte
//! for byte, and `metrics.json` byte for byte except its one wall-clock field
//! (`time_per_epoch_s`, the mean of the epochs' measured times). The default suite kills at 6
//! points; `cargo test -p focal-cli --test reliability -- --ignored` runs 24 (RELIABILITY.md).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// One thread, so that a resumed run draws the very same numbers as an uninterrupted one.
const TRAIN: &[&str] = &[
    "--model",
    "mlp",
    "--epochs",
    "6",
    "--batch-size",
    "16",
    "--threads",
    "1",
    "--quiet",
];

fn train_args(data: &Path, out: &Path, name: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "train",
        "--data",
        &s(data),
        "--out",
        &s(out),
        "--name",
        name,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    v.extend(TRAIN.iter().map(|a| a.to_string()));
    v
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn resume(run: &Path) -> std::process::Output {
    common::focal(&["train", "--resume", &s(run), "--quiet"])
}

/// `metrics.json` without its wall-clock line.
fn metrics_without_time(run: &Path) -> String {
    fs::read_to_string(run.join("metrics.json"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"time_per_epoch_s\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a run stood when it was killed, from its folder.
fn stage(run: &Path) -> String {
    let ck = run.join("checkpoint");
    let tmp = ["last.tmp", "best.tmp", "last.old", "best.old"]
        .iter()
        .any(|t| ck.join(t).exists());
    if run.join("metrics.json").exists() || run.join("predictions.csv").exists() {
        return "report".into();
    }
    if tmp {
        return "checkpoint write".into();
    }
    match fs::read_to_string(run.join("history.csv")) {
        Ok(h) => format!("epoch {}", h.lines().count()),
        Err(_) => "epoch 1".into(),
    }
}

/// Trains the reference run, then `points` runs each SIGKILLed (at a point in time spread over
/// the reference's duration, counted from its `config.json`, or when a checkpoint is being
/// written, when the final report is under way, or after epoch k) and resumed; returns where
/// each kill landed.
fn kill_trials(points: usize) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d.csv");
    common::write_csv(&data, 1500);
    let out = tmp.path().join("runs");
    let mut reference = spawn(&train_args(&data, &out, "reference"));
    let run = out.join("reference");
    wait_for(&run.join("config.json"), &mut reference);
    let started = Instant::now();
    let st = reference.wait().unwrap();
    let duration = started.elapsed();
    assert!(st.success());
    let want_metrics = metrics_without_time(&run);
    let want_predictions = fs::read(run.join("predictions.csv")).unwrap();
    let mut stages = Vec::new();
    for i in 0..points {
        let name = format!("killed-{i}");
        let mut child = spawn(&train_args(&data, &out, &name));
        let run = out.join(&name);
        wait_for(&run.join("config.json"), &mut child);
        // Four kinds of trigger in turn: a point in time spread over the run, a checkpoint
        // being written, the final evaluation and report under way, the k-th epoch finished.
        let at = duration.mul_f64((i as f64 + 0.5) / points as f64);
        let t0 = Instant::now();
        let ck = run.join("checkpoint");
        let fired = |run: &Path| match i % 4 {
            0 => t0.elapsed() >= at,
            1 => ck.join("last.tmp").exists() || ck.join("best.tmp").exists(),
            2 => run.join("predictions.csv").exists(),
            _ => fs::read_to_string(run.join("history.csv"))
                .is_ok_and(|h| h.lines().count() > 1 + (i / 4) % 5),
        };
        while !fired(&run) && child.try_wait().unwrap().is_none() {
            std::hint::spin_loop();
        }
        // Child::kill sends SIGKILL.
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        stages.push(if finished {
            "finished before the kill".into()
        } else {
            stage(&run)
        });
        let o = resume(&run);
        assert!(
            o.status.success(),
            "resume after a kill at {at:?} ({}): {}",
            stages[i],
            common::stderr(&o)
        );
        assert_eq!(
            metrics_without_time(&run),
            want_metrics,
            "metrics.json after a kill at {at:?} ({})",
            stages[i]
        );
        assert!(
            fs::read(run.join("predictions.csv")).unwrap() == want_predictions,
            "predictions.csv after a kill at {at:?} ({})",
            stages[i]
        );
        assert!(!run.join(".lock").exists());
        fs::remove_dir_all(&run).unwrap();
    }
    // A trial whose run finished before its kill tested nothing: most must land mid-run.
    let killed = stages
        .iter()
        .filter(|s| *s != "finished before the kill")
        .count();
    assert!(
        killed >= points.div_ceil(2),
        "only {killed} of {points} kills landed mid-run: {}",
        summary(&stages)
    );
    stages
}

/// Waits until `path` exists (the child still running), at most 60 s.
fn wait_for(path: &Path, child: &mut Child) {
    let t0 = Instant::now();
    while !path.exists() {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!(
                "focal exited ({st}) before writing {}: {err}",
                path.display()
            );
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn summary(stages: &[String]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for s in stages {
        *counts.entry(s.as_str()).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn killed_runs_resume_to_the_same_bytes() {
    let stages = kill_trials(6);
    println!(
        "6 kill points, every resume identical; stages: {}",
        summary(&stages)
    );
}

#[test]
#[ignore = "about 24 train-and-resume cycles: run with --ignored (RELIABILITY.md)"]
fn killed_runs_resume_to_the_same_bytes_24_points() {
    let stages = kill_trials(24);
    println!(
        "24 kill points, every resume identical; stages: {}",
        summary(&stages)
    );
}

/// A run folder killed after its first checkpoint (of 20 epochs): resumable.
fn interrupted_run(tmp: &Path) -> PathBuf {
    let data = tmp.join("d.csv");
    common::write_csv(&data, 400);
    let out = tmp.join("runs");
    let mut args = train_args(&data, &out, "r");
    let at = args.iter().position(|a| a == "--epochs").unwrap();
    args[at + 1] = "20".into();
    let mut child = spawn(&args);
    let run = out.join("r");
    wait_for(&run.join("checkpoint/last/state.json"), &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    run
}

fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            v.push((e.path(), if m.is_dir() { 0 } else { m.len() }));
        }
    }
    v.sort();
    v
}

#[test]
fn a_second_process_on_a_run_folder_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d.csv");
    common::write_csv(&data, 1500);
    let out = tmp.path().join("runs");
    let mut args = train_args(&data, &out, "busy");
    let at = args.iter().position(|a| a == "--epochs").unwrap();
    args[at + 1] = "40".into();
    let mut first = spawn(&args);
    let run = out.join("busy");
    wait_for(&run.join("checkpoint/last/state.json"), &mut first);
    let pid = first.id();
    let o = resume(&run);
    let still_running = first.try_wait().unwrap().is_none();
    let err = common::stderr(&o);
    assert!(
        still_running,
        "the first process ended too soon to test the lock"
    );
    assert!(!o.status.success());
    assert!(
        err.contains(&format!(
            "another focal process (pid {pid}) is training this run folder"
        )) && err.contains("busy"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let st = first.wait().unwrap();
    assert!(st.success(), "the first process failed");
    assert!(run.join("metrics.json").is_file());
    assert!(!run.join(".lock").exists(), "the lock is released at exit");
}

#[test]
fn a_lock_left_by_a_killed_process_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let run = interrupted_run(tmp.path());
    // SIGKILL left the lock file with the dead process's id; the kernel released its flock.
    let pid: u32 = fs::read_to_string(run.join(".lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    let o = resume(&run);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(run.join("metrics.json").is_file());
    assert!(!run.join(".lock").exists());
}

#[test]
fn a_lock_held_by_this_process_refuses_a_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let run = interrupted_run(tmp.path());
    let lock = focal_train::run::lock::acquire(&run).unwrap();
    let before = listing(&run);
    let o = resume(&run);
    let err = common::stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!(
            "(pid {}) is training this run folder",
            std::process::id()
        )),
        "{err}"
    );
    assert_eq!(listing(&run), before, "the refused resume wrote nothing");
    drop(lock);
}

/// A disk that fills while a checkpoint is written: here the file-size limit (`ulimit -f`,
/// RLIMIT_FSIZE, SIGXFSZ ignored so the write fails with EFBIG instead of killing), set below
/// the size of a model checkpoint and above every other file of the run. Needs no root and no
/// tmpfs; the write fails in Burn's record writer exactly where ENOSPC would.
#[test]
fn a_checkpoint_write_that_fails_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = interrupted_run(tmp.path());
    let last = run.join("checkpoint/last");
    let model_size = fs::metadata(last.join("model.bpk")).unwrap().len();
    let state = fs::read(last.join("state.json")).unwrap();
    let kept: serde_json::Value = serde_json::from_slice(&state).unwrap();
    let kept = kept["epoch"].as_u64().unwrap();
    let model = fs::read(last.join("model.bpk")).unwrap();
    // 1 KiB blocks (bash and dash both count -f in 1024-byte units on Linux).
    let limit_kib = (model_size / 1024 / 2).max(8);
    assert!(
        limit_kib * 1024 < model_size,
        "the model checkpoint is too small to test"
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {limit_kib}; exec \"$0\" train --resume \"$1\" --quiet"
        ))
        .arg(env!("CARGO_BIN_EXE_focal"))
        .arg(&run)
        .output()
        .unwrap();
    let err = common::stderr(&o);
    assert!(!o.status.success(), "the write did not fail: {err}");
    assert!(
        err.contains(&format!(
            "writing the checkpoint of epoch {} failed",
            kept + 1
        )) && err.contains(&format!("the last good checkpoint (epoch {kept}) is kept"))
            && err.contains("free disk space"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(fs::read(last.join("state.json")).unwrap(), state);
    assert_eq!(fs::read(last.join("model.bpk")).unwrap(), model);
    for leftover in ["last.tmp", "best.tmp"] {
        assert!(
            !run.join("checkpoint").join(leftover).exists(),
            "{leftover} left behind"
        );
    }
    // With room again, the run resumes from epoch 1 and completes.
    let o = resume(&run);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(run.join("metrics.json").is_file());
}
