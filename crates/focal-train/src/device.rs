//! Where training runs: Burn's flex CPU backend by default, a GPU when compiled in and present.
//!
//! The GPU is opt-in at build time: `cargo build --features vulkan` (builds offline; runs on
//! NVIDIA and other cards through Vulkan) or `--features cuda` (downloads LLVM while building).
//! The adapter is looked for before it is used, so a missing GPU is an error, not a panic inside
//! Burn's device thread.

use burn::tensor::Device;

use crate::error::TrainError;
use crate::setting::Setting;
use focal_data::msg;

crate::named::named_choice! {
    /// Where a run trains.
    #[derive(Default)]
    pub enum DeviceChoice ("device") {
        /// Burn's flex backend (pure Rust, multi-threaded with rayon).
        #[default]
        Cpu,
        /// The first GPU of a backend compiled in (`vulkan`, else `cuda`).
        #[strum(serialize = "cuda", serialize = "vulkan", to_string = "gpu")]
        Gpu,
    }
}

/// Sets the number of worker threads of the CPU backend (Burn's flex runs its kernels on
/// rayon's global pool). Call it once, before any tensor work; later calls fail.
///
/// # Errors
/// `threads` is 0, or the pool was already started.
pub fn set_threads(threads: usize) -> Result<(), TrainError> {
    if threads == 0 {
        return Err(TrainError::out_of_range(
            Setting::Threads,
            0,
            "give at least 1 thread",
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| TrainError::device(format!("cannot set {threads} CPU threads: {e}")))
}

/// The number of worker threads of the CPU backend.
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// The GPU backends compiled into this build.
pub fn gpu_features() -> Vec<&'static str> {
    let mut f = Vec::new();
    if cfg!(feature = "vulkan") {
        f.push("vulkan");
    }
    if cfg!(feature = "cuda") {
        f.push("cuda");
    }
    f
}

/// Every GPU device the compiled-in backends see (empty when none is compiled in or present).
pub fn gpu_devices() -> Vec<Device> {
    #[allow(unused_mut)]
    let mut found: Vec<Device> = Vec::new();
    #[cfg(feature = "vulkan")]
    found.extend(
        Device::enumerate(burn::tensor::DeviceType::Vulkan)
            .iter()
            .cloned(),
    );
    #[cfg(feature = "cuda")]
    found.extend(
        Device::enumerate(burn::tensor::DeviceType::Cuda)
            .iter()
            .cloned(),
    );
    found
}

impl DeviceChoice {
    /// The Burn device (without autodiff).
    ///
    /// # Errors
    /// `gpu` when no GPU backend is compiled in (the message says how to build one), or when the
    /// compiled-in backends find no adapter.
    pub fn resolve(self) -> Result<Device, TrainError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            DeviceChoice::Gpu => {
                if gpu_features().is_empty() {
                    return Err(TrainError::device(msg![
                        Setting::Device,
                        " gpu: this focal was built without a GPU backend; rebuild with the \
                         vulkan feature (`cargo install --path crates/focal-cli --features \
                         vulkan`), or use ",
                        Setting::Device,
                        " cpu"
                    ]));
                }
                gpu_devices().into_iter().next().ok_or_else(|| {
                    TrainError::device(msg![
                        Setting::Device,
                        format!(
                            " gpu: no GPU adapter found by the compiled-in backends ({}); check \
                             the driver (e.g. `vulkaninfo --summary`), or use ",
                            gpu_features().join(", ")
                        ),
                        Setting::Device,
                        " cpu"
                    ])
                })
            }
        }
    }
}

/// What `focal info` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceInfo {
    /// The default backend.
    pub backend: &'static str,
    /// Worker threads of the CPU backend.
    pub threads: usize,
    /// GPU backends compiled in.
    pub gpu_features: Vec<&'static str>,
    /// GPU devices found (debug names), with their memory pool usage when reported.
    pub gpus: Vec<String>,
    /// Peak resident memory of this process so far, bytes (Linux only).
    pub peak_memory_bytes: Option<u64>,
}

/// Backend, threads and GPUs of this build on this machine.
pub fn device_info() -> DeviceInfo {
    DeviceInfo {
        backend: "flex (Burn's pure-Rust CPU backend)",
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        gpu_features: gpu_features(),
        gpus: gpu_devices()
            .iter()
            .map(|d| match d.memory_pool_usage() {
                Some(u) => format!("{d:?} (memory pool: {u:?})"),
                None => format!("{d:?}"),
            })
            .collect(),
        peak_memory_bytes: peak_memory_bytes(),
    }
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), bytes; `None` where
/// the file does not exist (not Linux).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_resolves_and_gpu_without_backend_says_how_to_build() {
        assert!(DeviceChoice::Cpu.resolve().is_ok());
        if gpu_features().is_empty() {
            let e = DeviceChoice::Gpu.resolve().unwrap_err().to_string();
            assert!(e.contains("--features vulkan"), "{e}");
        }
        assert!(
            <DeviceChoice as crate::named::Named>::parse_name("tpu")
                .unwrap_err()
                .to_string()
                .contains("cpu, gpu")
        );
    }

    #[test]
    fn peak_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_memory_bytes().unwrap() > 0);
        }
    }
}
