//! `focal data`: look at a data set before training on it.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use focal_data::task::ClassSelector;
use focal_train::{DataSpec, ModelKind};

use crate::args::{IMAGE_SIZE_HELP, MAX_MEMORY_HELP, ReadingArgs, named, parse_memory, parse_size};

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
    /// class folders of images, or a .csv with a header. Default: the bundled Fashion-MNIST
    /// test split.
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Print JSON (keys: format, n_samples, n_classes, class_names, class_counts, splits, shape,
    /// imbalance_ratio, fingerprint) instead of text.
    #[arg(long)]
    json: bool,
    /// CSV only: the label column (default: `label` if present, else the last column).
    #[arg(long, value_name = "NAME")]
    label_column: Option<String>,
    #[arg(long, value_name = "WxH", value_parser = parse_size, help = IMAGE_SIZE_HELP)]
    image_size: Option<(u32, u32)>,
    #[arg(long, value_name = "SIZE", value_parser = parse_memory, help = MAX_MEMORY_HELP)]
    max_memory: Option<u64>,
    /// The model whose default image size applies when --image-size is absent (see there).
    /// Default: the one `focal train` would choose for the data (mlp for feature rows, cnn for
    /// images up to 64x64, resnet18 for larger ones).
    #[arg(long, value_parser = named::<ModelKind>())]
    model: Option<ModelKind>,
    /// Describe the binary task with this positive (rare) class, by name or index: label 1 is
    /// the positive class, label 0 every other class.
    #[arg(long, value_name = "NAME|INDEX")]
    positive: Option<String>,
    /// Describe the task subsampled to NEGATIVE:POSITIVE, e.g. 98:2 (needs --positive unless
    /// the data has two classes).
    #[arg(long, value_name = "NEG:POS")]
    ratio: Option<String>,
    /// Describe a long-tailed multi-class task with this imbalance factor (n_max / n_min).
    #[arg(long, value_name = "IF")]
    long_tail: Option<f64>,
    /// Accept a positive class that outnumbers the negatives (refused by default).
    #[arg(long)]
    allow_majority_positive: bool,
    /// Seed of the task's subsampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How a manifest, DICOM files or a groups file are read.
    #[command(flatten)]
    reading: ReadingArgs,
}

/// Runs `focal data ...`.
pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    let DataCommand::Inspect(args) = cmd;
    let spec = DataSpec {
        data: args.data.clone(),
        positive: args
            .positive
            .as_deref()
            .map(str::parse::<ClassSelector>)
            .transpose()?,
        ratio: args
            .ratio
            .as_deref()
            .map(focal_data::task::parse_ratio)
            .transpose()?,
        long_tail: args.long_tail,
        allow_majority_positive: args.allow_majority_positive,
        label_column: args.label_column,
        image_size: args.image_size,
        max_memory: args.max_memory,
        split_sizes: None,
        reading: args.reading.reading(),
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
