//! DICOM images: stored values through the modality rescale and the VOI window to grey levels,
//! as pydicom's `pixel_array`, `apply_modality_lut` and `apply_voi_lut` compute them.
//!
//! The pipeline, for a greyscale (MONOCHROME1/2) image:
//!
//! ```text
//! stored  = the frame's samples (BitsStored of BitsAllocated; PixelRepresentation 1: signed)
//! m       = stored * RescaleSlope + RescaleIntercept                     (modality LUT)
//! t       = VOI window of m, in [0, 1]:
//!           LINEAR       c' = c - 0.5, w' = w - 1:  0 if m <= c' - w'/2, 1 if m > c' + w'/2,
//!                        else (m - c') / w' + 0.5
//!           LINEAR_EXACT the same with c' = c, w' = w
//!           SIGMOID      1 / (1 + exp(-4 (m - c) / w))
//!           VOI LUT      lut[clamp(m - first, 0, n - 1)] / (2^bits - 1)
//!           min-max      (m - min) / (max - min)   (the image's own range; 0 when flat)
//! MONOCHROME1: t = 1 - t (high values are dark; shown as MONOCHROME2)
//! grey    = round(t * 65535) when BitsStored > 8, else round(t * 255)
//! ```
//!
//! This is DICOM's linear function `((m - (c - 0.5)) / (w - 1) + 0.5) * (ymax - ymin) + ymin`
//! (PS3.3 C.11.2.1.2) divided by its output range, so it does not depend on `ymin`/`ymax`.
//! Colour images (RGB, and YBR_FULL converted to RGB) keep their values, scaled from
//! `BitsStored` to 8 or 16 bits; no window applies to them.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions, Tag};
use dicom_pixeldata::PixelDecoder;
use image::{DynamicImage, ImageBuffer};

use crate::dataset::{SampleKind, Values};
use crate::error::DataError;
use crate::folder::{Pixels, push_values};
use crate::setting::DataSetting;

/// Which window maps a DICOM image's values to grey levels (the VOI step).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DicomWindow {
    /// The file's own view: its first VOI LUT, else its first window (centre and width, with
    /// its VOI LUT function), else min-max when it has neither. The default.
    #[default]
    File,
    /// Each image's own range after the modality rescale, stretched to the full grey range.
    MinMax,
    /// One window for every image (DICOM's LINEAR function).
    Explicit {
        /// Window centre, in the units after the modality rescale (Hounsfield units for CT).
        center: f64,
        /// Window width, at least 1.
        width: f64,
    },
}

impl FromStr for DicomWindow {
    type Err = DataError;

    /// `file`, `minmax` (or `min-max`), or `CENTER,WIDTH` such as `40,400`.
    fn from_str(s: &str) -> Result<Self, DataError> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "file" => return Ok(DicomWindow::File),
            "minmax" | "min-max" => return Ok(DicomWindow::MinMax),
            _ => {}
        }
        let bad = |reason: &str| DataError::arg(DataSetting::DicomWindow, s, reason.to_string());
        let (c, w) = t.split_once(',').ok_or_else(|| {
            bad("expected `file`, `minmax`, or CENTER,WIDTH such as 40,400 (a CT soft-tissue window)")
        })?;
        let center: f64 = c
            .trim()
            .parse()
            .map_err(|_| bad("the centre is not a number; expected CENTER,WIDTH such as 40,400"))?;
        let width: f64 = w
            .trim()
            .parse()
            .map_err(|_| bad("the width is not a number; expected CENTER,WIDTH such as 40,400"))?;
        if !center.is_finite() || !width.is_finite() || width < 1.0 {
            return Err(bad(
                "the centre must be finite and the width at least 1 (DICOM's linear window)",
            ));
        }
        Ok(DicomWindow::Explicit { center, width })
    }
}

impl std::fmt::Display for DicomWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DicomWindow::File => f.write_str("file"),
            DicomWindow::MinMax => f.write_str("minmax"),
            DicomWindow::Explicit { center, width } => write!(f, "{center},{width}"),
        }
    }
}

/// How DICOM files are read: the window and, for multi-frame files, the frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DicomOptions {
    /// The VOI window.
    pub(crate) window: DicomWindow,
    /// The frame of multi-frame files (0-based); `None` refuses multi-frame files.
    pub(crate) frame: Option<u32>,
}

/// What a DICOM file's header says about its image, as [`dicom_info`] reads it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DicomInfo {
    /// Modality (0008,0060), e.g. `CT`, `MR`, `CR`, `DX`.
    pub modality: Option<String>,
    /// Rows (0028,0010): the height.
    pub rows: u32,
    /// Columns (0028,0011): the width.
    pub columns: u32,
    /// Samples per pixel (0028,0002): 1 greyscale, 3 colour.
    pub samples_per_pixel: u16,
    /// Bits allocated (0028,0100) per sample.
    pub bits_allocated: u16,
    /// Bits stored (0028,0101) per sample.
    pub bits_stored: u16,
    /// Pixel representation (0028,0103) 1: signed samples.
    pub signed: bool,
    /// Photometric interpretation (0028,0004), e.g. `MONOCHROME2`, `RGB`.
    pub photometric_interpretation: String,
    /// Planar configuration (0028,0006) of colour images: 0 interleaved, 1 by plane.
    pub planar_configuration: u16,
    /// Number of frames (0028,0008); 1 when absent.
    pub frames: u32,
    /// Rescale slope (0028,1053); 1 when absent.
    pub rescale_slope: f64,
    /// Rescale intercept (0028,1052); 0 when absent.
    pub rescale_intercept: f64,
    /// The windows (centre, width) the file proposes (0028,1050 and 0028,1051), first first.
    pub windows: Vec<(f64, f64)>,
    /// VOI LUT function (0028,1056): `LINEAR` when absent.
    pub voi_lut_function: String,
    /// Whether the file holds a VOI LUT Sequence (0028,3010), which the file's window prefers.
    pub has_voi_lut: bool,
    /// Whether the file holds a Modality LUT Sequence (0028,3000).
    pub has_modality_lut: bool,
    /// Transfer syntax UID (0002,0010).
    pub transfer_syntax: String,
    /// The transfer syntax's name, when it is a known one.
    pub transfer_syntax_name: Option<String>,
    /// Whether focal's decoders can decode this transfer syntax.
    pub decodable: bool,
}

impl DicomInfo {
    /// Whether the image is greyscale (MONOCHROME1 or MONOCHROME2).
    pub fn is_monochrome(&self) -> bool {
        self.photometric_interpretation.starts_with("MONOCHROME")
    }

    /// The bits focal stores each decoded sample with: 16 for greyscale of more than 8 stored
    /// bits and colour of more than 8 allocated bits, else 8.
    pub fn output_bits(&self) -> u8 {
        let deep = if self.is_monochrome() {
            self.bits_stored > 8
        } else {
            self.bits_allocated > 8
        };
        if deep { 16 } else { 8 }
    }

    /// Bytes one frame takes decoded, as the header declares it.
    fn frame_bytes(&self) -> u64 {
        u64::from(self.rows)
            * u64::from(self.columns)
            * u64::from(self.samples_per_pixel)
            * u64::from(self.bits_allocated.div_ceil(8))
    }

    fn size_text(&self) -> String {
        format!(
            "Rows x Columns x SamplesPerPixel ({}x{}x{} at {} bits allocated)",
            self.rows, self.columns, self.samples_per_pixel, self.bits_allocated
        )
    }
}

impl std::fmt::Display for DicomInfo {
    /// One line: modality, size, bits, photometric interpretation, the window the file proposes
    /// (the default window's), rescale, frames and transfer syntax.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let window = match self.windows.first() {
            Some((c, w)) => format!("window centre {c}, width {w} (the file's)"),
            None => "no window in the file (min-max)".to_string(),
        };
        write!(
            f,
            "{} {}x{}, {} bits stored of {} allocated{}, {}, {window}, rescale {} x + {}, {} \
             frame{}, {}",
            self.modality.as_deref().unwrap_or("modality unknown"),
            self.columns,
            self.rows,
            self.bits_stored,
            self.bits_allocated,
            if self.signed { " (signed)" } else { "" },
            self.photometric_interpretation,
            self.rescale_slope,
            self.rescale_intercept,
            self.frames,
            if self.frames == 1 { "" } else { "s" },
            self.transfer_syntax_name
                .as_deref()
                .unwrap_or(&self.transfer_syntax)
        )
    }
}

/// The first DICOM file of an image folder (class folders, files by name) or of a manifest's
/// images (`ids`, as a manifest names them, relative to `base`), for describing a data set.
pub fn first_dicom(path: &Path, ids: Option<&[String]>, base: Option<&Path>) -> Option<PathBuf> {
    let is_dicom = |p: &Path| {
        p.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm")) || has_dicm_magic(p)
    };
    if path.is_dir() {
        for class in crate::folder::class_dirs(path).ok()? {
            if let Some(f) = crate::folder::image_files(&class)
                .ok()?
                .into_iter()
                .find(|f| is_dicom(f))
            {
                return Some(f);
            }
        }
        return None;
    }
    let base = base
        .map(Path::to_path_buf)
        .or_else(|| path.parent().map(Path::to_path_buf))?;
    ids?.iter().find_map(|id| {
        [id.clone(), format!("{id}.dcm")]
            .into_iter()
            .map(|c| base.join(c))
            .find(|p| p.is_file() && is_dicom(p))
    })
}

/// Whether bytes 128..132 of `path` are `DICM`.
pub(crate) fn has_dicm_magic(path: &Path) -> bool {
    let mut head = [0u8; 132];
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n == head.len() && &head[128..] == b"DICM"
}

fn dicom_error(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Dicom {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// An error and its sources on one line (dicom-rs's errors say the outermost step only).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// Opens `path`, the whole file or its header (everything before the pixel data).
fn open(path: &Path, header_only: bool) -> Result<DefaultDicomObject, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if !meta.is_file() {
        return Err(DataError::UnreadableImage {
            path: path.to_path_buf(),
            reason: "not a regular file (a pipe, socket or device)".into(),
        });
    }
    let opts = OpenFileOptions::new();
    let opts = if header_only {
        opts.read_until(tags::PIXEL_DATA)
    } else {
        opts
    };
    opts.open_file(path).map_err(|e| {
        dicom_error(
            path,
            format!(
                "{}; is it a complete DICOM file (a 128-byte preamble, `DICM`, the file meta \
                 group)?",
                chain(&e)
            ),
        )
    })
}

fn element(obj: &DefaultDicomObject, tag: Tag) -> Option<&dicom_object::mem::InMemElement> {
    obj.element_opt(tag).ok().flatten()
}

fn text(obj: &DefaultDicomObject, tag: Tag) -> Option<String> {
    let t = element(obj, tag)?.to_str().ok()?;
    let t = t.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!t.is_empty()).then(|| t.to_string())
}

fn int(
    path: &Path,
    obj: &DefaultDicomObject,
    tag: Tag,
    name: &str,
) -> Result<Option<u32>, DataError> {
    let Some(el) = element(obj, tag) else {
        return Ok(None);
    };
    if el.to_str().is_ok_and(|t| {
        t.trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .is_empty()
    }) {
        return Ok(None);
    }
    el.to_int::<u32>().map(Some).map_err(|_| {
        let shown = el.to_str().map(|s| s.to_string()).unwrap_or_default();
        dicom_error(
            path,
            format!(
                "{name} ({:04X},{:04X}) is `{}`, not a whole number; fix the header",
                tag.group(),
                tag.element(),
                shown.trim()
            ),
        )
    })
}

fn floats(obj: &DefaultDicomObject, tag: Tag) -> Vec<f64> {
    element(obj, tag)
        .and_then(|el| el.to_multi_float64().ok())
        .unwrap_or_default()
}

/// The image description of an opened DICOM object.
fn info_of(path: &Path, obj: &DefaultDicomObject) -> Result<DicomInfo, DataError> {
    let required = |tag: Tag, name: &str| -> Result<u32, DataError> {
        int(path, obj, tag, name)?.ok_or_else(|| {
            dicom_error(
                path,
                format!(
                    "no {name} ({:04X},{:04X}): the file holds no image (a report, a \
                     structured document?); give DICOM image files only",
                    tag.group(),
                    tag.element()
                ),
            )
        })
    };
    let small = |v: u32, name: &str| -> Result<u16, DataError> {
        u16::try_from(v).map_err(|_| dicom_error(path, format!("{name} {v} is out of range")))
    };
    let rows = required(tags::ROWS, "Rows")?;
    let columns = required(tags::COLUMNS, "Columns")?;
    let bits_allocated = small(
        required(tags::BITS_ALLOCATED, "BitsAllocated")?,
        "BitsAllocated",
    )?;
    let bits_stored = match int(path, obj, tags::BITS_STORED, "BitsStored")? {
        Some(b) => small(b, "BitsStored")?,
        None => bits_allocated,
    };
    let samples_per_pixel = match int(path, obj, tags::SAMPLES_PER_PIXEL, "SamplesPerPixel")? {
        Some(s) => small(s, "SamplesPerPixel")?,
        None => 1,
    };
    let signed = int(path, obj, tags::PIXEL_REPRESENTATION, "PixelRepresentation")? == Some(1);
    let planar_configuration =
        match int(path, obj, tags::PLANAR_CONFIGURATION, "PlanarConfiguration")? {
            Some(p) => small(p, "PlanarConfiguration")?,
            None => 0,
        };
    let frames = int(path, obj, tags::NUMBER_OF_FRAMES, "NumberOfFrames")?.unwrap_or(1);
    let photometric_interpretation = text(obj, tags::PHOTOMETRIC_INTERPRETATION)
        .unwrap_or_else(|| {
            if samples_per_pixel == 3 {
                "RGB".into()
            } else {
                "MONOCHROME2".into()
            }
        })
        .to_ascii_uppercase();
    let slope = floats(obj, tags::RESCALE_SLOPE).first().copied();
    let intercept = floats(obj, tags::RESCALE_INTERCEPT).first().copied();
    let centers = floats(obj, tags::WINDOW_CENTER);
    let widths = floats(obj, tags::WINDOW_WIDTH);
    let windows = centers.into_iter().zip(widths).collect();
    let transfer_syntax = obj.meta().transfer_syntax().to_string();
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(&transfer_syntax);
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex as _;
    Ok(DicomInfo {
        modality: text(obj, tags::MODALITY),
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        signed,
        photometric_interpretation,
        planar_configuration,
        frames,
        rescale_slope: slope.filter(|s| s.is_finite()).unwrap_or(1.0),
        rescale_intercept: intercept.filter(|i| i.is_finite()).unwrap_or(0.0),
        windows,
        voi_lut_function: text(obj, tags::VOILUT_FUNCTION)
            .unwrap_or_else(|| "LINEAR".into())
            .to_ascii_uppercase(),
        has_voi_lut: element(obj, tags::VOILUT_SEQUENCE).is_some(),
        has_modality_lut: element(obj, tags::MODALITY_LUT_SEQUENCE).is_some(),
        transfer_syntax_name: ts.map(|t| t.name().to_string()),
        decodable: ts.is_some_and(|t| t.can_decode_all()),
        transfer_syntax,
    })
}

/// Reads the image description of the DICOM file at `path` from its header (the pixel data is
/// not read): modality, size, bits, photometric interpretation, windows, transfer syntax and
/// frames, e.g. for a data set's inspection.
pub fn dicom_info(path: &Path) -> Result<DicomInfo, DataError> {
    let obj = open(path, true)?;
    info_of(path, &obj)
}

/// One decoded DICOM image, as focal stores it: channel-first (`[1, rows, columns]` or `[3,
/// rows, columns]`), bytes or 16-bit values (see [`DicomInfo::output_bits`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DicomImage {
    /// The image's shape.
    pub kind: SampleKind,
    /// Its values, `kind.len()` of them.
    pub x: Values,
}

/// Reads the DICOM image at `path` as image folders and manifests read it: the frame `frame`
/// of a multi-frame file (`None` refuses one, naming its frame count), through the modality
/// rescale and `window` (see the module documentation), MONOCHROME1 inverted. The decoder may
/// allocate at most the memory budget (`None`: the default budget), and at most 512 MiB.
pub fn read_dicom(
    path: &Path,
    window: DicomWindow,
    frame: Option<u32>,
    memory_budget: Option<u64>,
) -> Result<DicomImage, DataError> {
    let opts = DicomOptions { window, frame };
    let max_alloc = crate::folder::max_alloc(memory_budget);
    let img = decode(path, &opts, max_alloc)?;
    let color = img.color();
    let grayscale = !color.has_color();
    let deep = u16::from(color.bytes_per_pixel()) > u16::from(color.channel_count());
    let (w, h) = (img.width(), img.height());
    let channels = if grayscale { 1 } else { 3 };
    let mut px = Pixels::with_capacity(deep, channels * w as usize * h as usize);
    push_values(img, (w, h), grayscale, &mut px);
    Ok(DicomImage {
        kind: SampleKind::Image {
            channels,
            height: h as usize,
            width: w as usize,
        },
        x: px.into_values(),
    })
}

/// The most bytes one decoded image may take (the decoder's limit, as for other images).
fn check_frame_budget(path: &Path, info: &DicomInfo, max_alloc: u64) -> Result<(), DataError> {
    // The decoded frame as bytes, as the f64 values the window is computed in, and as the
    // (at most 16-bit) grey levels.
    let samples = info.frame_bytes() / u64::from(info.bits_allocated.div_ceil(8).max(1));
    let needed = info
        .frame_bytes()
        .saturating_add(samples.saturating_mul(8 + 2));
    if needed > max_alloc {
        return Err(DataError::over_budget(
            path,
            info.size_text(),
            needed,
            max_alloc,
        ));
    }
    Ok(())
}

/// Everything that is refused from the header alone, so that a data set's first pass fails
/// before any image is decoded.
fn check_header(
    path: &Path,
    info: &DicomInfo,
    opts: &DicomOptions,
    max_alloc: u64,
) -> Result<u32, DataError> {
    if !info.decodable {
        return Err(DataError::UnsupportedTransferSyntax {
            path: path.to_path_buf(),
            uid: info.transfer_syntax.clone(),
            name: info
                .transfer_syntax_name
                .clone()
                .unwrap_or_else(|| "an unknown transfer syntax".into()),
        });
    }
    if info.rows == 0 || info.columns == 0 {
        return Err(dicom_error(
            path,
            format!(
                "the image is {}x{} pixels (Rows, Columns); the header is corrupt",
                info.columns, info.rows
            ),
        ));
    }
    if ![8, 16, 32].contains(&info.bits_allocated) {
        return Err(dicom_error(
            path,
            format!(
                "BitsAllocated is {}; focal reads samples of 8, 16 or 32 bits (a 1-bit \
                 segmentation bitmap is no image to classify)",
                info.bits_allocated
            ),
        ));
    }
    if info.bits_stored == 0 || info.bits_stored > info.bits_allocated {
        return Err(dicom_error(
            path,
            format!(
                "BitsStored {} with BitsAllocated {}; BitsStored must be between 1 and \
                 BitsAllocated; fix the header",
                info.bits_stored, info.bits_allocated
            ),
        ));
    }
    let pi = info.photometric_interpretation.as_str();
    let supported = match info.samples_per_pixel {
        1 => pi == "MONOCHROME1" || pi == "MONOCHROME2",
        // Native colour is read as stored (RGB) or converted (YBR_FULL); the JPEG and JPEG
        // 2000 decoders give RGB whatever YBR form the file names (YBR_FULL_422 subsampled,
        // YBR_ICT, YBR_RCT). Native subsampled YBR is not read.
        3 if is_encapsulated(info) => {
            pi == "RGB" || (pi.starts_with("YBR_") && pi != "YBR_PARTIAL_422")
        }
        3 => pi == "RGB" || pi == "YBR_FULL",
        _ => false,
    };
    if !supported {
        return Err(dicom_error(
            path,
            format!(
                "photometric interpretation {pi} with {} samples per pixel; focal reads \
                 MONOCHROME1, MONOCHROME2, RGB and YBR_FULL (and what the JPEG decoders turn \
                 into RGB); convert the file to RGB or greyscale",
                info.samples_per_pixel
            ),
        ));
    }
    if info.has_modality_lut {
        return Err(dicom_error(
            path,
            "the file maps its values with a Modality LUT Sequence (0028,3000), which focal \
             does not apply (only RescaleSlope and RescaleIntercept); convert the file with \
             the LUT applied",
        ));
    }
    if info.frames == 0 {
        return Err(dicom_error(
            path,
            "NumberOfFrames is 0: the file holds no image",
        ));
    }
    let frame = match (opts.frame, info.frames) {
        (None, 1) => 0,
        (None, n) => {
            return Err(DataError::multi_frame(path, n));
        }
        (Some(f), n) if f >= n => {
            return Err(dicom_error(
                path,
                format!(
                    "frame {f} was asked for but the file holds {n} frame{} (numbered from \
                     0); choose a frame below {n}",
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        (Some(f), _) => f,
    };
    check_frame_budget(path, info, max_alloc)?;
    Ok(frame)
}

fn is_encapsulated(info: &DicomInfo) -> bool {
    // Every transfer syntax but the three native ones (and deflate) encapsulates pixel data.
    !matches!(
        info.transfer_syntax.as_str(),
        "1.2.840.10008.1.2"
            | "1.2.840.10008.1.2.1"
            | "1.2.840.10008.1.2.2"
            | "1.2.840.10008.1.2.1.99"
    )
}

/// Width, height, whether the image has colour, and whether it is kept at 16 bits, from the
/// header alone; refuses what [`decode`] would refuse from the header (transfer syntax,
/// frames, sizes over `max_alloc`).
pub(crate) fn probe(
    path: &Path,
    opts: &DicomOptions,
    max_alloc: u64,
) -> Result<(u32, u32, bool, bool), DataError> {
    let info = dicom_info(path)?;
    check_header(path, &info, opts, max_alloc)?;
    Ok((
        info.columns,
        info.rows,
        !info.is_monochrome(),
        info.output_bits() == 16,
    ))
}

/// Decodes the DICOM image at `path` (the chosen frame) to grey levels or RGB, 8 or 16 bits
/// (see the module documentation), its allocations limited to `max_alloc` bytes.
pub(crate) fn decode(
    path: &Path,
    opts: &DicomOptions,
    max_alloc: u64,
) -> Result<DynamicImage, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    if len > max_alloc {
        return Err(DataError::over_budget(
            path,
            "the DICOM file",
            len,
            max_alloc,
        ));
    }
    let obj = open(path, false)?;
    let info = info_of(path, &obj)?;
    let frame = check_header(path, &info, opts, max_alloc)?;
    let pixel_data = element(&obj, tags::PIXEL_DATA).ok_or_else(|| {
        dicom_error(
            path,
            "no pixel data (7FE0,0010): the header describes an image the file does not hold; \
             re-export the file with its pixels",
        )
    })?;
    if !is_encapsulated(&info) {
        let held = pixel_data.value().to_bytes().map(|b| b.len()).unwrap_or(0) as u64;
        let declared = info.frame_bytes().saturating_mul(u64::from(info.frames));
        if held < declared {
            return Err(DataError::DeclaredSize {
                path: path.to_path_buf(),
                entry: format!("{} x NumberOfFrames {}", info.size_text(), info.frames),
                declared,
                actual: held,
            });
        }
    }
    let decoded = obj.decode_pixel_data_frame(frame).map_err(|e| {
        dicom_error(
            path,
            format!(
                "cannot decode the pixel data ({}, {}): {}; convert the file to an uncompressed \
                 transfer syntax (dcmtk's dcmdjpeg, or GDCM's gdcmconv)",
                info.transfer_syntax,
                info.transfer_syntax_name.as_deref().unwrap_or("unknown"),
                chain(&e)
            ),
        )
    })?;
    let raw = decoded.data();
    let n_samples = info.rows as usize * info.columns as usize * info.samples_per_pixel as usize;
    let bytes = usize::from(info.bits_allocated / 8);
    if raw.len() < n_samples * bytes {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("frame {frame} of {}", info.size_text()),
            declared: (n_samples * bytes) as u64,
            actual: raw.len() as u64,
        });
    }
    let stored = samples(&raw[..n_samples * bytes], &info);
    let (w, h) = (info.columns, info.rows);
    if info.is_monochrome() {
        let voi = voi_lut_of(&decoded);
        let t = grey_levels(stored, &info, opts.window, voi.as_ref())
            .map_err(|reason| dicom_error(path, reason))?;
        let image = if info.output_bits() == 16 {
            let v: Vec<u16> = t.iter().map(|&t| (t * 65535.0).round() as u16).collect();
            ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma16)
        } else {
            let v: Vec<u8> = t.iter().map(|&t| (t * 255.0).round() as u8).collect();
            ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma8)
        };
        return image.ok_or_else(|| dicom_error(path, "the decoded frame has the wrong size"));
    }
    // Colour: the decoders give interleaved RGB; native data may be by plane, or YBR_FULL.
    let planar = !is_encapsulated(&info) && info.planar_configuration == 1;
    let mut rgb = interleaved(stored, planar);
    let ybr = !is_encapsulated(&info) && info.photometric_interpretation == "YBR_FULL";
    let max = ((1u64 << info.bits_stored) - 1) as f64;
    if ybr {
        ybr_to_rgb(&mut rgb, max);
    }
    let image = if info.output_bits() == 16 {
        let v: Vec<u16> = rgb
            .iter()
            .map(|&s| ((s.clamp(0.0, max) / max) * 65535.0).round() as u16)
            .collect();
        ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb16)
    } else {
        let v: Vec<u8> = rgb
            .iter()
            .map(|&s| ((s.clamp(0.0, max) / max) * 255.0).round() as u8)
            .collect();
        ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| dicom_error(path, "the decoded frame has the wrong size"))
}

/// The samples of one frame (little-endian, `bits_allocated` each) as numbers: bits above
/// `BitsStored` dropped, sign-extended when the pixel representation is signed (as pydicom's
/// `pixel_array` gives them).
fn samples(raw: &[u8], info: &DicomInfo) -> Vec<f64> {
    let bits = u32::from(info.bits_stored);
    let value = |v: u32| -> f64 {
        let mask = if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        };
        let v = v & mask;
        if info.signed && bits < 32 && v & (1 << (bits - 1)) != 0 {
            f64::from(v) - f64::from(1u32 << (bits - 1)) * 2.0
        } else if info.signed && bits == 32 {
            f64::from(v as i32)
        } else {
            f64::from(v)
        }
    };
    match info.bits_allocated {
        8 => raw.iter().map(|&b| value(u32::from(b))).collect(),
        16 => raw
            .chunks_exact(2)
            .map(|c| value(u32::from(u16::from_le_bytes([c[0], c[1]]))))
            .collect(),
        _ => raw
            .chunks_exact(4)
            .map(|c| value(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
    }
}

/// Colour samples as interleaved RGB: kept as they are, or gathered from three planes.
fn interleaved(samples: Vec<f64>, planar: bool) -> Vec<f64> {
    if !planar {
        return samples;
    }
    let plane = samples.len() / 3;
    let mut out = Vec::with_capacity(samples.len());
    for p in 0..plane {
        for c in 0..3 {
            out.push(samples[c * plane + p]);
        }
    }
    out
}

/// YBR_FULL to RGB in place (PS3.3 C.7.6.3.1.2, as pydicom's `convert_color_space`), values in
/// `[0, max]`.
fn ybr_to_rgb(v: &mut [f64], max: f64) {
    let half = (max + 1.0) / 2.0;
    for px in v.chunks_exact_mut(3) {
        let (y, cb, cr) = (px[0], px[1] - half, px[2] - half);
        px[0] = (y + 1.402 * cr).clamp(0.0, max).round();
        px[1] = (y - 0.344136 * cb - 0.714136 * cr).clamp(0.0, max).round();
        px[2] = (y + 1.772 * cb).clamp(0.0, max).round();
    }
}

/// A VOI LUT: the first input value mapped, the table, and the bits of its entries.
#[derive(Debug, Clone, PartialEq)]
struct VoiLut {
    first: f64,
    data: Vec<u16>,
    bits: u8,
}

fn voi_lut_of(decoded: &dicom_pixeldata::DecodedPixelData<'_>) -> Option<VoiLut> {
    let luts = decoded.voi_lut_sequence().ok().flatten()?;
    let lut = luts.first()?;
    (!lut.data.is_empty()).then(|| VoiLut {
        first: f64::from(lut.min_pixel_value),
        data: lut.data.clone(),
        bits: lut.bits_stored.clamp(1, 16),
    })
}

/// Greyscale samples through the modality rescale, the VOI step and MONOCHROME1's inversion,
/// as values in `[0, 1]`, computed in place (one `f64` per sample in all). Errors are reasons
/// (the caller names the file).
fn grey_levels(
    mut v: Vec<f64>,
    info: &DicomInfo,
    window: DicomWindow,
    voi_lut: Option<&VoiLut>,
) -> Result<Vec<f64>, String> {
    for x in &mut v {
        *x = *x * info.rescale_slope + info.rescale_intercept;
    }
    let file_window = info.windows.first().copied();
    match (window, voi_lut, file_window) {
        (DicomWindow::File, Some(lut), _) => {
            let top = f64::from((1u32 << lut.bits) - 1);
            let last = lut.data.len().saturating_sub(1);
            for x in &mut v {
                let i = (*x - lut.first).clamp(0.0, last as f64) as usize;
                *x = lut
                    .data
                    .get(i)
                    .map_or(0.0, |&e| (f64::from(e) / top).clamp(0.0, 1.0));
            }
        }
        (DicomWindow::File, None, Some((c, w))) => match info.voi_lut_function.as_str() {
            "LINEAR" | "" => {
                if w < 1.0 {
                    return Err(format!(
                        "its window width {w} is below 1, which DICOM's LINEAR function does \
                         not allow; choose the min-max window or an explicit one"
                    ));
                }
                linear(&mut v, c - 0.5, w - 1.0);
            }
            "LINEAR_EXACT" | "SIGMOID" if w <= 0.0 => {
                return Err(format!(
                    "its window width {w} is not positive; choose the min-max window or an \
                     explicit one"
                ));
            }
            "LINEAR_EXACT" => linear(&mut v, c, w),
            "SIGMOID" => {
                for x in &mut v {
                    *x = 1.0 / (1.0 + (-4.0 * (*x - c) / w).exp());
                }
            }
            other => {
                return Err(format!(
                    "VOI LUT function `{other}` is none of LINEAR, LINEAR_EXACT and SIGMOID; \
                     choose the min-max window or an explicit one"
                ));
            }
        },
        (DicomWindow::Explicit { center, width }, _, _) => {
            linear(&mut v, center - 0.5, width - 1.0);
        }
        (DicomWindow::File, None, None) | (DicomWindow::MinMax, _, _) => min_max(&mut v),
    }
    if info.photometric_interpretation == "MONOCHROME1" {
        for x in &mut v {
            *x = 1.0 - *x;
        }
    }
    Ok(v)
}

/// DICOM's linear window with the adjusted centre `c` and width `w` (LINEAR passes `c - 0.5`
/// and `w - 1`), in place, as pydicom's `apply_windowing` compares: `x <= c - w/2` is 0,
/// `x > c + w/2` is 1, values between are `(x - c) / w + 0.5`.
fn linear(v: &mut [f64], c: f64, w: f64) {
    for x in v {
        *x = if *x <= c - w / 2.0 {
            0.0
        } else if *x > c + w / 2.0 {
            1.0
        } else {
            ((*x - c) / w + 0.5).clamp(0.0, 1.0)
        };
    }
}

/// The image's own range stretched to `[0, 1]`, in place; a flat image is 0.
fn min_max(v: &mut [f64]) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for x in v {
        *x = if hi > lo { (*x - lo) / (hi - lo) } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mono(bits_stored: u16, signed: bool) -> DicomInfo {
        DicomInfo {
            modality: None,
            rows: 1,
            columns: 4,
            samples_per_pixel: 1,
            bits_allocated: 16,
            bits_stored,
            signed,
            photometric_interpretation: "MONOCHROME2".into(),
            planar_configuration: 0,
            frames: 1,
            rescale_slope: 1.0,
            rescale_intercept: 0.0,
            windows: vec![],
            voi_lut_function: "LINEAR".into(),
            has_voi_lut: false,
            has_modality_lut: false,
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            transfer_syntax_name: Some("Explicit VR Little Endian".into()),
            decodable: true,
        }
    }

    #[test]
    fn windows_parse_from_text() {
        assert_eq!("file".parse::<DicomWindow>().unwrap(), DicomWindow::File);
        assert_eq!(
            "MinMax".parse::<DicomWindow>().unwrap(),
            DicomWindow::MinMax
        );
        assert_eq!(
            " 40, 400".parse::<DicomWindow>().unwrap(),
            DicomWindow::Explicit {
                center: 40.0,
                width: 400.0
            }
        );
        for bad in ["40", "a,400", "40,0.5", "40,inf", ""] {
            let e = bad.parse::<DicomWindow>().unwrap_err().to_string();
            assert!(e.contains("DICOM window"), "{bad}: {e}");
        }
        let w = DicomWindow::Explicit {
            center: -600.0,
            width: 1500.0,
        };
        assert_eq!(w.to_string().parse::<DicomWindow>().unwrap(), w);
    }

    #[test]
    fn samples_keep_stored_bits_and_sign() {
        // 12 bits stored in 16: the top nibble (an overlay, say) is dropped; signed extends.
        let raw = [0xFF, 0xFF, 0x00, 0x08, 0x01, 0xF0];
        assert_eq!(samples(&raw, &mono(12, false)), vec![4095.0, 2048.0, 1.0]);
        assert_eq!(samples(&raw, &mono(12, true)), vec![-1.0, -2048.0, 1.0]);
        assert_eq!(samples(&raw, &mono(16, true)), vec![-1.0, 2048.0, -4095.0]);
    }

    #[test]
    fn the_linear_window_follows_dicom() {
        // c = 50, w = 11 (LINEAR): c' = 49.5, w' = 10; 44.5 and below black, above 54.5 white.
        let info = DicomInfo {
            windows: vec![(50.0, 11.0)],
            ..mono(16, false)
        };
        let t = grey_levels(vec![44.5, 49.5, 54.5, 54.6], &info, DicomWindow::File, None).unwrap();
        assert_eq!(t, vec![0.0, 0.5, 1.0, 1.0]);
        // MONOCHROME1 inverts after the window; the explicit window ignores the file's.
        let info1 = DicomInfo {
            photometric_interpretation: "MONOCHROME1".into(),
            ..info.clone()
        };
        let t = grey_levels(vec![44.5, 49.5, 60.0], &info1, DicomWindow::File, None).unwrap();
        assert_eq!(t, vec![1.0, 0.5, 0.0]);
        let e = DicomWindow::Explicit {
            center: 0.5,
            width: 2.0,
        };
        // c = 0.5, w = 2: c' = 0, w' = 1.
        assert_eq!(
            grey_levels(vec![-1.0, 0.0, 0.25, 1.0], &info, e, None).unwrap(),
            vec![0.0, 0.5, 0.75, 1.0]
        );
        // Rescale first: stored 1024 with intercept -1024 is 0 HU.
        let ct = DicomInfo {
            rescale_intercept: -1024.0,
            ..mono(16, false)
        };
        let e = DicomWindow::Explicit {
            center: 0.5,
            width: 2.0,
        };
        assert_eq!(grey_levels(vec![1024.0], &ct, e, None).unwrap(), vec![0.5]);
    }

    #[test]
    fn exact_sigmoid_lut_and_min_max() {
        let exact = DicomInfo {
            windows: vec![(10.0, 4.0)],
            voi_lut_function: "LINEAR_EXACT".into(),
            ..mono(16, false)
        };
        let t = grey_levels(vec![8.0, 10.0, 12.0, 13.0], &exact, DicomWindow::File, None).unwrap();
        assert_eq!(t, vec![0.0, 0.5, 1.0, 1.0]);
        let sigmoid = DicomInfo {
            voi_lut_function: "SIGMOID".into(),
            ..exact.clone()
        };
        let t = grey_levels(vec![10.0], &sigmoid, DicomWindow::File, None).unwrap();
        assert_eq!(t, vec![0.5]);
        let lut = VoiLut {
            first: 2.0,
            data: vec![0, 100, 255],
            bits: 8,
        };
        let t = grey_levels(vec![0.0, 3.0, 9.0], &exact, DicomWindow::File, Some(&lut)).unwrap();
        assert_eq!(t, vec![0.0, 100.0 / 255.0, 1.0]);
        // Min-max stretches the image's own range; a flat image is black.
        let t = grey_levels(
            vec![-5.0, 0.0, 5.0],
            &mono(16, true),
            DicomWindow::File,
            None,
        )
        .unwrap();
        assert_eq!(t, vec![0.0, 0.5, 1.0]);
        let mut flat = [3.0, 3.0];
        min_max(&mut flat);
        assert_eq!(flat, [0.0, 0.0]);
        let bad = DicomInfo {
            windows: vec![(10.0, 0.5)],
            ..mono(16, false)
        };
        let e = grey_levels(vec![1.0], &bad, DicomWindow::File, None).unwrap_err();
        assert!(e.contains("below 1"), "{e}");
    }

    #[test]
    fn colour_planes_interleave_and_ybr_converts() {
        assert_eq!(
            interleaved(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], true),
            vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
        );
        // Grey in YBR (Cb = Cr = 128) is grey in RGB.
        let mut v = vec![90.0, 128.0, 128.0];
        ybr_to_rgb(&mut v, 255.0);
        assert_eq!(v, vec![90.0, 90.0, 90.0]);
    }
}
