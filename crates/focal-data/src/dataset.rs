//! The one in-memory data set type every loader produces.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::error::DataError;

/// What one sample is: an image or a row of numeric features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SampleKind {
    /// An image stored channel-first (`[channels, height, width]`), pixel values scaled to `[0, 1]`.
    Image {
        /// Number of colour channels (1 greyscale, 3 RGB).
        channels: usize,
        /// Height in pixels.
        height: usize,
        /// Width in pixels.
        width: usize,
    },
    /// A row of `n_features` numeric features.
    Tabular {
        /// Number of features per row.
        n_features: usize,
    },
}

impl SampleKind {
    /// Number of `f32` values in one sample.
    pub fn len(&self) -> usize {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => channels * height * width,
            SampleKind::Tabular { n_features } => n_features,
        }
    }

    /// Whether a sample holds no values at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one sample: `[C, H, W]` for images, `[F]` for tabular rows.
    pub fn shape(&self) -> Vec<usize> {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => vec![channels, height, width],
            SampleKind::Tabular { n_features } => vec![n_features],
        }
    }

    /// The tensor shape of one sample as the models take it: `[C, H, W]`, or `[F, 1, 1]` for
    /// rows.
    pub fn tensor_dims(&self) -> [usize; 3] {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => [channels, height, width],
            SampleKind::Tabular { n_features } => [n_features, 1, 1],
        }
    }
}

/// The format a data set was read from.
///
/// Serialised (serde) and displayed as `"idx"`, `"npz"`, `"image-folder"`, `"csv"`,
/// `"manifest"` and `"bundled"`, the strings [`DataFormat::name`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataFormat {
    /// IDX files (MNIST, Fashion-MNIST): `"idx"`.
    Idx,
    /// A NumPy `.npz` archive (MedMNIST): `"npz"`.
    Npz,
    /// A folder of class folders of images: `"image-folder"`.
    ImageFolder,
    /// A CSV file with a header: `"csv"`.
    Csv,
    /// The Fashion-MNIST subset bundled with `focal`: `"bundled"`.
    Bundled,
    /// A CSV of image paths and labels (one image per row): `"manifest"`.
    Manifest,
}

impl DataFormat {
    /// The format's name, as serialised and displayed: `"idx"`, `"npz"`, `"image-folder"`,
    /// `"csv"`, `"manifest"` or `"bundled"`.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::Idx => "idx",
            DataFormat::Npz => "npz",
            DataFormat::ImageFolder => "image-folder",
            DataFormat::Csv => "csv",
            DataFormat::Bundled => "bundled",
            DataFormat::Manifest => "manifest",
        }
    }
}

impl std::fmt::Display for DataFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, like `str`'s `Display`: width and alignment flags keep working.
        f.pad(self.name())
    }
}

/// Predefined splits of a data set, as indices into its samples.
///
/// `val` or `test` may be empty when the source does not define them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Splits {
    /// Indices of the training samples.
    pub train: Vec<usize>,
    /// Indices of the validation samples.
    pub val: Vec<usize>,
    /// Indices of the test samples.
    pub test: Vec<usize>,
}

/// The groups of each part of a split by group (sorted, each once), as a run records them
/// beside its split: no group is in two parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitGroups {
    /// The groups of the training samples.
    pub train: Vec<String>,
    /// The groups of the validation samples.
    pub val: Vec<String>,
    /// The groups of the test samples.
    pub test: Vec<String>,
}

impl SplitGroups {
    /// Number of groups in train, validation and test.
    pub fn counts(&self) -> [usize; 3] {
        [self.train.len(), self.val.len(), self.test.len()]
    }
}

/// Greyscale images (`plane` values each, flat) as RGB: each plane repeated three times.
pub fn grey_to_rgb<T: Copy>(x: &[T], plane: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(x.len() * 3);
    for s in x.chunks(plane) {
        for _ in 0..3 {
            out.extend_from_slice(s);
        }
    }
    out
}

/// The values of a data set's samples, flat.
///
/// Decoded 8-bit images are kept as their bytes, a quarter of the memory of `f32`: byte `b`
/// stands for the value `f32::from(b) / 255.0`, exactly what the loaders compute, so every
/// value read is the same either way (and so are fingerprints, statistics and models).
/// Decoded 16-bit images (16-bit PNG and TIFF, DICOM of more than 8 bits) are kept as `u16`,
/// `v` standing for `f32::from(v) / 65535.0`, so an X-ray's dynamic range survives until the
/// values are standardised per batch.
#[derive(Debug, Clone)]
pub enum Values {
    /// Any finite values.
    F32(Vec<f32>),
    /// Pixels in `[0, 1]` as bytes (`b / 255`).
    Pixels(Vec<u8>),
    /// Pixels in `[0, 1]` as 16-bit values (`v / 65535`).
    Pixels16(Vec<u16>),
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::Pixels(b) => b.len(),
            Values::Pixels16(w) => w.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bits of each stored pixel: 8 for bytes, 16 for 16-bit pixels, `None` for `f32`.
    pub fn bit_depth(&self) -> Option<u8> {
        match self {
            Values::F32(_) => None,
            Values::Pixels(_) => Some(8),
            Values::Pixels16(_) => Some(16),
        }
    }

    /// Value `k`.
    ///
    /// # Panics
    /// When `k >= len()`, like slice indexing.
    #[inline]
    pub fn get(&self, k: usize) -> f32 {
        match self {
            Values::F32(v) => v[k],
            Values::Pixels(b) => pixel(b[k]),
            Values::Pixels16(w) => pixel16(w[k]),
        }
    }

    /// Values `range`: borrowed for `f32`, computed for pixels.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Cow<'_, [f32]> {
        match self {
            Values::F32(v) => Cow::Borrowed(&v[range]),
            Values::Pixels(b) => Cow::Owned(b[range].iter().map(|&p| pixel(p)).collect()),
            Values::Pixels16(w) => Cow::Owned(w[range].iter().map(|&p| pixel16(p)).collect()),
        }
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = f32> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }

    /// The values as `f32` (moved for `f32`, converted for pixels).
    pub fn into_f32(self) -> Vec<f32> {
        match self {
            Values::F32(v) => v,
            Values::Pixels(b) => b.iter().map(|&p| pixel(p)).collect(),
            Values::Pixels16(w) => w.iter().map(|&p| pixel16(p)).collect(),
        }
    }

    /// Rows `indices` of `n` values each, in that order, kept as they are stored.
    pub fn gather(&self, indices: &[usize], n: usize) -> Values {
        fn rows<T: Copy>(v: &[T], indices: &[usize], n: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(indices.len() * n);
            for &i in indices {
                out.extend_from_slice(&v[i * n..(i + 1) * n]);
            }
            out
        }
        match self {
            Values::F32(v) => Values::F32(rows(v, indices, n)),
            Values::Pixels(b) => Values::Pixels(rows(b, indices, n)),
            Values::Pixels16(w) => Values::Pixels16(rows(w, indices, n)),
        }
    }

    /// Rows `rows` (strictly increasing) of `n` values each moved to the front, the rest
    /// dropped, in place.
    fn retain_rows(&mut self, rows: &[usize], n: usize) {
        fn compact<T: Copy>(v: &mut Vec<T>, rows: &[usize], n: usize) {
            for (j, &i) in rows.iter().enumerate() {
                if i != j {
                    v.copy_within(i * n..(i + 1) * n, j * n);
                }
            }
            v.truncate(rows.len() * n);
            v.shrink_to_fit();
        }
        match self {
            Values::F32(v) => compact(v, rows, n),
            Values::Pixels(b) => compact(b, rows, n),
            Values::Pixels16(w) => compact(w, rows, n),
        }
    }

    /// Greyscale planes of `plane` values repeated three times (RGB), kept as stored.
    fn grey_to_rgb(&self, plane: usize) -> Values {
        match self {
            Values::F32(v) => Values::F32(grey_to_rgb(v, plane)),
            Values::Pixels(b) => Values::Pixels(grey_to_rgb(b, plane)),
            Values::Pixels16(w) => Values::Pixels16(grey_to_rgb(w, plane)),
        }
    }
}

/// The value of pixel byte `b`: `b / 255`, as the loaders compute it.
#[inline]
pub fn pixel(b: u8) -> f32 {
    f32::from(b) / 255.0
}

/// The value of 16-bit pixel `v`: `v / 65535`, as the loaders compute it. A byte `b` promoted
/// to 16 bits as `b * 257` keeps its value exactly: `pixel16(b * 257) == pixel(b)`.
#[inline]
pub fn pixel16(v: u16) -> f32 {
    f32::from(v) / 65535.0
}

impl PartialEq for Values {
    /// Equal values, however they are stored.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Values::F32(a), Values::F32(b)) => a == b,
            (Values::Pixels(a), Values::Pixels(b)) => a == b,
            (Values::Pixels16(a), Values::Pixels16(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

impl PartialEq<Vec<f32>> for Values {
    fn eq(&self, other: &Vec<f32>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Self {
        Values::F32(v)
    }
}

impl From<Vec<u8>> for Values {
    fn from(b: Vec<u8>) -> Self {
        Values::Pixels(b)
    }
}

impl From<Vec<u16>> for Values {
    fn from(w: Vec<u16>) -> Self {
        Values::Pixels16(w)
    }
}

/// An in-memory classification data set.
///
/// Conventions: labels are `0..n_classes`, indexing `class_names`; samples are stored flat and
/// row-major in `x`, `kind.len()` values each.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The source format.
    pub format: DataFormat,
    /// Where the data came from, when it came from a file or folder.
    pub source: Option<PathBuf>,
    /// What one sample is.
    pub kind: SampleKind,
    /// All samples, flattened, `n_samples * kind.len()` values (decoded 8-bit images as
    /// their bytes).
    pub x: Values,
    /// One label per sample, in `0..class_names.len()`.
    pub y: Vec<usize>,
    /// Class names, indexed by label.
    pub class_names: Vec<String>,
    /// Predefined splits, when the source has them.
    pub splits: Option<Splits>,
    /// One identifier per sample when the source names its samples one by one: a manifest's
    /// image path, as the manifest writes it (what predictions name a sample by). `None` for
    /// sources whose samples are rows of one file.
    pub ids: Option<Vec<String>>,
    /// One group per sample (a patient, a study) when the source gives them: a split then
    /// keeps every group within one part ([`Dataset::resolve_splits`]).
    pub groups: Option<Vec<String>>,
}

impl Dataset {
    /// Builds a data set and checks that its parts fit together.
    ///
    /// Checks: a sample holds at least one value; `x.len() == y.len() * kind.len()`; every label
    /// is below `class_names.len()`; every value is finite; split indices are in range and no
    /// index appears twice across the splits.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        format: DataFormat,
        source: Option<PathBuf>,
        kind: SampleKind,
        x: impl Into<Values>,
        y: Vec<usize>,
        class_names: Vec<String>,
        splits: Option<Splits>,
    ) -> Result<Self, DataError> {
        let x = x.into();
        let sample_len = kind.len();
        if sample_len == 0 {
            return Err(DataError::invalid(format!(
                "a sample of shape {:?} holds no value",
                kind.shape()
            )));
        }
        if class_names.is_empty() {
            return Err(DataError::invalid("the data set has no class"));
        }
        if x.len() != y.len() * sample_len {
            return Err(DataError::invalid(format!(
                "{} values for {} labels of {} values each (expected {})",
                x.len(),
                y.len(),
                sample_len,
                y.len() * sample_len
            )));
        }
        if let Some((i, &label)) = y.iter().enumerate().find(|(_, l)| **l >= class_names.len()) {
            return Err(DataError::invalid(format!(
                "sample {i} has label {label} but there are only {} classes",
                class_names.len()
            )));
        }
        if let Values::F32(v) = &x
            && let Some(pos) = v.iter().position(|v| !v.is_finite())
        {
            return Err(DataError::invalid(format!(
                "sample {}, value {} is {} (values must be finite)",
                pos / sample_len,
                pos % sample_len,
                v[pos]
            )));
        }
        if let Some(s) = &splits {
            let mut seen = vec![false; y.len()];
            for (name, part) in [("train", &s.train), ("val", &s.val), ("test", &s.test)] {
                for &i in part {
                    if i >= y.len() {
                        return Err(DataError::invalid(format!(
                            "{name} split holds index {i} but there are {} samples",
                            y.len()
                        )));
                    }
                    if seen[i] {
                        return Err(DataError::invalid(format!(
                            "sample {i} appears twice in the splits ({name})"
                        )));
                    }
                    seen[i] = true;
                }
            }
        }
        Ok(Dataset {
            format,
            source,
            kind,
            x,
            y,
            class_names,
            splits,
            ids: None,
            groups: None,
        })
    }

    /// The data set with one identifier per sample (see [`Dataset::ids`]).
    ///
    /// # Errors
    /// When there are not exactly as many ids as samples.
    pub fn with_ids(mut self, ids: Vec<String>) -> Result<Self, DataError> {
        if ids.len() != self.n_samples() {
            return Err(DataError::invalid(format!(
                "{} sample ids for {} samples",
                ids.len(),
                self.n_samples()
            )));
        }
        self.ids = Some(ids);
        Ok(self)
    }

    /// The data set with one group per sample (see [`Dataset::groups`]).
    ///
    /// # Errors
    /// When there are not exactly as many groups as samples.
    pub fn with_groups(mut self, groups: Vec<String>) -> Result<Self, DataError> {
        if groups.len() != self.n_samples() {
            return Err(DataError::invalid(format!(
                "{} groups for {} samples",
                groups.len(),
                self.n_samples()
            )));
        }
        self.groups = Some(groups);
        Ok(self)
    }

    /// The bits of each stored pixel, for a run's record: 8 for images kept as bytes, 16 for
    /// images kept as 16-bit values, `None` for values stored as `f32` (feature rows, resized
    /// IDX or NPZ images).
    pub fn bit_depth(&self) -> Option<u8> {
        self.x.bit_depth()
    }

    /// The groups of each part of `splits`, for the record of a split by group: `None` when the
    /// data set has no groups.
    pub fn split_groups(&self, splits: &Splits) -> Option<SplitGroups> {
        let groups = self.groups.as_ref()?;
        let names = |part: &[usize]| -> Vec<String> {
            let mut v: Vec<String> = part.iter().map(|&i| groups[i].clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        Some(SplitGroups {
            train: names(&splits.train),
            val: names(&splits.val),
            test: names(&splits.test),
        })
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.y.len()
    }

    /// Number of classes (the length of `class_names`, including classes with no sample).
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Number of `f32` values in one sample.
    pub fn sample_len(&self) -> usize {
        self.kind.len()
    }

    /// The values of sample `i`, flat (`[C, H, W]` row-major for images).
    ///
    /// # Panics
    /// When `i >= n_samples()`, like slice indexing.
    pub fn sample(&self, i: usize) -> Cow<'_, [f32]> {
        let n = self.sample_len();
        self.x.slice(i * n..(i + 1) * n)
    }

    /// The data set with greyscale images as RGB (each grey plane repeated three times, as
    /// torchvision's `Grayscale(3)` does); RGB images are returned unchanged.
    ///
    /// # Errors
    /// Feature rows, or images of another channel count than 1 or 3.
    pub fn to_rgb(self) -> Result<Self, DataError> {
        match self.kind {
            SampleKind::Image { channels: 3, .. } => Ok(self),
            SampleKind::Image {
                channels: 1,
                height,
                width,
            } => Ok(Dataset {
                x: self.x.grey_to_rgb(height * width),
                kind: SampleKind::Image {
                    channels: 3,
                    height,
                    width,
                },
                ..self
            }),
            kind => Err(DataError::invalid(format!(
                "samples of shape {:?} cannot be made RGB images (greyscale or RGB images only)",
                kind.shape()
            ))),
        }
    }

    /// Number of samples of each class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        class_counts(&self.y, self.n_classes())
    }

    /// Number of samples of each class within `indices` (e.g. one split).
    pub fn class_counts_of(&self, indices: &[usize]) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes()];
        for &i in indices {
            counts[self.y[i]] += 1;
        }
        counts
    }

    /// Largest class count divided by the smallest: 1.0 for a balanced set, `inf` when a class
    /// has no sample.
    pub fn imbalance_ratio(&self) -> f64 {
        imbalance_ratio(&self.class_counts())
    }

    /// The samples at `indices`, in that order (repeats allowed), with the same classes.
    ///
    /// Predefined splits are dropped: they index the original set.
    ///
    /// # Panics
    /// When an index is out of range, like slice indexing.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            format: self.format,
            source: self.source.clone(),
            kind: self.kind,
            x: self.x.gather(indices, self.sample_len()),
            y: indices.iter().map(|&i| self.y[i]).collect(),
            class_names: self.class_names.clone(),
            splits: None,
            ids: self
                .ids
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i].clone()).collect()),
            groups: self
                .groups
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    /// [`subset`](Self::subset) of rows in increasing order, taken in place: the kept samples
    /// are moved to the front of the data set's own buffers, so no second copy of the values
    /// is made. Predefined splits are dropped, as `subset` drops them. `rows` must be strictly
    /// increasing and in range (task building's kept rows are).
    pub(crate) fn into_subset(mut self, rows: &[usize]) -> Dataset {
        debug_assert!(
            rows.windows(2).all(|w| w[0] < w[1])
                && rows.last().is_none_or(|&r| r < self.n_samples()),
            "into_subset: rows must be increasing and in range"
        );
        self.x.retain_rows(rows, self.sample_len());
        for (j, &i) in rows.iter().enumerate() {
            self.y[j] = self.y[i];
        }
        self.y.truncate(rows.len());
        self.y.shrink_to_fit();
        for names in [&mut self.ids, &mut self.groups].into_iter().flatten() {
            for (j, &i) in rows.iter().enumerate() {
                names.swap(j, i);
            }
            names.truncate(rows.len());
        }
        self.splits = None;
        self
    }

    /// A stable content hash (FNV-1a, 64 bits, 16 hex digits) of the sample shape, the values,
    /// the labels, the class names, the predefined splits and, when there are groups, the
    /// groups (which decide the split). Sample ids do not enter it.
    ///
    /// The same data loaded from any path or format gives the same fingerprint; a run records it
    /// so that a later `eval` can check it sees the same data. Not a cryptographic hash.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv1a::new();
        for d in self.kind.shape() {
            h.write_u64(d as u64);
        }
        h.write_u64(self.x.len() as u64);
        for v in self.x.iter() {
            h.write(&v.to_bits().to_le_bytes());
        }
        h.write_u64(self.y.len() as u64);
        for &l in &self.y {
            h.write_u64(l as u64);
        }
        h.write_u64(self.class_names.len() as u64);
        for name in &self.class_names {
            h.write_u64(name.len() as u64);
            h.write(name.as_bytes());
        }
        match &self.splits {
            None => h.write_u64(0),
            Some(s) => {
                h.write_u64(1);
                for part in [&s.train, &s.val, &s.test] {
                    h.write_u64(part.len() as u64);
                    for &i in part {
                        h.write_u64(i as u64);
                    }
                }
            }
        }
        // Only when present, so that every fingerprint recorded before groups existed stands.
        if let Some(groups) = &self.groups {
            h.write(b"groups");
            for g in groups {
                h.write_u64(g.len() as u64);
                h.write(g.as_bytes());
            }
        }
        format!("{:016x}", h.0)
    }
}

/// Number of labels of each class in `0..n_classes`; labels at or above `n_classes` are ignored.
pub fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &l in y {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    counts
}

/// Largest count divided by the smallest (`inf` when a count is zero, 1.0 for no count).
pub fn imbalance_ratio(counts: &[usize]) -> f64 {
    let max = counts.iter().copied().max().unwrap_or(0);
    let min = counts.iter().copied().min().unwrap_or(0);
    if counts.is_empty() {
        1.0
    } else if min == 0 {
        f64::INFINITY
    } else {
        max as f64 / min as f64
    }
}

/// 64-bit FNV-1a (Fowler, Noll, Vo): tiny, stable across platforms and versions.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests;
