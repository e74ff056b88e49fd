//! From samples to Burn tensors: [`batch_from_indices`] for a hand-written training loop, and
//! Burn [`Batcher`] implementations ([`ImageBatcher`], [`TabularBatcher`]) for Burn's data
//! loader; both share one gathering routine and one [`Normalization`].
//!
//! # Shapes
//! - images: `[batch_size, channels, height, width]`, values in `[0, 1]` or normalised;
//! - features (or flattened images): `[batch_size, sample_len]`;
//! - targets: `[batch_size]`, `Int`.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::DatasetError;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::dataset::{Dataset, SampleKind};
use crate::error::DataError;

/// Per-channel (images) or per-feature (tabular) standardisation: `(v - mean) / std`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean of each channel (images) or feature (tabular).
    pub mean: Vec<f32>,
    /// Standard deviation of each channel or feature; a zero deviation is stored as 1.
    pub std: Vec<f32>,
}

/// ImageNet's per-channel mean of pixel values in `[0, 1]` (R, G, B), as torchvision's
/// pretrained weights expect their inputs normalised.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet's per-channel standard deviation (R, G, B), with [`IMAGENET_MEAN`].
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

impl Normalization {
    /// torchvision's normalisation of RGB images for its pretrained weights:
    /// `(v - IMAGENET_MEAN[c]) / IMAGENET_STD[c]` on pixel values in `[0, 1]`.
    pub fn imagenet() -> Self {
        Normalization {
            mean: IMAGENET_MEAN.to_vec(),
            std: IMAGENET_STD.to_vec(),
        }
    }

    /// Computes mean and (population) standard deviation over the samples `indices` of `ds`,
    /// normally the training split only, so that no statistic leaks from validation or test.
    pub fn fit(ds: &Dataset, indices: &[usize]) -> Result<Self, DataError> {
        if indices.is_empty() {
            return Err(DataError::invalid(
                "cannot compute normalisation statistics over no sample",
            ));
        }
        if let Some(&i) = indices.iter().find(|&&i| i >= ds.n_samples()) {
            return Err(DataError::invalid(format!(
                "index {i} out of range for {} samples",
                ds.n_samples()
            )));
        }
        let (groups, group_len) = groups(ds.kind);
        let mut sum = vec![0f64; groups];
        let mut sq = vec![0f64; groups];
        for &i in indices {
            for (g, chunk) in ds.sample(i).chunks(group_len).enumerate() {
                for &v in chunk {
                    sum[g] += f64::from(v);
                    sq[g] += f64::from(v) * f64::from(v);
                }
            }
        }
        let n = (indices.len() * group_len) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum
            .iter()
            .zip(&sq)
            .map(|(s, q)| {
                let m = s / n;
                let sd = (q / n - m * m).max(0.0).sqrt() as f32;
                if sd > 0.0 { sd } else { 1.0 }
            })
            .collect();
        Ok(Normalization { mean, std })
    }

    /// Standardises one sample of kind `kind` in place.
    pub fn apply(&self, sample: &mut [f32], kind: SampleKind) {
        let (_, group_len) = groups(kind);
        for (g, chunk) in sample.chunks_mut(group_len).enumerate() {
            let (m, s) = (self.mean[g], self.std[g]);
            for v in chunk {
                *v = (*v - m) / s;
            }
        }
    }
}

/// Number of normalisation groups and values per group: channels for images, features for rows.
fn groups(kind: SampleKind) -> (usize, usize) {
    match kind {
        SampleKind::Image {
            channels,
            height,
            width,
        } => (channels, height * width),
        SampleKind::Tabular { n_features } => (n_features, 1),
    }
}

/// One sample, as Burn's data loader hands it to a [`Batcher`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The values, flat (`[C, H, W]` for images).
    pub values: Vec<f32>,
    /// The label.
    pub label: usize,
}

impl burn::data::dataset::Dataset<Sample> for Dataset {
    fn get(&self, index: usize) -> Result<Sample, DatasetError> {
        if index >= self.n_samples() {
            return Err(DatasetError::new(DataError::invalid(format!(
                "sample {index} out of range for {} samples",
                self.n_samples()
            ))));
        }
        Ok(Sample {
            values: self.sample(index).to_vec(),
            label: self.y[index],
        })
    }

    fn len(&self) -> usize {
        self.n_samples()
    }
}

/// Images and targets as tensors.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[batch_size, channels, height, width]`.
    pub images: Tensor<4>,
    /// `[batch_size]` labels.
    pub targets: Tensor<1, Int>,
}

/// Feature rows and targets as tensors.
#[derive(Debug, Clone)]
pub struct TabularBatch {
    /// `[batch_size, n_features]`.
    pub features: Tensor<2>,
    /// `[batch_size]` labels.
    pub targets: Tensor<1, Int>,
}

/// The shared gathering routine: concatenates `samples`, normalises, and builds the data.
fn gather<V: AsRef<[f32]>>(
    samples: impl Iterator<Item = (V, usize)>,
    kind: SampleKind,
    norm: Option<&Normalization>,
) -> (Vec<f32>, Vec<i64>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (values, label) in samples {
        let start = x.len();
        x.extend_from_slice(values.as_ref());
        if let Some(n) = norm {
            n.apply(&mut x[start..], kind);
        }
        y.push(label as i64);
    }
    (x, y)
}

fn targets(y: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = y.len();
    Tensor::from_data(TensorData::new(y, [n]), device)
}

/// Batches [`Sample`]s of one image kind into an [`ImageBatch`].
#[derive(Debug, Clone)]
pub struct ImageBatcher {
    /// The kind of every sample (must be [`SampleKind::Image`]).
    pub kind: SampleKind,
    /// Optional standardisation, per channel.
    pub norm: Option<Normalization>,
}

impl Batcher<Sample, ImageBatch> for ImageBatcher {
    /// # Panics
    /// When a sample's length differs from `kind.len()` or `kind` is not an image: a
    /// programming error, since samples come from one checked [`Dataset`].
    fn batch(&self, items: Vec<Sample>, device: &Device) -> ImageBatch {
        let SampleKind::Image {
            channels,
            height,
            width,
        } = self.kind
        else {
            panic!("ImageBatcher needs an image kind, got {:?}", self.kind)
        };
        let n = items.len();
        let (x, y) = gather(
            items.iter().map(|s| (&s.values[..], s.label)),
            self.kind,
            self.norm.as_ref(),
        );
        assert_eq!(
            x.len(),
            n * self.kind.len(),
            "samples of the wrong length for {:?}",
            self.kind
        );
        ImageBatch {
            images: Tensor::from_data(TensorData::new(x, [n, channels, height, width]), device),
            targets: targets(y, device),
        }
    }
}

/// Batches [`Sample`]s into a [`TabularBatch`] (images are flattened, e.g. for an MLP).
#[derive(Debug, Clone)]
pub struct TabularBatcher {
    /// The kind of every sample.
    pub kind: SampleKind,
    /// Optional standardisation, per feature (per channel for flattened images).
    pub norm: Option<Normalization>,
}

impl Batcher<Sample, TabularBatch> for TabularBatcher {
    /// # Panics
    /// When a sample's length differs from `kind.len()`: a programming error, since samples
    /// come from one checked [`Dataset`].
    fn batch(&self, items: Vec<Sample>, device: &Device) -> TabularBatch {
        let n = items.len();
        let len = self.kind.len();
        let (x, y) = gather(
            items.iter().map(|s| (&s.values[..], s.label)),
            self.kind,
            self.norm.as_ref(),
        );
        assert_eq!(
            x.len(),
            n * len,
            "samples of the wrong length for {:?}",
            self.kind
        );
        TabularBatch {
            features: Tensor::from_data(TensorData::new(x, [n, len]), device),
            targets: targets(y, device),
        }
    }
}

/// The samples `indices` of `ds` as a tensor of rank `D` and their labels as `Tensor<1, Int>`.
///
/// `D = 4` gives `[n, C, H, W]` (image data sets only); `D = 2` gives `[n, sample_len]` for any
/// data set (images flattened). Other ranks, and out-of-range indices, are errors.
pub fn batch_from_indices<const D: usize>(
    ds: &Dataset,
    indices: &[usize],
    device: &Device,
    norm: Option<&Normalization>,
) -> Result<(Tensor<D>, Tensor<1, Int>), DataError> {
    if let Some(&i) = indices.iter().find(|&&i| i >= ds.n_samples()) {
        return Err(DataError::invalid(format!(
            "index {i} out of range for {} samples",
            ds.n_samples()
        )));
    }
    let n = indices.len();
    let shape: Vec<usize> = match (D, ds.kind) {
        (
            4,
            SampleKind::Image {
                channels,
                height,
                width,
            },
        ) => vec![n, channels, height, width],
        (2, kind) => vec![n, kind.len()],
        _ => {
            return Err(DataError::param(
                "tensor rank",
                D,
                format!(
                    "use 2 (flat samples) or 4 (images) for a data set of shape {:?}",
                    ds.kind.shape()
                ),
            ));
        }
    };
    let (x, y) = gather(
        indices.iter().map(|&i| (ds.sample(i), ds.y[i])),
        ds.kind,
        norm,
    );
    Ok((
        Tensor::from_data(TensorData::new(x, shape), device),
        targets(y, device),
    ))
}
