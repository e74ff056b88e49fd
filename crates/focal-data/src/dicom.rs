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
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions, Tag};
use dicom_pixeldata::PixelDecoder;
use image::{DynamicImage, ImageBuffer};

use crate::dataset::{SampleKind, Values};
use crate::error::DataError;
use crate::pixels::{Pixels, push_values};

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
    let max_alloc = crate::pixels::max_alloc(memory_budget);
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

mod header;
mod values;

pub(crate) use header::DicomOptions;
pub use header::{DicomInfo, DicomWindow};
#[cfg(test)]
use values::{VoiLut, min_max};
use values::{grey_levels, interleaved, samples, voi_lut_of, ybr_to_rgb};

#[cfg(test)]
mod tests;
