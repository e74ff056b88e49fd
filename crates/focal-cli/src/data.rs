//! `focal data`: look at a data set before training on it.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use focal_train::{DataSpec, ModelKind};

use crate::args::{SourceArgs, TaskArgs, named};

/// Subcommands of `focal data`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Describe a data set: format, number of samples, sample shape, class names and counts,
    /// per-split counts, imbalance ratio.
    Inspect(InspectArgs),
}

/// Arguments of `focal data inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The data: a folder of IDX files (MNIST layout), a .npz (MedMNIST layout), a folder of
    /// class folders of images, a .csv with a header (feature rows, or a manifest with
    /// --image-column). Default: the bundled Fashion-MNIST test split.
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Print JSON (keys: format, n_samples, n_classes, class_names, class_counts, splits, shape,
    /// imbalance_ratio, fingerprint, bit_depth, groups, dicom) instead of text.
    #[arg(long)]
    json: bool,
    /// The model whose default image size applies when --image-size is absent (see there).
    /// Default: the one `focal train` would choose for the data (mlp for feature rows, cnn for
    /// images up to 64x64, resnet18 for larger ones).
    #[arg(long, value_parser = named::<ModelKind>())]
    model: Option<ModelKind>,
    /// Seed of the task's subsampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How the data are read.
    #[command(flatten)]
    source: SourceArgs,
    /// The task to describe (a positive class, a ratio, a long tail; none: the data as stored).
    #[command(flatten)]
    task: TaskArgs,
}

/// Runs `focal data ...`.
pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    let DataCommand::Inspect(args) = cmd;
    let (t, s) = (&args.task, &args.source);
    let spec = DataSpec {
        data: args.data.clone(),
        positive: t.positive.clone(),
        ratio: t.ratio,
        long_tail: t.long_tail,
        allow_majority_positive: t.allow_majority_positive,
        label_column: s.label_column.clone(),
        image_size: s.image_size,
        max_memory: s.max_memory,
        split_sizes: None,
        reading: s.reading.reading(),
        seed: args.seed,
    };
    let ds = spec.inspect(args.model).with_context(|| match &args.data {
        Some(p) => format!("loading --data {}", p.display()),
        None => "loading the bundled data set".to_string(),
    })?;
    let dicom = spec.dicom_info(&ds);
    if args.json {
        let mut json = ds.summary_json();
        if let (Some(o), Some(d)) = (json.as_object_mut(), &dicom) {
            o.insert("dicom".into(), serde_json::to_value(d)?);
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", ds.summary_text());
        if let Some(d) = dicom {
            println!("dicom:       {d}");
        }
    }
    Ok(())
}
