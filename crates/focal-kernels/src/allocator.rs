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
//! fixed at 32 MiB (mmap) and 64 MiB (trim), 19,729 faults, both epochs 1.7 s, and the same peak
//! memory (89 MB against 91 MB).
//!
//! The mmap threshold cannot go above 32 MiB on a 64-bit machine, and a ResNet at 224x224 has
//! step buffers of 100 MB (32 x 64 x 112 x 112 floats, the stem's activations; ResNet-50's
//! 256-channel 56x56 layers): each was still mapped, faulted in page by page (the kernel zeroing
//! every page) and unmapped with a TLB shootdown, every step. The stem's batch norm took 56-63 ms
//! forward against PyTorch's 24 (bench_ops, 2026-12-08). So mapping is turned off instead
//! (`M_MMAP_MAX` 0: every block comes from the heap, where a freed one is reused by the next
//! step), and the trim threshold set at 1 GiB, so that a freed 100 MB block at the heap's top is
//! kept for the next step too: the same batch norm 20-26 ms. The memory kept is memory the step
//! used at its peak, so the peak does not rise. BENCHMARKS.md has the measurements.

/// Largest free block at a heap's top that glibc keeps instead of returning it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Turns glibc's mmap off for allocations (`M_MMAP_MAX` 0) and sets its trim threshold at 1
/// GiB, unless the user set any of them (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...`,
/// `...mmap_max`, `...trim_threshold`, or `MALLOC_MMAP_THRESHOLD_` / `MALLOC_MMAP_MAX_` /
/// `MALLOC_TRIM_THRESHOLD_`): theirs is kept. Does nothing with any other C library.
pub fn keep_step_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if user_set(
            std::env::var_os("GLIBC_TUNABLES").as_deref(),
            [
                "MALLOC_MMAP_THRESHOLD_",
                "MALLOC_MMAP_MAX_",
                "MALLOC_TRIM_THRESHOLD_",
            ]
            .iter()
            .any(|v| std::env::var_os(v).is_some()),
        ) {
            return;
        }
        // SAFETY: mallopt only sets two of the allocator's tuning values; it is called before
        // any other thread exists, and takes no pointers.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// Whether the user chose any of the settings: in `GLIBC_TUNABLES` (`tunables`) or through the
/// `MALLOC_*` variables (`malloc_env`).
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
fn user_set(tunables: Option<&std::ffi::OsStr>, malloc_env: bool) -> bool {
    malloc_env
        || tunables.is_some_and(|t| {
            let t = t.to_string_lossy();
            ["mmap_threshold", "mmap_max", "trim_threshold"]
                .iter()
                .any(|name| t.contains(&format!("glibc.malloc.{name}")))
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
        assert!(user_set(Some(OsStr::new("glibc.malloc.mmap_max=0")), false));
        assert!(user_set(None, true));
    }
}
