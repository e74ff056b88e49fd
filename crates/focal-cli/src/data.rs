//! `focal data`: look at a data set before training on it.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use focal_data::task::{ClassSelector, TaskSpec, build_task, parse_ratio};
use focal_data::{Dataset, LoadOptions, SampleKind};

use crate::training::{IMAGE_SIZE_HELP, MAX_MEMORY_HELP, ModelArg, parse_memory, parse_size};

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
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
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
}

/// Runs `focal data ...`.
pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Inspect(args) => inspect(args),
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let ds = match &args.data {
        Some(path) => {
            let opts = LoadOptions {
                label_column: args.label_column.clone(),
                image_size: args.image_size,
                // Only image folders are decoded at a model's size; a probe that fails leaves
                // the loader to name the problem.
                default_image_size: Some(focal_train::default_image_size(match args.model {
                    Some(m) => m.0,
                    None if path.is_dir() => crate::training::default_model(Some(path))
                        .map_or(focal_train::ModelKind::Cnn, |(m, _)| m),
                    None => focal_train::ModelKind::Cnn,
                })),
                memory_budget: args.max_memory,
                ..LoadOptions::default()
            };
            focal_data::load(path, &opts)
                .with_context(|| format!("loading --data {}", path.display()))?
        }
        None => focal_data::bundled().context("loading the bundled data set")?,
    };
    let positive = match args.positive.as_deref() {
        Some(p) => Some(p.parse::<ClassSelector>()?),
        // As train does: a ratio on two classes makes the rarer one the positive.
        None if args.ratio.is_some() => {
            focal_data::task::default_positive(&ds).map(ClassSelector::Index)
        }
        None => None,
    };
    let spec = TaskSpec {
        positive,
        ratio: args.ratio.as_deref().map(parse_ratio).transpose()?,
        long_tail: args.long_tail,
        allow_majority_positive: args.allow_majority_positive,
        seed: args.seed,
    };
    let ds = if spec.positive.is_some() || spec.ratio.is_some() || spec.long_tail.is_some() {
        build_task(&ds, &spec).context("building the task")?
    } else {
        ds
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary_json(&ds))?);
    } else {
        print!("{}", summary_text(&ds));
    }
    Ok(())
}

fn split_counts(ds: &Dataset) -> Option<Vec<(&'static str, Vec<usize>)>> {
    ds.splits.as_ref().map(|s| {
        vec![
            ("train", ds.class_counts_of(&s.train)),
            ("val", ds.class_counts_of(&s.val)),
            ("test", ds.class_counts_of(&s.test)),
        ]
    })
}

fn summary_json(ds: &Dataset) -> serde_json::Value {
    let splits = split_counts(ds).map(|parts| {
        parts
            .into_iter()
            .map(|(name, counts)| (name.to_string(), serde_json::json!(counts)))
            .collect::<serde_json::Map<_, _>>()
    });
    let ratio = ds.imbalance_ratio();
    serde_json::json!({
        "format": ds.format,
        "source": ds.source.as_ref().map(|p| p.display().to_string()),
        "kind": match ds.kind { SampleKind::Image { .. } => "image", SampleKind::Tabular { .. } => "tabular" },
        "n_samples": ds.n_samples(),
        "n_classes": ds.n_classes(),
        "class_names": ds.class_names,
        "class_counts": ds.class_counts(),
        "splits": splits,
        "shape": ds.kind.shape(),
        // JSON has no infinity: a class without samples gives null.
        "imbalance_ratio": ratio.is_finite().then_some(ratio),
        "fingerprint": ds.fingerprint(),
    })
}

fn summary_text(ds: &Dataset) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let source = match &ds.source {
        Some(p) => p.display().to_string(),
        None => focal_data::BUNDLED_DESCRIPTION.to_string(),
    };
    let shape = match ds.kind {
        SampleKind::Image {
            channels,
            height,
            width,
        } => {
            format!("{channels}x{height}x{width} image (channels x height x width)")
        }
        SampleKind::Tabular { n_features } => format!("{n_features} features"),
    };
    let counts = ds.class_counts();
    let (max, min) = (
        counts.iter().max().copied().unwrap_or(0),
        counts.iter().min().copied().unwrap_or(0),
    );
    let _ = writeln!(out, "format:      {}", ds.format);
    let _ = writeln!(out, "source:      {source}");
    let _ = writeln!(out, "samples:     {}", ds.n_samples());
    let _ = writeln!(out, "shape:       {shape}");
    let _ = writeln!(out, "classes:     {}", ds.n_classes());
    let _ = writeln!(
        out,
        "imbalance:   {:.2} (largest class {max} / smallest {min})",
        ds.imbalance_ratio()
    );
    let _ = writeln!(out, "fingerprint: {}", ds.fingerprint());
    let splits = split_counts(ds);
    let name_w = ds
        .class_names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out);
    let mut header = format!(
        "{:>5}  {:<name_w$}  {:>7}  {:>6}",
        "label", "class", "count", "share"
    );
    if let Some(parts) = &splits {
        for (name, _) in parts {
            let _ = write!(header, "  {name:>7}");
        }
    }
    let _ = writeln!(out, "{header}");
    let total = ds.n_samples().max(1) as f64;
    for (i, name) in ds.class_names.iter().enumerate() {
        let mut line = format!(
            "{i:>5}  {name:<name_w$}  {:>7}  {:>5.1}%",
            counts[i],
            100.0 * counts[i] as f64 / total
        );
        if let Some(parts) = &splits {
            for (_, c) in parts {
                let _ = write!(line, "  {:>7}", c[i]);
            }
        }
        let _ = writeln!(out, "{line}");
    }
    if let Some(parts) = &splits {
        let mut line = format!(
            "{:>5}  {:<name_w$}  {:>7}  {:>6}",
            "",
            "total",
            ds.n_samples(),
            ""
        );
        for (_, c) in parts {
            let _ = write!(line, "  {:>7}", c.iter().sum::<usize>());
        }
        let _ = writeln!(out, "{line}");
    }
    out
}
