//! The samples of a run on the host ([`HostSet`], batch by batch) and on the device
//! ([`DeviceSet`]), as bytes or `f32`, standardised per batch.

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use focal_data::SampleKind;
use focal_data::batcher::Normalization;

/// Training samples and labels kept on the host; each batch is gathered there (on any
/// thread: [`HostBatch`] is plain data) and put on the device by [`HostBatch::to_device`].
#[derive(Debug, Clone)]
pub struct HostSet {
    pub(crate) samples: HostSamples,
    pub(crate) y: Vec<i64>,
    pub(crate) dims: [usize; 3],
    pub(crate) kind: SampleKind,
    pub(crate) normalization: Normalization,
}

#[derive(Debug, Clone)]
pub(crate) enum HostSamples {
    /// Decoded pixels, standardised on the device per batch.
    Bytes(Vec<u8>),
    /// Any other values, before standardisation.
    Floats(Vec<f32>),
}

/// One batch gathered on the host, not yet on a device.
#[derive(Debug)]
pub struct HostBatch {
    x: TensorData,
    y: TensorData,
    bytes: bool,
}

impl HostSet {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the set has no sample.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Whether the samples are kept as bytes (decoded pixels) rather than `f32`.
    pub fn holds_bytes(&self) -> bool {
        matches!(self.samples, HostSamples::Bytes(_))
    }

    /// The bytes the samples take (as they are kept, and as a device set would keep them).
    pub fn bytes(&self) -> u64 {
        match &self.samples {
            HostSamples::Bytes(b) => b.len() as u64,
            HostSamples::Floats(x) => (x.len() * std::mem::size_of::<f32>()) as u64,
        }
    }

    /// The whole set on `device`: bytes as they are, `f32` standardised once.
    pub fn into_device_set(self, device: &Device) -> DeviceSet {
        let n = self.y.len();
        let [c, h, w] = self.dims;
        let y = Tensor::<1, Int>::from_data(TensorData::new(self.y, [n]), device);
        let samples = match self.samples {
            HostSamples::Bytes(bytes) => DeviceSamples::Bytes {
                x: Tensor::<4, Int>::from_data(
                    TensorData::new(bytes, [n, c, h, w]),
                    (device, DType::U8),
                ),
                stats: Box::new(Statistics::of(&self.normalization, device)),
            },
            HostSamples::Floats(mut x) => {
                for sample in x.chunks_mut(self.kind.len().max(1)) {
                    self.normalization.apply(sample, self.kind);
                }
                DeviceSamples::Standardised(Tensor::<4>::from_data(
                    TensorData::new(x, [n, c, h, w]),
                    device,
                ))
            }
        };
        DeviceSet { samples, y, len: n }
    }

    /// The samples `indices` (each below `len`), in that order: bytes as they are, `f32`
    /// standardised.
    pub fn batch(&self, indices: &[usize]) -> HostBatch {
        let len = self.kind.len();
        let [c, h, w] = self.dims;
        let shape = [indices.len(), c, h, w];
        let (x, bytes) = match &self.samples {
            HostSamples::Bytes(b) => {
                let mut out = Vec::with_capacity(indices.len() * len);
                for &i in indices {
                    out.extend_from_slice(&b[i * len..(i + 1) * len]);
                }
                (TensorData::new(out, shape), true)
            }
            HostSamples::Floats(x) => {
                let mut out = Vec::with_capacity(indices.len() * len);
                for &i in indices {
                    let start = out.len();
                    out.extend_from_slice(&x[i * len..(i + 1) * len]);
                    self.normalization.apply(&mut out[start..], self.kind);
                }
                (TensorData::new(out, shape), false)
            }
        };
        let labels: Vec<i64> = indices.iter().map(|&i| self.y[i]).collect();
        HostBatch {
            x,
            y: TensorData::new(labels, [indices.len()]),
            bytes,
        }
    }

    /// The mean and standard deviation per channel (feature) on `device`, `[1, C, 1, 1]`, that
    /// [`HostBatch::to_device`] standardises bytes with.
    pub fn statistics(&self, device: &Device) -> Statistics {
        Statistics::of(&self.normalization, device)
    }
}

/// A set's standardisation statistics on a device ([`HostSet::statistics`]).
#[derive(Debug, Clone)]
pub struct Statistics {
    mean: Tensor<4>,
    std: Tensor<4>,
}

impl Statistics {
    fn of(normalization: &Normalization, device: &Device) -> Self {
        let groups = normalization.mean.len();
        let stat = |v: &[f32]| {
            Tensor::<4>::from_data(TensorData::new(v.to_vec(), [1, groups, 1, 1]), device)
        };
        Statistics {
            mean: stat(&normalization.mean),
            std: stat(&normalization.std),
        }
    }

    /// `(b / 255 - mean) / std` of bytes `b`, in `f32`.
    fn standardise(&self, bytes: Tensor<4, Int>) -> Tensor<4> {
        ((bytes.float() / 255.0) - self.mean.clone()) / self.std.clone()
    }
}

impl HostBatch {
    /// The batch on `device`, standardised: `[k, C, H, W]` and `[k]`.
    pub fn to_device(self, device: &Device, stats: &Statistics) -> (Tensor<4>, Tensor<1, Int>) {
        let y = Tensor::<1, Int>::from_data(self.y, device);
        let x = if self.bytes {
            stats.standardise(Tensor::<4, Int>::from_data(self.x, (device, DType::U8)))
        } else {
            Tensor::<4>::from_data(self.x, device)
        };
        (x, y)
    }
}

/// Whether pixels stay bytes on `device`: on Burn's flex CPU backend, where that path is tested
/// and measured. A GPU (cubecl) may report `u8` support too, but there the path has not run
/// yet, so a GPU gets standardised `f32` batches, as before.
pub(crate) fn keeps_bytes(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex() && device.supports_dtype(DType::U8)
}

/// The pixels of `samples` as bytes, when every value is `b / 255` for a byte `b` exactly as
/// the loaders compute it (`f32::from(b) / 255.0`); `None` at the first value that is not.
pub(crate) fn pixel_bytes<'a>(
    samples: impl Iterator<Item = &'a [f32]>,
    total: usize,
) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(total);
    for sample in samples {
        for &v in sample {
            let b = (v * 255.0).round();
            if !(0.0..=255.0).contains(&b) || f32::from(b as u8) / 255.0 != v {
                return None;
            }
            bytes.push(b as u8);
        }
    }
    Some(bytes)
}

/// How a [`DeviceSet`] keeps its samples.
#[derive(Debug, Clone)]
pub(crate) enum DeviceSamples {
    /// Standardised, `f32`.
    Standardised(Tensor<4>),
    /// Decoded pixels as bytes, standardised per batch: `(b / 255 - mean) / std`, the same
    /// operations in the same order as on the host, so the values are the same to the bit.
    Bytes {
        /// The pixels, `u8`.
        x: Tensor<4, Int>,
        /// Mean and standard deviation per channel (feature).
        stats: Box<Statistics>,
    },
}

/// Samples and labels on a device; batches are taken by index on the device and come out
/// standardised.
#[derive(Debug, Clone)]
pub struct DeviceSet {
    /// Samples, `[N, C, H, W]` (`[N, F, 1, 1]` for rows).
    pub(crate) samples: DeviceSamples,
    /// Labels, `[N]`.
    pub y: Tensor<1, Int>,
    /// Number of samples.
    pub len: usize,
}

impl DeviceSet {
    /// A set of samples already standardised, `[N, C, H, W]`, with labels `[N]`.
    pub fn standardised(x: Tensor<4>, y: Tensor<1, Int>) -> Self {
        let len = x.dims()[0];
        DeviceSet {
            samples: DeviceSamples::Standardised(x),
            y,
            len,
        }
    }

    /// Whether the samples are kept as bytes (decoded pixels) rather than `f32`.
    pub fn holds_bytes(&self) -> bool {
        matches!(self.samples, DeviceSamples::Bytes { .. })
    }

    /// The samples `indices` (each below `len`), in that order, standardised: `[k, C, H, W]`
    /// and `[k]`.
    pub fn batch(&self, indices: &[usize]) -> (Tensor<4>, Tensor<1, Int>) {
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let idx =
            Tensor::<1, Int>::from_data(TensorData::new(idx, [indices.len()]), &self.y.device());
        (
            self.samples.select(idx.clone()),
            self.y.clone().select(0, idx),
        )
    }

    /// Every sample, standardised, `[N, C, H, W]`.
    pub fn x(&self) -> Tensor<4> {
        match &self.samples {
            DeviceSamples::Standardised(x) => x.clone(),
            DeviceSamples::Bytes { x, stats } => stats.standardise(x.clone()),
        }
    }
}

impl DeviceSamples {
    fn select(&self, idx: Tensor<1, Int>) -> Tensor<4> {
        match self {
            DeviceSamples::Standardised(x) => x.clone().select(0, idx),
            DeviceSamples::Bytes { x, stats } => stats.standardise(x.clone().select(0, idx)),
        }
    }
}
