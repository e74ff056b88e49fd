//! `.lock`: one process at a time trains a run folder.
//!
//! The lock is an advisory `flock` on `<run>/.lock`, which holds the owner's process id for
//! messages. The kernel releases a `flock` when its process dies, however it dies (SIGKILL
//! included), so a lock file left by a dead process is stale by construction and simply taken
//! over: no process id is ever trusted to decide that (ids are reused). The file is removed on
//! release; a process that locked a file another one removed meanwhile sees that the path no
//! longer names its file and tries again, so two processes never hold the lock at once.
//!
//! Within one process the lock is re-entrant on the same thread (the pipeline, the training
//! loop and a plan's runner each take it around their own part of the same run), and refused
//! to any other thread.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;

use crate::error::TrainError;

/// The lock file of a run folder.
pub fn path(run_dir: &Path) -> PathBuf {
    run_dir.join(".lock")
}

/// A held lock; released (and its file removed) when the last clone on this thread is dropped.
#[derive(Debug, Clone)]
pub struct RunLock {
    _held: Arc<Held>,
}

#[derive(Debug)]
struct Held {
    key: PathBuf,
    path: PathBuf,
    file: fs::File,
}

impl Drop for Held {
    fn drop(&mut self) {
        held().remove(&self.key);
        // Removed while still locked, so no one can lock this file after we unlock it; then
        // closing `file` releases the flock. Best effort: a file left behind is taken over.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The locks this process holds, by canonical run folder, with the thread that holds each.
type HeldMap = BTreeMap<PathBuf, (ThreadId, Weak<Held>)>;

fn held() -> MutexGuard<'static, HeldMap> {
    static HELD: Mutex<HeldMap> = Mutex::new(BTreeMap::new());
    HELD.lock().unwrap_or_else(|p| p.into_inner())
}

/// What [`try_acquire`] found.
#[derive(Debug)]
pub enum Acquired {
    /// The lock is ours.
    Locked(RunLock),
    /// Another process (its id, as its lock file says, when readable) or another thread of this
    /// process holds it.
    Busy(Option<u32>),
}

/// Takes the lock of `run_dir` (created if needed) without waiting.
pub fn try_acquire(run_dir: &Path) -> Result<Acquired, TrainError> {
    fs::create_dir_all(run_dir).map_err(|e| TrainError::io(run_dir, e))?;
    let key = run_dir
        .canonicalize()
        .map_err(|e| TrainError::io(run_dir, e))?;
    let mut map = held();
    if let Some((thread, weak)) = map.get(&key)
        && let Some(held) = weak.upgrade()
    {
        return Ok(if *thread == std::thread::current().id() {
            Acquired::Locked(RunLock { _held: held })
        } else {
            Acquired::Busy(Some(std::process::id()))
        });
    }
    let path = path(&key);
    loop {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| TrainError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Acquired::Busy(read_pid(&mut file))),
            Err(fs::TryLockError::Error(e)) => return Err(TrainError::io(&path, e)),
        }
        // The holder before us may have removed the file between our open and our lock.
        let ours = file.metadata().map_err(|e| TrainError::io(&path, e))?;
        match fs::metadata(&path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {}
            _ => continue,
        }
        // A stale id from a dead holder is overwritten.
        file.set_len(0).map_err(|e| TrainError::io(&path, e))?;
        file.rewind().map_err(|e| TrainError::io(&path, e))?;
        writeln!(file, "{}", std::process::id()).map_err(|e| TrainError::io(&path, e))?;
        let held = Arc::new(Held {
            key: key.clone(),
            path,
            file,
        });
        map.insert(key, (std::thread::current().id(), Arc::downgrade(&held)));
        return Ok(Acquired::Locked(RunLock { _held: held }));
    }
}

/// Takes the lock of `run_dir`, or fails naming the process that holds it.
pub fn acquire(run_dir: &Path) -> Result<RunLock, TrainError> {
    match try_acquire(run_dir)? {
        Acquired::Locked(lock) => Ok(lock),
        Acquired::Busy(pid) => Err(TrainError::RunBusy {
            run: run_dir.to_path_buf(),
            pid,
        }),
    }
}

fn read_pid(file: &mut fs::File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_entrant_on_one_thread_refused_to_another_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let first = acquire(&run).unwrap();
        let again = acquire(&run).unwrap();
        assert_eq!(
            fs::read_to_string(path(&run)).unwrap().trim(),
            std::process::id().to_string()
        );
        let other = std::thread::scope(|s| s.spawn(|| try_acquire(&run).unwrap()).join().unwrap());
        assert!(matches!(other, Acquired::Busy(Some(p)) if p == std::process::id()));
        drop(first);
        assert!(path(&run).exists(), "still held by the second guard");
        drop(again);
        assert!(!path(&run).exists(), "released: the lock file is removed");
        let other = std::thread::scope(|s| {
            s.spawn(|| matches!(try_acquire(&run).unwrap(), Acquired::Locked(_)))
                .join()
                .unwrap()
        });
        assert!(other);
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(path(dir.path()), "4194303\n").unwrap();
        let lock = acquire(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(path(dir.path())).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(lock);
    }
}
