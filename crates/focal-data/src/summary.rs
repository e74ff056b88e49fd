//! A data set described: what `focal data inspect` prints, as text or JSON.

use crate::dataset::{Dataset, SampleKind};

fn split_counts(ds: &Dataset) -> Option<Vec<(&'static str, Vec<usize>)>> {
    ds.splits.as_ref().map(|s| {
        vec![
            ("train", ds.class_counts_of(&s.train)),
            ("val", ds.class_counts_of(&s.val)),
            ("test", ds.class_counts_of(&s.test)),
        ]
    })
}

impl Dataset {
    /// What `focal data inspect --json` prints: `format`, `source`, `kind`, `n_samples`,
    /// `n_classes`, `class_names`, `class_counts`, `splits` (per split, per class), `shape`,
    /// `imbalance_ratio` (null when a class has no sample) and `fingerprint`.
    pub fn summary_json(&self) -> serde_json::Value {
        summary_json(self)
    }

    /// What `focal data inspect` prints: the format, source, counts and shape, then one row
    /// per class with its count, share and per-split counts.
    pub fn summary_text(&self) -> String {
        summary_text(self)
    }
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
        "bit_depth": ds.bit_depth(),
        "groups": ds.groups.as_ref().map(|g| {
            g.iter().collect::<std::collections::BTreeSet<_>>().len()
        }),
    })
}

fn summary_text(ds: &Dataset) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let source = match &ds.source {
        Some(p) => p.display().to_string(),
        None => crate::BUNDLED_DESCRIPTION.to_string(),
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
    if let Some(b) = ds.bit_depth() {
        let _ = writeln!(out, "bit depth:   {b}");
    }
    if let Some(g) = &ds.groups {
        let n = g.iter().collect::<std::collections::BTreeSet<_>>().len();
        let _ = writeln!(out, "groups:      {n} (splits keep each group whole)");
    }
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
