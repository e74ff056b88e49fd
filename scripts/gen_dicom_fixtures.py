"""DICOM fixtures for focal-data (issue 29, item 5): a few of the real DICOM test files that
ship inside pydicom's wheel, copied, with the values pydicom computes from each as JSON, so that
focal's decoder is checked against pydicom without Python in the test suite.

For each file: pydicom's `pixel_array` (the stored values), `apply_modality_lut` (rescale
slope/intercept), `apply_voi_lut` (the file's VOI LUT or window, with its VOI LUT function), and
the grey levels focal should produce from them:

  greyscale  t = (voi - y_min) / (y_max - y_min)   with the file's window, pydicom's output
                                                 range (y_min, y_max from BitsStored, rescaled)
             t = (m - min) / (max - min)           without a window (focal's min-max), m the
                                                 modality output, min/max of the image
             t = 1 - t                             for MONOCHROME1
             grey = floor(t * S + 0.5), S = 65535 when BitsStored > 8, else 255
  colour     grey = floor(v / (2^BitsStored - 1) * S + 0.5), S = 65535 when BitsAllocated > 8

A second variant of CT_small uses an explicit window (centre 40, width 400: pydicom's
`apply_windowing` on a copy of the data set given that window).

Two files are derived here from MR_small.dcm, by pydicom, changing one attribute each, because
the wheel ships no such file: a MONOCHROME1 copy (PhotometricInterpretation) and a SIGMOID copy
(VOILUTFunction).

Large images are sampled: the arrays hold the values at indices 0, k, 2k, ... of the flat image
(row-major, RGB interleaved), k = ceil(n / 4096), and the JSON says k; the modality and VOI
arrays hold the first 256 of those.

Writes crates/focal-data/tests/fixtures/dicom/{*.dcm, expected.json}.

Run (from the repository root):
    python3 -m venv /tmp/dicom-venv
    /tmp/dicom-venv/bin/pip install pydicom==3.0.2 numpy pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg
    /tmp/dicom-venv/bin/python scripts/gen_dicom_fixtures.py
Versions used: pydicom 3.0.2, numpy 2.4.6, pylibjpeg 2.1.0, pylibjpeg-libjpeg 2.5.0,
pylibjpeg-openjpeg 2.6.0 (JPEG and JPEG 2000 decoding for pydicom only).
"""
import copy
import json
import math
import os
import shutil

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_windowing

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "focal-data",
                   "tests", "fixtures", "dicom")
MAX_SAMPLES = 4096
DETAIL = 256

# (file in pydicom's test data, what it exercises, frame read or None)
FILES = [
    ("CT_small.dcm", "CT, signed 16 bits, rescale intercept -1024, no window (min-max)", None),
    ("MR_small.dcm", "MR, signed 16 bits, window 600/1600", None),
    ("MR_small_RLE.dcm", "the same image, RLE Lossless", None),
    ("MR_small_bigendian.dcm", "the same image, Explicit VR Big Endian", None),
    ("MR_small_jp2klossless.dcm", "the same image, JPEG 2000 lossless", None),
    # JPEG-lossy.dcm holds the same image with a malformed scan header, which pydicom's own
    # decoders (libjpeg, Pillow) refuse; JPGExtended.dcm is its repaired copy. The malformed
    # one is copied too, without values: focal must refuse it (or decode it) without panicking.
    ("JPGExtended.dcm", "NM, 12 bits, JPEG extended (process 2 and 4), lossy", None),
    ("JPEG2000.dcm", "NM, signed 16 bits, JPEG 2000", None),
    ("SC_rgb_small_odd.dcm", "RGB 8 bits, native, 3x3", None),
    ("SC_rgb_rle.dcm", "RGB 8 bits, RLE Lossless", None),
    ("SC_rgb_rle_16bit.dcm", "RGB 16 bits, RLE Lossless", None),
    ("SC_rgb_jpeg_dcmtk.dcm", "YBR_FULL 8 bits, JPEG baseline (converted to RGB)", None),
    ("SC_rgb_rle_2frame.dcm", "RGB 8 bits, RLE, two frames: frame 1 read", 1),
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", "YBR_FULL_422 8 bits, JPEG baseline (converted to RGB)", None),
    ("SC_rgb_jpeg_gdcm.dcm", "RGB 8 bits, JPEG lossless (process 14, selection value 1)", None),
    ("693_J2KI.dcm", "CT, signed 14 of 16 bits, JPEG 2000, rescale and window 40/100", None),
    ("rtdose_1frame.dcm", "RT dose, 32 bits unsigned, no window (min-max)", None),
]
DERIVED = [
    ("MR_small_monochrome1.dcm", "MR_small.dcm", "PhotometricInterpretation", "MONOCHROME1",
     "MR_small with PhotometricInterpretation MONOCHROME1 (inverted after the window)"),
    ("MR_small_sigmoid.dcm", "MR_small.dcm", "VOILUTFunction", "SIGMOID",
     "MR_small with VOILUTFunction SIGMOID"),
]


def y_range(ds):
    """pydicom's output range of apply_windowing (processing.py): BitsStored, rescaled."""
    bits = int(ds.BitsStored)
    if int(ds.PixelRepresentation) == 0:
        lo, hi = 0.0, float(2 ** bits - 1)
    else:
        lo, hi = float(-(2 ** (bits - 1))), float(2 ** (bits - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        lo = lo * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        hi = hi * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return lo, hi


def sampled(flat, stride):
    return flat[::stride]


def case(name, ds, what, frame, window=None):
    arr = ds.pixel_array
    if frame is not None:
        arr = arr[frame]
    mono = ds.PhotometricInterpretation.startswith("MONOCHROME")
    bits_stored = int(ds.BitsStored)
    out = {
        "file": name,
        "what": what,
        "frame": frame,
        "photometric_interpretation": str(ds.PhotometricInterpretation),
        "transfer_syntax": str(ds.file_meta.TransferSyntaxUID),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.SamplesPerPixel),
        "bits_stored": bits_stored,
        "bits_allocated": int(ds.BitsAllocated),
    }
    if mono:
        m = apply_modality_lut(arr, ds).astype(np.float64)
        if window is not None:
            w = copy.deepcopy(ds)
            w.WindowCenter, w.WindowWidth = window
            if "VOILUTFunction" in w:
                del w.VOILUTFunction
            voi = apply_windowing(m.copy(), w).astype(np.float64)
            out["window"] = {"center": window[0], "width": window[1]}
            lo, hi = y_range(ds)
            t = (voi - lo) / (hi - lo)
            levels = hi - lo
            out["voi_applied"] = "explicit window"
        elif ("WindowCenter" in ds and "WindowWidth" in ds) or "VOILUTSequence" in ds:
            voi = apply_voi_lut(m.copy(), ds).astype(np.float64)
            lo, hi = y_range(ds)
            t = (voi - lo) / (hi - lo)
            levels = hi - lo
            out["voi_applied"] = "file window " + str(ds.get("VOILUTFunction", "LINEAR"))
        else:
            voi = m.copy()
            lo, hi = float(m.min()), float(m.max())
            t = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
            levels = max(hi - lo, 1.0)
            out["voi_applied"] = "min-max (no window in the file)"
        if ds.PhotometricInterpretation == "MONOCHROME1":
            t = 1.0 - t
        scale = 65535 if bits_stored > 8 else 255
        expected = np.floor(np.clip(t, 0.0, 1.0) * scale + 0.5).astype(np.int64)
        out["y_min"], out["y_max"] = lo, hi
    else:
        m = voi = None
        scale = 65535 if int(ds.BitsAllocated) > 8 else 255
        levels = float(2 ** bits_stored - 1)
        expected = np.floor(arr.astype(np.float64) / levels * scale + 0.5).astype(np.int64)
    flat = arr.reshape(-1)
    stride = max(1, math.ceil(flat.size / MAX_SAMPLES))
    out["output_bits"] = 16 if scale == 65535 else 8
    # One grey level of the windowed range, in output units (at least 1: rounding).
    out["tolerance"] = max(1, math.ceil(scale / levels))
    out["stride"] = stride
    out["n_values"] = int(flat.size)
    out["stored"] = [int(v) for v in sampled(flat, stride)]
    out["expected"] = [int(v) for v in sampled(expected.reshape(-1), stride)]
    out["expected_mean"] = float(expected.mean())
    if m is not None:
        out["modality"] = [float(v) for v in sampled(m.reshape(-1), stride)[:DETAIL]]
        out["voi"] = [round(float(v), 6) for v in sampled(voi.reshape(-1), stride)[:DETAIL]]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for name, what, frame in FILES:
        src = get_testdata_file(name)
        shutil.copyfile(src, os.path.join(OUT, name))
        ds = pydicom.dcmread(src)
        cases.append(case(name, ds, what, frame))
        if name == "CT_small.dcm":
            c = case(name, ds, what + ", explicit window 40/400", frame, window=(40.0, 400.0))
            c["variant"] = "explicit"
            cases.append(c)
    shutil.copyfile(get_testdata_file("JPEG-lossy.dcm"), os.path.join(OUT, "JPEG-lossy.dcm"))
    for name, base, attr, value, what in DERIVED:
        ds = pydicom.dcmread(get_testdata_file(base))
        setattr(ds, attr, value)
        path = os.path.join(OUT, name)
        ds.save_as(path, enforce_file_format=True)
        cases.append(case(name, pydicom.dcmread(path), what, None))
    meta = {
        "generator": "scripts/gen_dicom_fixtures.py",
        "pydicom": pydicom.__version__,
        "numpy": np.__version__,
        "source": "pydicom's test files (pydicom/data/test_files, MIT licence)",
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(cases)} cases written to {os.path.normpath(OUT)} ({total} bytes)")


if __name__ == "__main__":
    main()
