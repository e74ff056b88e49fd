//! glibc's allocator, set to keep the buffers of a training step instead of returning them to
//! the operating system after every step.
//!
//! glibc serves a request above its mmap threshold (128 KiB at start) with a fresh mapping and
//! gives memory at the top of a heap back once more than its trim threshold (256 KiB at start)
//! is free there. Both thresholds rise only as larger mapped blocks are freed, so for the first
//! epoch of a run the activations, gradients and im2col buffers of every step (hundreds of KiB
//! to a few MiB each) were mapped, touched page by page and returned, again and again. Measured
//! on the bundled CNN (`focal train --epochs 2`, 2-core AMD EPYC, glibc 2.36): 829,575 page
//! faults and a first epoch of 3.7-4.0 s against 1.6-2.0 s for the second; with the thresholds
//! fixed as below, 19,729 faults, both epochs 1.7 s, and the same peak memory (89 MB against
//! 91 MB). The values are where glibc's own rule ends up on a 64-bit machine (mmap threshold at
//! its 32 MiB ceiling, trim threshold twice that): fixed from the start instead of reached
//! after an epoch. BENCHMARKS.md has the measurements.

/// Fixes glibc's mmap threshold at 32 MiB and its trim threshold at 64 MiB, unless the user set
/// either (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...`, or `MALLOC_MMAP_THRESHOLD_` /
/// `MALLOC_TRIM_THRESHOLD_`): theirs is kept. Does nothing with any other C library.
pub fn keep_step_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 64 << 20;
        if user_set(
            std::env::var_os("GLIBC_TUNABLES").as_deref(),
            std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
                || std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_some(),
        ) {
            return;
        }
        // SAFETY: mallopt only sets two of the allocator's tuning values; it is called before
        // any other thread exists, and takes no pointers.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// Whether the user chose either threshold: in `GLIBC_TUNABLES` (`tunables`) or through the
/// `MALLOC_*_THRESHOLD_` variables (`malloc_env`).
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
fn user_set(tunables: Option<&std::ffi::OsStr>, malloc_env: bool) -> bool {
    malloc_env
        || tunables.is_some_and(|t| {
            let t = t.to_string_lossy();
            t.contains("glibc.malloc.mmap_threshold") || t.contains("glibc.malloc.trim_threshold")
        })
}

#[cfg(test)]
mod tests {
    use super::user_set;
    use std::ffi::OsStr;

    #[test]
    fn a_threshold_the_user_set_is_kept() {
        assert!(!user_set(None, false));
        assert!(!user_set(
            Some(OsStr::new("glibc.malloc.arena_max=2")),
            false
        ));
        assert!(user_set(
            Some(OsStr::new(
                "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0"
            )),
            false
        ));
        assert!(user_set(
            Some(OsStr::new("glibc.malloc.mmap_threshold=131072")),
            false
        ));
        assert!(user_set(None, true));
    }
}
