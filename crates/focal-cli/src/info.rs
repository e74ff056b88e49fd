//! `focal info`: backend, devices, threads, GPU and features of this build.

use clap::Args;

/// Arguments of `focal info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints what this build can run on.
pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let info = focal_train::device::device_info();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("focal {}", env!("CARGO_PKG_VERSION"));
    println!("backend:       {}", info.backend);
    println!("cpu threads:   {}", info.threads);
    println!(
        "gpu features:  {}",
        if info.gpu_features.is_empty() {
            "none (build with --features vulkan or --features cuda)".to_string()
        } else {
            info.gpu_features.join(", ")
        }
    );
    if info.gpus.is_empty() {
        println!("gpus:          none found");
    } else {
        for g in &info.gpus {
            println!("gpu:           {g}");
        }
    }
    if let Some(b) = info.peak_memory_bytes {
        println!(
            "peak memory:   {:.1} MiB (this process)",
            b as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}
