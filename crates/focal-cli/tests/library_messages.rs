//! The libraries never name a command-line flag: their messages name settings as values, and
//! the CLI alone gives each its flag (flags.rs). Every flag `focal` has is collected from its
//! own `--help`, and every line of code of the library crates is searched for it.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::focal;

/// The long flags of `args`' help: the `--name` of every option it defines (a line that
/// starts with the option; flags of other tools named in the help texts are not focal's).
fn flags_of(args: &[&str]) -> BTreeSet<String> {
    let o = focal(args);
    assert!(o.status.success(), "{args:?}");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut out = BTreeSet::new();
    for line in text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
    {
        let Some(i) = line.find("--") else { continue };
        let name: String = line[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.len() > 1 {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_library_message_names_a_flag() {
    let commands: [&[&str]; 11] = [
        &["data", "inspect", "--help"],
        &["eval", "--help"],
        &["train", "--help"],
        &["compare", "--help"],
        &["sweep", "--help"],
        &["predict", "--help"],
        &["export", "--help"],
        &["report", "--help"],
        &["run-plan", "--help"],
        &["info", "--help"],
        &["--help"],
    ];
    let mut flags = BTreeSet::new();
    for c in commands {
        flags.extend(flags_of(c));
    }
    flags.remove("help");
    flags.remove("version");
    assert!(
        flags.len() > 60 && flags.contains("lr") && flags.contains("image-column"),
        "{flags:?}"
    );
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    let libraries = [
        "focal-loss",
        "focal-metrics",
        "focal-data",
        "focal-kernels",
        "focal-tensorboard",
        "focal-train",
        "focal-experiment",
    ];
    for lib in libraries {
        rust_files(&crates.join(lib).join("src"), &mut files);
    }
    assert!(files.len() > 60, "{} files", files.len());
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut in_tests = false;
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            // Unit tests may check that a flag is absent; doc comments may name the CLI.
            if code.starts_with("mod tests") {
                in_tests = true;
            }
            if in_tests || code.starts_with("//") {
                continue;
            }
            for (i, _) in code.match_indices("--") {
                let name: String = code[i + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if flags.contains(&name) {
                    found.push(format!("{}:{}: --{name}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "library code names flags:\n{}",
        found.join("\n")
    );
}
