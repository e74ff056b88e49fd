#!/usr/bin/env python3
"""Writes the hostile DICOM part of the corpus, tests/corpus/dicom/ (small files only).

Python's standard library alone: every byte of each DICOM file is written here (a 128-byte
preamble, `DICM`, the file meta group, then the data set in Explicit VR Little Endian), so the
corpus is reproducible without pydicom. Each case is an image folder, as scripts/make_corpus.py
writes its image cases: a class folder `a` with two good PNGs, and a class folder `b` holding
the hostile file. Run from the repository root:

    python3 scripts/make_dicom_corpus.py

The cases and the messages expected are listed in crates/focal-data/tests/hostile_dicom.rs.
"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus", "dicom")

EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_LS = "1.2.840.10008.1.2.4.80"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
LONG_VRS = {"OB", "OW", "OF", "SQ", "UT", "UN"}


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def element(group, elem, vr, value):
    if isinstance(value, str):
        pad = b"\0" if vr == "UI" else b" "
        value = value.encode()
        if len(value) % 2:
            value += pad
    elif isinstance(value, int):
        value = struct.pack("<H", value) if vr == "US" else struct.pack("<I", value)
    head = struct.pack("<HH", group, elem) + vr.encode()
    if vr in LONG_VRS:
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def dicom(elements, transfer_syntax=EXPLICIT_LE, raw_tail=b""):
    """A DICOM file: `elements` ((group, elem, vr, value), sorted here) after the meta group."""
    meta_body = (element(0x0002, 0x0001, "OB", b"\0\1")
                 + element(0x0002, 0x0002, "UI", SECONDARY_CAPTURE)
                 + element(0x0002, 0x0003, "UI", "1.2.826.0.1.3680043.8.498.1")
                 + element(0x0002, 0x0010, "UI", transfer_syntax))
    meta = element(0x0002, 0x0000, "UL", len(meta_body)) + meta_body
    body = b"".join(element(*e) for e in sorted(elements, key=lambda e: (e[0], e[1])))
    return b"\0" * 128 + b"DICM" + meta + body + raw_tail


def image_header(rows, cols, frames=None, bits=16):
    e = [
        (0x0008, 0x0016, "UI", SECONDARY_CAPTURE),
        (0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.8.498.1"),
        (0x0008, 0x0060, "CS", "OT"),
        (0x0028, 0x0002, "US", 1),
        (0x0028, 0x0004, "CS", "MONOCHROME2"),
        (0x0028, 0x0010, "US", rows),
        (0x0028, 0x0011, "US", cols),
        (0x0028, 0x0100, "US", bits),
        (0x0028, 0x0101, "US", bits),
        (0x0028, 0x0102, "US", bits - 1),
        (0x0028, 0x0103, "US", 0),
    ]
    if frames is not None:
        e.append((0x0028, 0x0008, "IS", str(frames)))
    return e


def pixels(n_bytes):
    return bytes((i * 7) % 256 for i in range(n_bytes))


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def grey_png(seed):
    rows = [bytes((x * 17 + y * 5 + seed) % 256 for x in range(8)) for y in range(8)]
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def case(name, file_name, data):
    write(f"{name}/a/ok.png", grey_png(0))
    write(f"{name}/a/ok2.png", grey_png(9))
    write(f"{name}/b/{file_name}", data)


# An image header and no pixel data at all.
case("no-pixel-data", "empty.dcm", dicom(image_header(8, 8)))
# Pixel data whose element declares 128 bytes, in a file that ends after 40 of them.
case("truncated-pixel-data", "cut.dcm",
     dicom(image_header(8, 8)
           + [(0x7FE0, 0x0010, "OW", pixels(128))])[:-88])
# A complete element of 40 bytes where 8 x 8 x 16 bits need 128.
case("short-pixel-data", "short.dcm",
     dicom(image_header(8, 8) + [(0x7FE0, 0x0010, "OW", pixels(40))]))
# 65535 x 65535 at 16 bits (8.6 GB) declared over 32 bytes: refused from the header.
case("huge-declared", "huge.dcm",
     dicom(image_header(65535, 65535) + [(0x7FE0, 0x0010, "OW", pixels(32))]))
# Three frames and no frame chosen.
case("multi-frame", "cine.dcm",
     dicom(image_header(4, 4, frames=3) + [(0x7FE0, 0x0010, "OW", pixels(3 * 32))]))
# JPEG-LS pixel data (encapsulated: an empty offset table, one fragment, the delimiter),
# which focal's pure-Rust decoders do not read.
fragment = b"\xff\xd8\xff\xf7" + pixels(30) + b"\xff\xd9"
encapsulated = (struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\0\0" + struct.pack("<I", 0xFFFFFFFF)
                + struct.pack("<HHI", 0xFFFE, 0xE000, 0)
                + struct.pack("<HHI", 0xFFFE, 0xE000, len(fragment)) + fragment
                + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
case("unsupported-transfer-syntax", "jpegls.dcm",
     dicom(image_header(8, 8), transfer_syntax=JPEG_LS, raw_tail=encapsulated))
# A DICOM object that is no image (a structured report: no Rows, no pixel data).
case("not-an-image", "report.dcm",
     dicom([(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.88.11"),
            (0x0008, 0x0060, "CS", "SR")]))
# Text named .dcm.
case("text-named-dcm", "notes.dcm", b"these are notes, not a DICOM file\n" * 8)

print("corpus written to", os.path.normpath(ROOT))
