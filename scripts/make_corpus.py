#!/usr/bin/env python3
"""Writes the committed part of the hostile-input corpus, tests/corpus/ (small files only).

Python's standard library alone (zlib, struct, zipfile, pickle): every byte is written here, so
the corpus is reproducible without numpy, PIL or torch. Inputs that would be large (a gzip bomb,
an NPZ whose member expands to gigabytes, a header of a million columns) and those git cannot
hold (symbolic links, pipes, unreadable files, trained run folders) are made by the test itself,
crates/focal-cli/tests/corpus.rs. Run from the repository root:

    python3 scripts/make_corpus.py

The cases, their commands and the messages expected are listed in corpus.rs (and RELIABILITY.md).
"""
import gzip
import io
import os
import pickle
import shutil
import struct
import zipfile
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus")


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- IDX
def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gz(data):
    # mtime 0: the same bytes on every run.
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()


IMG = idx(0x803, [10, 4, 4], [(i * 7) % 256 for i in range(160)])
LAB = idx(0x801, [10], [i % 2 for i in range(10)])


def idx_case(name, images, labels=LAB, images_name="train-images-idx3-ubyte",
             labels_name="train-labels-idx1-ubyte"):
    write(f"idx/{name}/{images_name}", images)
    if labels is not None:
        write(f"idx/{name}/{labels_name}", labels)


idx_case("truncated-header", IMG[:6])
idx_case("wrong-magic", idx(0x801, [10, 4, 4], IMG[16:]))
idx_case("wrong-rank", idx(0x804, [10, 4, 4, 1], IMG[16:]))
idx_case("float-dtype", idx(0x0D03, [10, 4, 4], IMG[16:]))
idx_case("declared-beyond-file", idx(0x803, [1000, 4, 4], IMG[16:]))
idx_case("trailing-bytes", IMG + b"\0" * 7)
idx_case("count-mismatch", IMG, idx(0x801, [9], [0] * 9))
idx_case("labels-wrong-magic", IMG, idx(0x803, [10], [0] * 10))
idx_case("labels-truncated", IMG, LAB[:12])
idx_case("dims-overflow", idx(0x803, [0xFFFFFFFF] * 3, [1, 2, 3]))
idx_case("zero-images", idx(0x803, [0, 4, 4], []), idx(0x801, [0], []))
idx_case("images-without-labels", IMG, None)
idx_case("gz-truncated", gz(IMG)[:30], images_name="train-images-idx3-ubyte.gz")
idx_case("gz-declared-beyond-data", gz(idx(0x803, [100000, 4, 4], IMG[16:])),
         images_name="train-images-idx3-ubyte.gz")
idx_case("gz-corrupt-stream", gz(IMG)[:10] + b"\xff" * 40, images_name="train-images-idx3-ubyte.gz")
idx_case("classes-txt-too-short", IMG)
write("idx/classes-txt-too-short/classes.txt", "only-one\n")

# ---------------------------------------------------------------- NPZ
def npy(descr, shape, data, fortran=False, version=1, magic=b"\x93NUMPY"):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")"
    if len(shape) > 1:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    header = header.encode()
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + b" " * pad + b"\n"
    return magic + bytes([version, 0]) + struct.pack("<H", len(header)) + header + bytes(data)


def npz(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


IMGS = npy("|u1", [10, 4, 4], [(i * 5) % 256 for i in range(160)])
LABS = npy("<i8", [10], b"".join(struct.pack("<q", i % 2) for i in range(10)))
GOOD = {"images.npy": IMGS, "labels.npy": LABS}

write("npz/not-a-zip.npz", "this is text, not a zip archive\n")
write("npz/empty.npz", b"")
write("npz/truncated.npz", npz(GOOD)[:200])
write("npz/missing-arrays.npz", npz({"weights.npy": IMGS}))
write("npz/missing-labels.npz", npz({"train_images.npy": IMGS}))
write("npz/float-images.npz", npz({"images.npy": npy("<f4", [10, 4, 4], b"\0" * 640), "labels.npy": LABS}))
write("npz/object-array.npz", npz({"images.npy": IMGS,
                                   "labels.npy": npy("|O", [10], pickle.dumps(list(range(10)), protocol=2))}))
write("npz/fortran-order.npz", npz({"images.npy": npy("|u1", [10, 4, 4], [0] * 160, fortran=True),
                                    "labels.npy": LABS}))
write("npz/declared-beyond-entry.npz", npz({"images.npy": npy("|u1", [1000, 4, 4], [0] * 160),
                                            "labels.npy": LABS}))
write("npz/bad-npy-magic.npz", npz({"images.npy": npy("|u1", [10, 4, 4], [0] * 160, magic=b"\x93NUMPZ"),
                                    "labels.npy": LABS}))
write("npz/npy-version-9.npz", npz({"images.npy": npy("|u1", [10, 4, 4], [0] * 160, version=9),
                                    "labels.npy": LABS}))
write("npz/header-beyond-entry.npz", npz({"images.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr'",
                                          "labels.npy": LABS}))
write("npz/count-mismatch.npz", npz({"images.npy": IMGS,
                                     "labels.npy": npy("<i8", [8], b"\0" * 64)}))
write("npz/negative-label.npz", npz({"images.npy": IMGS,
                                     "labels.npy": npy("|i1", [10], [0, 1, 0, 1, 0, 1, 0, 1, 0, 0xFF])}))
write("npz/huge-label.npz", npz({"images.npy": IMGS,
                                 "labels.npy": npy("<i8", [10], b"".join(
                                     struct.pack("<q", 4_000_000_000 if i == 3 else i % 2) for i in range(10)))}))
write("npz/images-rank-2.npz", npz({"images.npy": npy("|u1", [10, 16], [0] * 160), "labels.npy": LABS}))
write("npz/labels-2d.npz", npz({"images.npy": IMGS, "labels.npy": npy("<i8", [10, 3], b"\0" * 240)}))
write("npz/header-without-shape.npz", npz({
    "images.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"{'descr': '|u1', 'fortran_order': False, }".ljust(53) + b"\n" + bytes(160),
    "labels.npy": LABS}))
write("npz/split-shapes-differ.npz", npz({
    "train_images.npy": IMGS, "train_labels.npy": LABS,
    "val_images.npy": npy("|u1", [10, 5, 5], [0] * 250), "val_labels.npy": LABS}))

# ---------------------------------------------------------------- images
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, rows, bit_depth=8, color_type=0, extra=b"", channels=1):
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + extra
            + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def grey(width=8, height=8, seed=0):
    return png(width, height, [bytes((x * 17 + y * 5 + seed) % 256 for x in range(width)) for y in range(height)])


OK = grey()


def folder_case(name, files):
    """A class folder `a` with a good image, and `files` ({relative path: bytes})."""
    write(f"img/{name}/a/ok.png", OK)
    write(f"img/{name}/a/ok2.png", grey(seed=9))
    for rel, data in files.items():
        write(f"img/{name}/{rel}", data)


folder_case("truncated-png", {"b/bad.png": OK[:40], "b/ok.png": grey(seed=3)})
folder_case("zero-byte-png", {"b/empty.png": b""})
folder_case("huge-declared-png", {"b/huge.png": png(100000, 100000, [bytes(100000)] * 2)})
folder_case("text-named-png", {"b/notes.png": "these are notes, not an image\n"})
def bad_idat_crc(data):
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4:at])[0]
    crc = at + 4 + length
    return data[:crc] + bytes(b ^ 0xFF for b in data[crc:crc + 4]) + data[crc + 4:]


folder_case("png-bad-crc", {"b/bad.png": bad_idat_crc(OK)})
folder_case("png-bad-zlib", {"b/bad.png": OK[:33] + png_chunk(b"IDAT", b"\x78\x9c\xff\xff\xff") + png_chunk(b"IEND", b"")})
folder_case("gif-named-png", {"b/anim.png": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"})


def jpeg_header(width, height, components):
    sof = struct.pack(">BHHB", 8, height, width, components)
    for c in range(components):
        sof += bytes([c + 1, 0x11, 0])
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    return b"\xff\xd8" + dqt + b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof


# An Adobe APP14 marker says CMYK (transform 0); the scan never comes.
adobe = b"\xff\xee" + struct.pack(">H", 14) + b"Adobe" + b"\x00\x64\x00\x00\x00\x00\x00"
folder_case("cmyk-jpeg-truncated", {"b/cmyk.jpg": b"\xff\xd8" + adobe + jpeg_header(16, 16, 4)[2:]})
folder_case("huge-declared-jpeg", {"b/huge.jpg": jpeg_header(65000, 65000, 3) + b"\xff\xd9"})
folder_case("truncated-jpeg", {"b/cut.jpg": b"\xff\xd8\xff\xdb\x00"})


def bmp(width, height, pixels, declared_size=None):
    row = (width * 3 + 3) // 4 * 4
    size = row * abs(height)
    size = min(size, 0xFFFFFFFF - 54)
    header = b"BM" + struct.pack("<IHHI", 54 + size if declared_size is None else declared_size, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, size, 2835, 2835, 0, 0)
    return header + info + pixels


folder_case("huge-declared-bmp", {"b/huge.bmp": bmp(100000, 100000, b"\0" * 64)})
folder_case("truncated-bmp", {"b/cut.bmp": bmp(8, 8, b"\0" * 20)})
folder_case("empty-class", {"b/readme.txt": "no images here\n"})
write("img/no-classes/readme.txt", "a folder without class folders\n")
write("img/one-class/only/ok.png", OK)
write("img/one-class/only/ok2.png", grey(seed=4))
for i in range(3, 25):
    write(f"img/one-class/only/ok{i}.png", grey(seed=i * 3))

# Unusual but valid: these must load (exit 0), with mixed non-image files ignored.
write("valid/unusual-images/plain/a.png", OK)
write("valid/unusual-images/plain/b c.png", grey(seed=1))  # a space in the name
write("valid/unusual-images/plain/\u00e9t\u00e9 \u2603.png", grey(seed=2))  # unicode
write("valid/unusual-images/plain/notes.txt", "not an image, ignored\n")
rows16 = [b"".join(struct.pack(">H", (x * 4000 + y * 300) % 65536) for x in range(8)) for y in range(8)]
write("valid/unusual-images/deep/sixteen-bit.png", png(8, 8, rows16, bit_depth=16))
rgba = [bytes(v for x in range(8) for v in ((x * 30) % 256, (y * 30) % 256, 90, 128)) for y in range(8)]
write("valid/unusual-images/deep/alpha.png", png(8, 8, rgba, color_type=6))
# An animated PNG (APNG): acTL and fcTL before the default image; the default image is read.
actl = png_chunk(b"acTL", struct.pack(">II", 1, 0))
fctl = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 8, 8, 0, 0, 1, 10, 0, 0))
write("valid/unusual-images/deep/animated.png", png(8, 8, [bytes(8)] * 8, extra=actl + fctl))
write("valid/unusual-images/deep/small.bmp", bmp(8, 8, bytes((i * 3) % 256 for i in range(8 * 24))))

# ---------------------------------------------------------------- CSV
write("csv/ragged.csv", "f0,f1,label\n1,2,a\n3,4\n5,6,b\n")
write("csv/nan-feature.csv", "f0,f1,label\n1,2,a\nNaN,4,b\n5,6,a\n")
write("csv/inf-feature.csv", "f0,f1,label\n1,2,a\n3,inf,b\n5,6,a\n")
write("csv/quoted-comma.csv", 'f0,f1,label\n1,2,a\n"3,5",4,b\n5,6,a\n')
write("csv/missing-label-column.csv", "f0,f1,class\n1,2,a\n3,4,b\n")
write("csv/one-class.csv", "f0,f1,label\n" + "".join(f"{i},{i * 2},same\n" for i in range(30)))
write("csv/empty.csv", "")
write("csv/header-only.csv", "f0,f1,label\n")
write("csv/one-column.csv", "label\na\nb\n")
write("csv/not-utf8.csv", b"f0,f1,label\n1,2,a\n3,4,\xff\xfe\n")
write("csv/unterminated-quote.csv", 'f0,f1,label\n1,2,a\n3,"4,b\n5,6,a\n')
write("csv/text-feature.csv", "f0,f1,label\n1,2,a\n3,four,b\n")

# ---------------------------------------------------------------- predictions CSV
write("pred/sum-not-one.csv", "y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n1,1,0.7,0.7\n")
write("pred/negative.csv", "y_true,y_pred,p_0,p_1\n0,0,1.2,-0.2\n")
write("pred/nan.csv", "y_true,y_pred,p_0,p_1\n0,0,NaN,0.5\n")
write("pred/class-beyond-header.csv", "y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n5,1,0.2,0.8\n")
write("pred/empty.csv", "")
write("pred/header-only.csv", "y_true,y_pred,p_0,p_1\n")
write("pred/bad-header.csv", "truth,guess\n0,0\n")
write("pred/ragged.csv", "y_true,y_pred,p_0,p_1\n0,0,0.9\n")
# Labels may be names (`cat`, `-1`), but then they must be among the probability columns' classes.
write("pred/negative-label.csv", "y_true,y_pred,p_0,p_1\n-1,0,0.5,0.5\n")
write("pred/text-label.csv", "y_true,y_pred,p_0,p_1\ncat,dog,0.5,0.5\n")

# ---------------------------------------------------------------- weight files
class Exploit:
    """Unpickling this would run a shell command: the loader must never execute it."""

    def __init__(self, module):
        self.module = module

    def __reduce__(self):
        if self.module == "os":
            return (os.system, ("touch /tmp/focal-corpus-pwned",))
        return (__import__("subprocess").Popen, (["touch", "/tmp/focal-corpus-pwned"],))


def pth_zip(payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=(1980, 1, 1, 0, 0, 0)), payload)
        z.writestr(zipfile.ZipInfo("archive/version", date_time=(1980, 1, 1, 0, 0, 0)), b"3\n")
    return buf.getvalue()


write("weights/pickle-os-system.pth", pickle.dumps({"conv1.weight": Exploit("os")}, protocol=2))
write("weights/zip-pickle-os-system.pth", pth_zip(pickle.dumps({"conv1.weight": Exploit("os")}, protocol=2)))
write("weights/pickle-imports-subprocess.pth", pickle.dumps(Exploit("subprocess"), protocol=2))
write("weights/not-a-pickle.pth", b"\x00\x01garbage that is no pickle at all" * 4)


def safetensors(header, data):
    h = header.encode()
    return struct.pack("<Q", len(h)) + h + data


write("weights/truncated.safetensors",
      safetensors('{"conv1.weight":{"dtype":"F32","shape":[64,3,7,7],"data_offsets":[0,37632]}}', b"\0" * 100))
write("weights/header-length-huge.safetensors", struct.pack("<Q", 1 << 62) + b"{}")
write("weights/wrong-shape.safetensors",
      safetensors('{"conv1.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}', b"\0" * 16))
write("weights/not-json.safetensors", struct.pack("<Q", 12) + b"not json at!")

# ---------------------------------------------------------------- run folders
write("run/missing-config/split.json", '{"train": [0], "val": [1], "test": [2]}\n')
write("run/corrupt-config/config.json", '{"focal_version": "0.1.0", "train": {"model": "ml')
write("run/config-of-another-program/config.json", '{"name": "not a focal run", "layers": [1, 2]}\n')

print("corpus written to", os.path.normpath(ROOT))
