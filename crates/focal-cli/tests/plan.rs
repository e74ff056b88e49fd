//! Planned experiments: `--plan-only`, `focal run-plan`, gathering with `focal report`, worker
//! processes (`--jobs`) and the Slurm scripts, each checked against the same experiment run in
//! one process.

mod common;
use common::{focal, stderr, write_csv};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&read(p)).unwrap()
}

/// `v` without its wall-clock fields (`time_per_epoch_s`), the only numbers two trainings of the
/// same run do not share.
fn without_times(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("time_per_epoch_s");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Asserts that the experiments in `a` and `b` hold the same numbers: comparison.json, and every
/// run's metrics.json and predictions.csv (wall times aside).
fn assert_same_results(a: &Path, b: &Path) {
    let ca = json(&a.join("comparison.json"));
    assert_eq!(
        without_times(ca.clone()),
        without_times(json(&b.join("comparison.json")))
    );
    for entry in ca["entries"].as_array().unwrap() {
        for seed in entry["seeds"].as_array().unwrap() {
            let run = seed["run_dir"].as_str().unwrap();
            assert_eq!(
                without_times(json(&a.join(run).join("metrics.json"))),
                without_times(json(&b.join(run).join("metrics.json"))),
                "{run}"
            );
            assert_eq!(
                read(&a.join(run).join("predictions.csv")),
                read(&b.join(run).join("predictions.csv")),
                "{run}"
            );
        }
    }
}

fn compare_args<'a>(csv: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "compare",
        "--data",
        csv,
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--remedies",
        "ce,focal",
        "--seeds",
        "2",
        "--epochs",
        epochs,
        "--batch-size",
        "16",
        "--threads",
        "1",
        "--out",
        out,
        "--quiet",
    ]
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn runs_trained_by_separate_processes_gather_to_the_one_process_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 300);
    let one = tmp.path().join("one");
    let o = focal(&compare_args(s(&csv), s(&one), "2"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(one.join("plan.json").is_file());

    // Gathering the same run folders again gives the same bytes.
    let files = ["comparison.json", "comparison.md", "report.html"];
    let before: Vec<String> = files.iter().map(|f| read(&one.join(f))).collect();
    for f in files {
        std::fs::remove_file(one.join(f)).unwrap();
    }
    let o = focal(&["report", s(&one)]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&read(&one.join(f)), b, "{f} differs after gathering");
    }
    let o = focal(&["compare", "--gather", s(&one)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&one.join("comparison.json")), before[0]);

    // The same experiment planned, then each run trained by its own process, all at once.
    let planned = tmp.path().join("planned");
    let mut args = compare_args(s(&csv), s(&planned), "2");
    args.push("--plan-only");
    let o = focal(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(planned.join("split.json").is_file());
    assert!(
        !planned.join("ce-seed0").exists(),
        "--plan-only trains nothing"
    );
    let plan = json(&planned.join("plan.json"));
    let runs = plan["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for (i, (run, name)) in runs
        .iter()
        .zip(["ce-seed0", "ce-seed1", "focal-seed0", "focal-seed1"])
        .enumerate()
    {
        assert_eq!(run["index"], i);
        assert_eq!(run["run_dir"], name);
        assert_eq!(run["config"]["epochs"], 2);
        assert_eq!(run["config"]["seed"], run["seed"]);
    }
    assert_eq!(
        read(&planned.join("split.json")),
        read(&one.join("split.json"))
    );

    // Three of four: gathering lists the missing run and fails.
    let children: Vec<_> = (0..3)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_focal"))
                .args(["run-plan", s(&planned), "--threads", "1", "--quiet"])
                .env("SLURM_ARRAY_TASK_ID", i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = focal(&["report", s(&planned)]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("run 3 (focal-seed1): not started"),
        "{}",
        stderr(&o)
    );
    assert!(!planned.join("comparison.json").exists());
    let o = focal(&["run-plan", s(&planned), "--index", "3", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = focal(&["report", s(&planned)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_results(&one, &planned);

    // A complete run is skipped; an index beyond the plan is an error.
    let o = focal(&["run-plan", s(&planned), "--index", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("skipped"));
    let o = focal(&["run-plan", s(&planned), "--index", "4"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("indices 0 to 3"), "{}", stderr(&o));
}

/// The parent pid and command line of every process.
fn processes() -> Vec<(u32, u32, Vec<String>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let (Ok(stat), Ok(cmd)) = (
            std::fs::read_to_string(e.path().join("stat")),
            std::fs::read(e.path().join("cmdline")),
        ) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        else {
            continue;
        };
        let args = cmd
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        out.push((pid, ppid, args));
    }
    out
}

#[test]
fn a_worker_killed_mid_run_is_resumed_by_a_rerun_with_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 3000);
    let reference = tmp.path().join("reference");
    let o = focal(&compare_args(s(&csv), s(&reference), "6"));
    assert!(o.status.success(), "{}", stderr(&o));

    let out = tmp.path().join("jobs");
    let mut args = compare_args(s(&csv), s(&out), "6");
    // Two workers of one thread each (--threads 1 from compare_args), not quiet: the workers'
    // epoch lines are what the test waits on.
    args.retain(|a| *a != "--quiet");
    args.extend(["--jobs", "2"]);
    let parent = Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill (SIGKILL) the first worker found after its run's first checkpoint, before its end.
    let plan_runs = |out: &Path| -> Vec<String> {
        json(&out.join("plan.json"))["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["run_dir"].as_str().unwrap().to_string())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut killed: Option<PathBuf> = None;
    while killed.is_none() && Instant::now() < deadline {
        if out.join("plan.json").is_file() {
            let names = plan_runs(&out);
            for (pid, ppid, cmd) in processes() {
                if ppid != parent.id() || !cmd.iter().any(|a| a == "run-plan") {
                    continue;
                }
                let Some(i) = cmd
                    .iter()
                    .position(|a| a == "--index")
                    .and_then(|p| cmd[p + 1].parse::<usize>().ok())
                else {
                    continue;
                };
                let run = out.join(&names[i]);
                if run.join("checkpoint/last/state.json").is_file()
                    && !run.join("metrics.json").exists()
                {
                    let k = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status()
                        .unwrap();
                    assert!(k.success());
                    killed = Some(run);
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let o = parent.wait_with_output().unwrap();
    let killed = killed.expect("no worker was caught mid-run");
    assert!(
        !killed.join("metrics.json").exists(),
        "the killed run finished anyway"
    );
    assert!(!o.status.success(), "a killed worker must fail the command");
    let e = stderr(&o);
    assert!(
        e.contains("did not finish") && e.contains("signal: 9"),
        "{e}"
    );
    assert!(!out.join("comparison.json").exists());

    // The same command again continues: complete runs are kept, the killed one resumes.
    let kept = std::fs::metadata(out.join("ce-seed0/metrics.json"))
        .map(|m| m.modified().unwrap())
        .ok();
    let o = Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(&args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    if let Some(t) = kept
        && killed.file_name().unwrap() != "ce-seed0"
    {
        let now = std::fs::metadata(out.join("ce-seed0/metrics.json")).unwrap();
        assert_eq!(
            now.modified().unwrap(),
            t,
            "a complete run was trained again"
        );
    }
    assert!(
        stderr(&o).contains("resuming") || stderr(&o).contains("no checkpoint yet"),
        "{}",
        stderr(&o)
    );
    assert_same_results(&reference, &out);
}

/// Runs a Slurm script as Slurm would run it: bash, with the array task id in the environment.
fn run_script(script: &Path, task: Option<usize>, path_env: &str) -> Output {
    let mut c = Command::new("bash");
    c.arg(script).env("PATH", path_env);
    if let Some(t) = task {
        c.env("SLURM_ARRAY_TASK_ID", t.to_string());
    }
    c.output().unwrap()
}

/// The `--array=A-B` range of a submit script.
fn array_range(script: &Path) -> std::ops::RangeInclusive<usize> {
    let text = read(script);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .expect("no --array line");
    let (a, b) = line.split_once('-').unwrap();
    a.parse().unwrap()..=b.parse().unwrap()
}

#[test]
fn slurm_array_tasks_run_as_separate_processes_complete_a_two_stage_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 250);
    let sweep = |out: &Path, extra: &[&str]| {
        let mut a = vec![
            "sweep",
            "--data",
            s(&csv),
            "--positive",
            "rare",
            "--model",
            "mlp",
            "--gamma",
            "0,2",
            "--then-alpha",
            "0.25,auto",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--threads",
            "1",
            "--out",
            s(out),
            "--quiet",
        ];
        a.extend(extra);
        focal(&a)
    };
    let one = tmp.path().join("one");
    let o = sweep(&one, &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let dir = tmp.path().join("slurm");
    let o = sweep(&dir, &["--slurm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        stdout.contains("sbatch --parsable") && stdout.contains("--dependency=afterany:"),
        "{stdout}"
    );
    let submit = dir.join("submit.sbatch");
    let gather = dir.join("gather.sbatch");
    // The first stage only: one run per gamma.
    assert_eq!(array_range(&submit), 0..=1);

    // A stand-in for sbatch that records how it was called (Slurm is not installed here).
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = tmp.path().join("sbatch.log");
    std::fs::write(
        bin.join("sbatch"),
        format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 42\n", log.display()),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", s(&bin.join("sbatch"))])
        .status()
        .unwrap();
    let path_env = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());

    let run_array = || {
        let tasks: Vec<_> = array_range(&submit)
            .map(|t| {
                let (submit, path_env) = (submit.clone(), path_env.clone());
                std::thread::spawn(move || run_script(&submit, Some(t), &path_env))
            })
            .collect();
        for t in tasks {
            let o = t.join().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
        }
    };
    run_array();
    // The gather job plans the second stage, points submit.sbatch at it and submits it.
    let o = run_script(&gather, None, &path_env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(array_range(&submit), 2..=3);
    let calls = read(&log);
    assert!(
        calls.contains("--parsable") && calls.contains("--dependency=afterany:42"),
        "{calls}"
    );
    assert!(!dir.join("comparison.json").exists());
    run_array();
    let o = run_script(&gather, None, &path_env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_results(&one, &dir);

    // A comparison's array covers every run: 0 to N-1.
    let cmp = tmp.path().join("cmp");
    let o = focal(&[
        "compare",
        "--data",
        s(&csv),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--remedies",
        "ce,focal,oversample",
        "--seeds",
        "2",
        "--out",
        s(&cmp),
        "--slurm",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(array_range(&cmp.join("submit.sbatch")), 0..=5);
}
