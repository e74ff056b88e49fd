#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ seeds from tests/corpus/ (and a few valid inputs), in each
target's input format. Run from anywhere: python3 fuzz/seed_corpus.py. Standard library only."""
import glob
import gzip
import os
import struct
import zipfile

here = os.path.dirname(os.path.abspath(__file__))
fz = os.path.join(here, "corpus")
tc = os.path.join(here, "..", "tests", "corpus")


def put(target, name, data):
    d = os.path.join(fz, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# npz, csv, predictions: the files themselves.
for f in glob.glob(f"{tc}/npz/*.npz"):
    put("npz", os.path.basename(f), read(f))
for f in glob.glob(f"{tc}/csv/*.csv"):
    put("csv", os.path.basename(f), read(f))
for f in glob.glob(f"{tc}/pred/*.csv"):
    put("predictions", os.path.basename(f), read(f))
put("csv", "valid.csv", b"f0,f1,label\n1,2,a\n3,4,b\n5,6,a\n")
put("predictions", "valid.csv", b"y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n1,1,0.2,0.8\n")
put("predictions", "valid2.csv", b"y_true,y_pred\n0,0\n1,1\n1,0\n")


def npy(descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    h += " " * (64 - (10 + len(h) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data


x = npy("|u1", (4, 3, 3), bytes(range(36)))
y = npy("|u1", (4,), bytes([0, 1, 0, 1]))
y8 = npy("<i8", (4,), struct.pack("<4q", 0, 1, 0, 1))
os.makedirs(os.path.join(fz, "npz"), exist_ok=True)
with zipfile.ZipFile(os.path.join(fz, "npz", "valid.npz"), "w") as z:
    z.writestr("train_images.npy", x)
    z.writestr("train_labels.npy", y)
with zipfile.ZipFile(os.path.join(fz, "npz", "valid-deflate.npz"), "w", zipfile.ZIP_DEFLATED) as z:
    for split in ["train", "test"]:
        z.writestr(f"{split}_images.npy", x)
        z.writestr(f"{split}_labels.npy", y8)


# idx: [labels length, u16 little-endian][labels file][images file].
def idx_seed(labels, images):
    return struct.pack("<H", len(labels)) + labels + images


for d in sorted(glob.glob(f"{tc}/idx/*")):
    lab = glob.glob(f"{d}/train-labels*")
    img = glob.glob(f"{d}/train-images*")
    if not img:
        continue
    labels = read(lab[0]) if lab else b""
    if len(labels) <= 0xFFFF:
        put("idx", os.path.basename(d), idx_seed(labels, read(img[0])))
n, h, w = 4, 3, 3
labels = struct.pack(">II", 0x801, n) + bytes([0, 1, 0, 1])
images = struct.pack(">IIII", 0x803, n, h, w) + bytes(range(n * h * w))
put("idx", "valid-raw", idx_seed(labels, images))
put("idx", "valid-gz", idx_seed(gzip.compress(labels), gzip.compress(images)))
put("idx", "valid-gz-images", idx_seed(labels, gzip.compress(images)))

# image_folder: [extension: 0 .png, 1 .jpg, 2 .bmp][image].
pick = {".png": 0, ".jpg": 1, ".jpeg": 1, ".bmp": 2}
for f in glob.glob(f"{tc}/img/**/*", recursive=True) + glob.glob(f"{tc}/valid/**/*", recursive=True):
    if not os.path.isfile(f):
        continue
    data = read(f)
    if len(data) <= 65536:
        name = os.path.relpath(f, tc).replace(os.sep, "_")
        put("image_folder", name, bytes([pick.get(os.path.splitext(f)[1].lower(), 0)]) + data)

for t in ["npz", "idx", "image_folder", "csv", "predictions"]:
    print(t, len(os.listdir(os.path.join(fz, t))))
