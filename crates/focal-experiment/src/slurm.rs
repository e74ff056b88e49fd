//! A planned experiment as a Slurm job array: `submit.sbatch` (task i trains run i of the plan)
//! and `gather.sbatch` (gathers the runs after the array; for a two-stage sweep, plans and
//! submits the second stage). The commands the scripts run are the caller's (a command-line
//! tool's, with its flags); this module writes the scripts around them.

use std::ops::Range;
use std::path::{Path, PathBuf};

use focal_train::TrainError;

use crate::ExperimentError;

/// The array's script.
pub const SUBMIT_FILE: &str = "submit.sbatch";
/// The gathering job's script.
pub const GATHER_FILE: &str = "gather.sbatch";

/// Quotes `s` for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `sbatch` command that submits the array of the experiment in `dir` and the gather job
/// after it.
pub fn sbatch_command(dir: &Path) -> String {
    let q = |f: &str| sh_quote(&dir.join(f).to_string_lossy());
    format!(
        "jid=$(sbatch --parsable {}) && sbatch --dependency=afterany:$jid {}",
        q(SUBMIT_FILE),
        q(GATHER_FILE)
    )
}

/// What the scripts run.
#[derive(Debug, Clone)]
pub struct SlurmJob {
    /// The experiment folder (made absolute).
    pub dir: PathBuf,
    /// The runs of the array.
    pub runs: Range<usize>,
    /// CPUs per task.
    pub cpus: usize,
    /// The program (overridable with `$FOCAL` when the job runs).
    pub program: PathBuf,
    /// The arguments that train the array task's run, already quoted for the shell; they may
    /// use `$SLURM_CPUS_PER_TASK`.
    pub run_args: String,
    /// The arguments that gather the experiment, quoted.
    pub gather_args: String,
    /// The exit code of the gathering command that means "the next stage is planned".
    pub next_stage_code: u8,
}

impl SlurmJob {
    /// Writes `submit.sbatch` and `gather.sbatch` (logs to `slurm/`); returns the command that
    /// submits them.
    pub fn write(&self) -> Result<String, ExperimentError> {
        let dir = &self.dir;
        let logs = dir.join("slurm");
        std::fs::create_dir_all(&logs).map_err(|e| TrainError::io(&logs, e))?;
        let name = dir
            .file_name()
            .map_or("focal".into(), |n| n.to_string_lossy().into_owned());
        let (exe, logs_shown) = (self.program.display(), logs.display());
        let submit = format!(
            "#!/bin/bash
# Written by focal: task $SLURM_ARRAY_TASK_ID of this array trains run $SLURM_ARRAY_TASK_ID of
# {dir}/plan.json. A complete run is skipped, an interrupted one resumes: resubmitting is safe.
#SBATCH --job-name=focal-{name}
#SBATCH --array={first}-{last}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={logs_shown}/run-%a.out
set -euo pipefail
FOCAL=\"${{FOCAL:-{exe}}}\"
exec \"$FOCAL\" {args}
",
            dir = dir.display(),
            first = self.runs.start,
            last = self.runs.end.saturating_sub(1),
            cpus = self.cpus,
            args = self.run_args,
        );
        let gather = format!(
            "#!/bin/bash
# Written by focal: gathers the runs of {dir}/plan.json into comparison.md, comparison.json and
# report.html. For a two-stage sweep whose first stage is done, gathering plans the second
# stage (exit code {code}) and rewrites {SUBMIT_FILE} for it; it is submitted here, with this
# job after it.
#SBATCH --job-name=focal-{name}-gather
#SBATCH --output={logs_shown}/gather-%j.out
FOCAL=\"${{FOCAL:-{exe}}}\"
rc=0
\"$FOCAL\" {args} || rc=$?
if [ \"$rc\" -eq {code} ]; then
  {command}
  exit $?
fi
exit \"$rc\"
",
            dir = dir.display(),
            code = self.next_stage_code,
            args = self.gather_args,
            command = sbatch_command(dir),
        );
        for (file, text) in [(SUBMIT_FILE, submit), (GATHER_FILE, gather)] {
            let p = dir.join(file);
            std::fs::write(&p, text).map_err(|e| TrainError::io(&p, e))?;
        }
        Ok(sbatch_command(dir))
    }
}

/// Rewrites `submit.sbatch`'s array for the runs `runs`, when the folder has one (a sweep's
/// second stage, planned by gathering). Returns whether it did.
pub fn retarget(dir: &Path, runs: &Range<usize>) -> Result<bool, ExperimentError> {
    let path = dir.join(SUBMIT_FILE);
    if !path.is_file() {
        return Ok(false);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("#SBATCH --array=") {
                format!("#SBATCH --array={}-{}\n", runs.start, runs.end - 1)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))?;
    Ok(true)
}
