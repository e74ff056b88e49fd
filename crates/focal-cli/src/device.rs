//! `--device`: the choices the CLI offers, mapped onto focal-train's.

use clap::ValueEnum;
use focal_train::{DeviceChoice, Streaming};

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

/// Where the training samples are kept while a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StreamArg {
    /// Stream when they would take more than a quarter of physical memory (CPU); a GPU keeps
    /// them.
    Auto,
    /// Stream from the host.
    On,
    /// Keep on the device.
    Off,
}

impl From<StreamArg> for Streaming {
    fn from(s: StreamArg) -> Self {
        match s {
            StreamArg::Auto => Streaming::Auto,
            StreamArg::On => Streaming::On,
            StreamArg::Off => Streaming::Off,
        }
    }
}
