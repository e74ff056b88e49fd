//! A frame's samples to grey levels: stored values, the modality rescale, the VOI window or
//! LUT, MONOCHROME1 inverted (see the module docs of `dicom`).

use super::header::{DicomInfo, DicomWindow};

/// The samples of one frame (little-endian, `bits_allocated` each) as numbers: bits above
/// `BitsStored` dropped, sign-extended when the pixel representation is signed (as pydicom's
/// `pixel_array` gives them).
pub(super) fn samples(raw: &[u8], info: &DicomInfo) -> Vec<f64> {
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
pub(super) fn interleaved(samples: Vec<f64>, planar: bool) -> Vec<f64> {
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
pub(super) fn ybr_to_rgb(v: &mut [f64], max: f64) {
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
pub(super) struct VoiLut {
    pub(super) first: f64,
    pub(super) data: Vec<u16>,
    pub(super) bits: u8,
}

pub(super) fn voi_lut_of(decoded: &dicom_pixeldata::DecodedPixelData<'_>) -> Option<VoiLut> {
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
pub(super) fn grey_levels(
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
pub(super) fn linear(v: &mut [f64], c: f64, w: f64) {
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
pub(super) fn min_max(v: &mut [f64]) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for x in v {
        *x = if hi > lo { (*x - lo) / (hi - lo) } else { 0.0 };
    }
}
