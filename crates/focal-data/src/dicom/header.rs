//! A DICOM file's header as focal reads it ([`DicomInfo`]), and the window that maps its
//! values to grey levels ([`DicomWindow`]).

use crate::error::DataError;
use crate::setting::DataSetting;
use std::str::FromStr;

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
    pub(crate) fn frame_bytes(&self) -> u64 {
        u64::from(self.rows)
            * u64::from(self.columns)
            * u64::from(self.samples_per_pixel)
            * u64::from(self.bits_allocated.div_ceil(8))
    }

    pub(crate) fn size_text(&self) -> String {
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
