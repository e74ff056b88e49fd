//! `--device`: the choices the CLI offers, mapped onto focal-train's.

use clap::ValueEnum;
use focal_train::DeviceChoice;

/// Where to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// Burn's flex backend on the CPU (always available).
    Cpu,
    /// The first GPU of a backend compiled in (build with `--features vulkan` or `cuda`).
    Gpu,
}

impl From<DeviceArg> for DeviceChoice {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Cpu => DeviceChoice::Cpu,
            DeviceArg::Gpu => DeviceChoice::Gpu,
        }
    }
}
