//! The hostile-input corpus: every malformed file in `tests/corpus/` (written by
//! `scripts/make_corpus.py`) and the inputs made here (too large to commit, or things git cannot
//! hold: gzip and zip bombs, a million-column header, symbolic links, pipes, trained run folders
//! with foreign parts), each given to the `focal` binary.
//!
//! Every case must end with a non-zero exit and one line on stderr that names the file and what
//! is wrong, without any panic or backtrace text (the children run with RUST_BACKTRACE=1, so a
//! panic would print one), within 60 seconds, leaving no file behind (the working folder and
//! every input folder are compared before and after). Peak memory: the largest resident set of
//! any child this test process has waited for (`getrusage(RUSAGE_CHILDREN).ru_maxrss`, the
//! kernel's high-water mark, not address space) must stay under 512 MiB; it is read after each
//! case, so the first case over the limit is the one named.
//!
//! `FOCAL_CORPUS_TABLE=FILE cargo test -p focal-cli --test corpus` also writes the Markdown
//! table of the cases and their messages (RELIABILITY.md holds it).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// The corpus's peak-memory limit for one `focal` process.
const MAX_RSS_BYTES: u64 = 512 << 20;

/// The memory budget given to every loading case (`--max-memory`), so the bombs are refused on
/// any machine (the default, a quarter of physical memory, grows with the machine).
const BUDGET: &str = "256MB";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// One input and the command run on it.
struct Case {
    /// Name in the table (`format/case`).
    name: String,
    /// The arguments of `focal`; `{work}` is replaced by the case's working folder.
    args: Vec<String>,
    /// Fragments the error line must contain (the file's name is one of them).
    expect: Vec<String>,
    /// Folders that must be unchanged afterwards (inputs), besides the working folder.
    watch: Vec<PathBuf>,
}

impl Case {
    fn new(name: &str, args: &[&str], expect: &[&str]) -> Self {
        Case {
            name: name.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            expect: expect.iter().map(|s| s.to_string()).collect(),
            watch: Vec::new(),
        }
    }

    fn watching(mut self, dir: &Path) -> Self {
        self.watch.push(dir.to_path_buf());
        self
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `data inspect --data PATH --max-memory BUDGET`, expecting `PATH`'s last component and `what`.
fn inspect(name: &str, path: &Path, named: &str, what: &[&str]) -> Case {
    let mut expect = vec![named];
    expect.extend_from_slice(what);
    Case::new(
        name,
        &[
            "data",
            "inspect",
            "--data",
            &s(path),
            "--max-memory",
            BUDGET,
        ],
        &expect,
    )
    .watching(path.parent().unwrap())
}

/// `train` on `data` (an MLP, one epoch, quiet), into the case's working folder.
fn train(name: &str, data: &Path, extra: &[&str], expect: &[&str]) -> Case {
    let mut args = vec![
        "train".to_string(),
        "--data".into(),
        s(data),
        "--epochs".into(),
        "1".into(),
        "--quiet".into(),
        "--out".into(),
        "{work}/runs".into(),
        "--max-memory".into(),
        BUDGET.into(),
    ];
    if !extra.contains(&"--model") {
        args.extend(["--model".into(), "mlp".into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Case {
        name: name.to_string(),
        args,
        expect: expect.iter().map(|s| s.to_string()).collect(),
        watch: vec![data.parent().unwrap().to_path_buf()],
    }
}

/// The committed corpus.
fn committed_cases() -> Vec<Case> {
    let c = corpus();
    let mut cases = Vec::new();
    let idx: &[(&str, &str, &[&str])] = &[
        (
            "truncated-header",
            "train-images",
            &["ends inside the header"],
        ),
        (
            "wrong-magic",
            "train-images",
            &["wrong magic number 0x00000801"],
        ),
        (
            "wrong-rank",
            "train-images",
            &["wrong magic number 0x00000804"],
        ),
        (
            "float-dtype",
            "train-images",
            &["wrong magic number 0x00000d03"],
        ),
        (
            "declared-beyond-file",
            "train-images",
            &["declares 16000 bytes", "holds 160"],
        ),
        (
            "trailing-bytes",
            "train-images",
            &["declares 160 bytes", "holds 167"],
        ),
        (
            "count-mismatch",
            "train-labels",
            &["holds 10 images", "9 labels"],
        ),
        (
            "labels-wrong-magic",
            "train-labels",
            &["wrong magic number 0x00000803"],
        ),
        (
            "labels-truncated",
            "train-labels",
            &["declares 10 bytes", "holds 4"],
        ),
        ("dims-overflow", "train-images", &["declares", "holds 3"]),
        ("zero-images", "train-images", &["holds no image"]),
        (
            "images-without-labels",
            "train-images",
            &["no matching train-labels"],
        ),
        ("gz-truncated", "train-images-idx3-ubyte.gz", &["gzip"]),
        (
            "gz-declared-beyond-data",
            "train-images-idx3-ubyte.gz",
            &["declares 1600000 bytes", "holds 160"],
        ),
        ("gz-corrupt-stream", "train-images-idx3-ubyte.gz", &["gzip"]),
        (
            "classes-txt-too-short",
            "classes.txt",
            &["1 class names for labels up to 1"],
        ),
    ];
    for (case, named, what) in idx {
        let dir = c.join("idx").join(case);
        cases.push(inspect(&format!("idx/{case}"), &dir, named, what).watching(&dir));
    }
    let npz: &[(&str, &[&str])] = &[
        ("not-a-zip", &["not a valid .npz"]),
        ("empty", &["not a valid .npz"]),
        ("truncated", &["not a valid .npz"]),
        (
            "missing-arrays",
            &["entries [\"weights.npy\"]", "expected train_images"],
        ),
        ("missing-labels", &["train_labels.npy"]),
        ("float-images", &["unsupported dtype `<f4`"]),
        ("object-array", &["unsupported dtype `|O`"]),
        (
            "fortran-order",
            &["Fortran-ordered arrays are not supported"],
        ),
        (
            "declared-beyond-entry",
            &["declares 16000 bytes", "holds 160"],
        ),
        ("bad-npy-magic", &["no \\x93NUMPY magic"]),
        ("npy-version-9", &["unsupported .npy version 9"]),
        ("header-beyond-entry", &["header declares 65535 bytes"]),
        ("count-mismatch", &["holds 10 images", "8 labels"]),
        ("negative-label", &["negative label -1"]),
        ("huge-label", &["label 4000000000", "at most 100000"]),
        ("images-rank-2", &["images of shape [10, 16]"]),
        ("labels-2d", &["labels of shape [10, 3]"]),
        ("header-without-shape", &["the header has no `shape`"]),
        ("split-shapes-differ", &["val_images.npy", "differs"]),
    ];
    for (case, what) in npz {
        let file = c.join("npz").join(format!("{case}.npz"));
        cases.push(inspect(
            &format!("npz/{case}"),
            &file,
            &format!("{case}.npz"),
            what,
        ));
    }
    let img: &[(&str, &str, &[&str])] = &[
        ("truncated-png", "bad.png", &["cannot decode image"]),
        ("zero-byte-png", "empty.png", &["cannot decode image"]),
        (
            "huge-declared-png",
            "huge.png",
            &["cannot decode image", "limit"],
        ),
        ("text-named-png", "notes.png", &["cannot decode image"]),
        ("png-bad-crc", "bad.png", &["cannot decode image", "CRC"]),
        ("png-bad-zlib", "bad.png", &["cannot decode image"]),
        ("gif-named-png", "anim.png", &["cannot decode image", "Gif"]),
        ("cmyk-jpeg-truncated", "cmyk.jpg", &["cannot decode image"]),
        ("huge-declared-jpeg", "huge.jpg", &["cannot decode image"]),
        ("truncated-jpeg", "cut.jpg", &["cannot decode image"]),
        ("huge-declared-bmp", "huge.bmp", &["cannot decode image"]),
        ("truncated-bmp", "cut.bmp", &["cannot decode image"]),
        ("empty-class", "b", &["class folder holds no image"]),
        ("no-classes", "no-classes", &["no class sub-folders"]),
    ];
    for (case, named, what) in img {
        let dir = c.join("img").join(case);
        cases.push(inspect(&format!("img/{case}"), &dir, named, what).watching(&dir));
    }
    // DICOM files: each refused with one clear error (scripts/make_dicom_corpus.py).
    let dicom: [(&str, &str, &[&str]); 8] = [
        ("no-pixel-data", "empty.dcm", &["no pixel data (7FE0,0010)"]),
        (
            "truncated-pixel-data",
            "cut.dcm",
            &["cannot read the DICOM image", "complete DICOM file"],
        ),
        (
            "short-pixel-data",
            "short.dcm",
            &["declares 128 bytes", "holds 40"],
        ),
        (
            "huge-declared",
            "huge.dcm",
            &["65535x65535x1", "above the memory budget"],
        ),
        (
            "multi-frame",
            "cine.dcm",
            &[
                "multi-frame DICOM file of 3 frames",
                "--dicom-frame",
                "0 to 2",
            ],
        ),
        (
            "unsupported-transfer-syntax",
            "jpegls.dcm",
            &[
                "1.2.840.10008.1.2.4.80",
                "JPEG-LS Lossless",
                "convert the file",
            ],
        ),
        (
            "not-an-image",
            "report.dcm",
            &["no Rows (0028,0010)", "holds no image"],
        ),
        (
            "text-named-dcm",
            "notes.dcm",
            &["cannot read the DICOM image"],
        ),
    ];
    for (case, named, what) in dicom {
        let dir = c.join("dicom").join(case);
        cases.push(inspect(&format!("dicom/{case}"), &dir, named, what).watching(&dir));
    }
    let one_class = c.join("img/one-class");
    cases.push(
        train(
            "img/one-class",
            &one_class,
            &[],
            &["one-class", "one class only (only)"],
        )
        .watching(&one_class),
    );
    let csv: &[(&str, &[&str])] = &[
        ("ragged", &["line 3", "2 columns where the header has 3"]),
        ("nan-feature", &["line 3", "`NaN` is not a number"]),
        ("inf-feature", &["line 3", "`inf` is not a number"]),
        ("quoted-comma", &["line 3", "`3,5` is not a number"]),
        ("empty", &["empty header"]),
        ("header-only", &["no data rows"]),
        ("one-column", &["only one column"]),
        ("not-utf8", &["line 3", "not valid UTF-8"]),
        (
            "unterminated-quote",
            &["line 3", "columns where the header has 3"],
        ),
        ("text-feature", &["line 3", "`four` is not a number"]),
    ];
    for (case, what) in csv {
        let file = c.join("csv").join(format!("{case}.csv"));
        cases.push(inspect(
            &format!("csv/{case}"),
            &file,
            &format!("{case}.csv"),
            what,
        ));
    }
    let file = c.join("csv/missing-label-column.csv");
    let mut case = inspect(
        "csv/missing-label-column",
        &file,
        "missing-label-column.csv",
        &["no label column `label`", "f0, f1, class"],
    );
    case.args.extend(["--label-column".into(), "label".into()]);
    cases.push(case);
    let file = c.join("csv/one-class.csv");
    cases.push(train(
        "csv/one-class",
        &file,
        &[],
        &["one-class.csv", "one class only (same)"],
    ));
    let pred: &[(&str, &[&str])] = &[
        ("sum-not-one", &["line 3", "sum to 1.4"]),
        ("negative", &["line 2", "outside [0, 1]"]),
        ("nan", &["line 2", "outside [0, 1]"]),
        ("class-beyond-header", &["line 3", "label 5"]),
        ("empty", &["empty file"]),
        ("header-only", &["no predictions after the header"]),
        ("bad-header", &["y_true"]),
        ("ragged", &["line 2"]),
        ("negative-label", &["line 2", "-1"]),
        ("text-label", &["line 2", "cat"]),
    ];
    for (case, what) in pred {
        let file = c.join("pred").join(format!("{case}.csv"));
        let mut expect = vec![format!("{case}.csv")];
        expect.extend(what.iter().map(|s| s.to_string()));
        cases.push(Case {
            name: format!("pred/{case}"),
            args: vec!["eval".into(), "--predictions".into(), s(&file)],
            expect,
            watch: vec![file.parent().unwrap().to_path_buf()],
        });
    }
    for (case, what) in [
        ("missing-config", "config.json"),
        ("corrupt-config", "config.json"),
        ("config-of-another-program", "config.json"),
    ] {
        let dir = c.join("run").join(case);
        let mut resume = Case::new(
            &format!("run/{case} (train --resume)"),
            &["train", "--resume", &s(&dir), "--quiet"],
            &[case, what],
        )
        .watching(&dir);
        resume.watch.push(dir.parent().unwrap().to_path_buf());
        cases.push(resume);
        cases.push(
            Case::new(
                &format!("run/{case} (eval --run)"),
                &["eval", "--run", &s(&dir)],
                &[case, what],
            )
            .watching(&dir),
        );
    }
    cases
}

/// Weight files, given to a ResNet-18 on a small valid image folder (`data`).
fn weight_cases(data: &Path) -> Vec<Case> {
    let c = corpus();
    let weights: &[(&str, &[&str])] = &[
        ("pickle-os-system.pth", &["pretrained weights"]),
        ("zip-pickle-os-system.pth", &["pretrained weights"]),
        ("pickle-imports-subprocess.pth", &["pretrained weights"]),
        ("not-a-pickle.pth", &["pretrained weights"]),
        ("truncated.safetensors", &["pretrained weights"]),
        ("header-length-huge.safetensors", &["pretrained weights"]),
        (
            "wrong-shape.safetensors",
            &["pretrained weights", "first convolution"],
        ),
        ("not-json.safetensors", &["pretrained weights"]),
    ];
    weights
        .iter()
        .map(|(file, what)| {
            let path = c.join("weights").join(file);
            let mut expect = vec![*file];
            expect.extend_from_slice(what);
            train(
                &format!("weights/{file}"),
                data,
                &[
                    "--model",
                    "resnet18",
                    "--pretrained",
                    &s(&path),
                    "--image-size",
                    "32x32",
                ],
                &expect,
            )
            .watching(&c.join("weights"))
        })
        .collect()
}

/// A gzip stream of `head` then `zeros` zero bytes, made of repeated full-flushed deflate
/// blocks (each 1 MiB of zeros in about a kilobyte), so gigabytes cost a few megabytes and a
/// fraction of a second; returns the raw deflate stream and the CRC-32 of the whole content.
fn deflate_bomb(head: &[u8], zeros: u64) -> (Vec<u8>, u32) {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    const CHUNK: usize = 1 << 20;
    let mut crc = Crc::new();
    crc.update(head);
    let zero = vec![0u8; CHUNK];
    let mut out = Vec::new();
    let mut c = Compress::new(Compression::best(), false);
    let push = |c: &mut Compress, input: &[u8], flush: FlushCompress, out: &mut Vec<u8>| {
        let mut buf = vec![0u8; 1 << 16];
        let start_in = c.total_in();
        loop {
            let consumed = (c.total_in() - start_in) as usize;
            let before = c.total_out();
            c.compress(&input[consumed..], &mut buf, flush).unwrap();
            let n = (c.total_out() - before) as usize;
            out.extend_from_slice(&buf[..n]);
            if (c.total_in() - start_in) as usize == input.len() && n < buf.len() {
                break;
            }
        }
    };
    push(&mut c, head, FlushCompress::Full, &mut out);
    // One full-flushed block of CHUNK zeros, repeated: after a full flush no block refers to
    // an earlier one, so the copies decompress to CHUNK zeros each.
    let mut block = Vec::new();
    push(&mut c, &zero, FlushCompress::Full, &mut block);
    let full = zeros / CHUNK as u64;
    for _ in 0..full {
        out.extend_from_slice(&block);
        crc.update(&zero);
    }
    let rest = (zeros % CHUNK as u64) as usize;
    let mut tail = Vec::new();
    let mut c2 = Compress::new(Compression::best(), false);
    push(&mut c2, &zero[..rest], FlushCompress::Finish, &mut tail);
    crc.update(&zero[..rest]);
    out.extend_from_slice(&tail);
    (out, crc.sum())
}

fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v
}

/// An IDX folder whose images file is a gzip bomb: 2.6 million 28x28 images of zeros, 2 GB
/// once decompressed, in about 2 MB.
fn idx_gzip_bomb(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let n: u32 = 2_600_000;
    let (deflate, crc) = deflate_bomb(&idx_header(0x803, &[n, 28, 28]), u64::from(n) * 784);
    let total = 16 + u64::from(n) * 784;
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend(deflate);
    gz.extend(crc.to_le_bytes());
    gz.extend((total as u32).to_le_bytes());
    fs::write(dir.join("train-images-idx3-ubyte.gz"), gz).unwrap();
    let mut labels = idx_header(0x801, &[n]);
    labels.resize(labels.len() + n as usize, 0);
    fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
}

/// An `.npy` header (version 1) for `descr` and `shape`, padded as numpy pads it.
fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v
}

/// A zip member: its name, its bytes, and (deflated members) the CRC and size it declares.
type ZipMember<'a> = (&'a str, Vec<u8>, Option<(u32, u64)>);

/// A zip archive of deflated (`Some(crc, size)`) or stored (`None`) members, written by hand.
fn zip_archive(members: &[ZipMember]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, deflated) in members {
        let (method, crc, size) = match deflated {
            Some((crc, size)) => (8u16, *crc, *size),
            None => {
                let mut c = flate2::Crc::new();
                c.update(data);
                (0u16, c.sum(), data.len() as u64)
            }
        };
        let offset = out.len() as u32;
        let fields = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(method.to_le_bytes());
            v.extend(0u16.to_le_bytes()); // time
            v.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend(crc.to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend((size as u32).to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra
        };
        out.extend(0x04034b50u32.to_le_bytes());
        fields(&mut out);
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(0x02014b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        fields(&mut central);
        central.extend([0u8; 10]); // comment length, disk, internal and external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x06054b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// An `.npz` whose `images.npy` member expands to 3.9 GB of zeros (5 million 28x28 images).
fn npz_zip_bomb(path: &Path) {
    let n: u64 = 5_000_000;
    let head = npy_header("|u1", &format!("({n}, 28, 28)"));
    let (deflate, crc) = deflate_bomb(&head, n * 784);
    let size = head.len() as u64 + n * 784;
    let mut labels = npy_header("|u1", &format!("({n},)"));
    labels.resize(labels.len() + n as usize, 0);
    let zip = zip_archive(&[
        ("images.npy", deflate, Some((crc, size))),
        ("labels.npy", labels, None),
    ]);
    fs::write(path, zip).unwrap();
}

/// A CSV with a header of a million feature columns and the label, then `row`.
fn million_columns(path: &Path, row: &str) {
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    for i in 0..1_000_000 {
        write!(f, "c{i},").unwrap();
    }
    writeln!(f, "label").unwrap();
    writeln!(f, "{row}").unwrap();
}

/// A small valid image folder: two classes of 12 and 8 greyscale 32x32 images.
fn image_folder(root: &Path) {
    for (class, n) in [("common", 12), ("rare", 8)] {
        let dir = root.join(class);
        fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            let img = image::GrayImage::from_fn(32, 32, |x, y| {
                image::Luma([((x * 7 + y * 3 + i * 11) % 256) as u8])
            });
            img.save(dir.join(format!("{i}.png"))).unwrap();
        }
    }
}

/// A folder with one good class and, in class `b`, `make` applied to `b/<name>`.
fn folder_with(root: &Path, name: &str, make: impl FnOnce(&Path)) {
    let a = root.join("a");
    fs::create_dir_all(&a).unwrap();
    fs::copy(corpus().join("img/one-class/only/ok.png"), a.join("ok.png")).unwrap();
    fs::create_dir_all(root.join("b")).unwrap();
    make(&root.join("b").join(name));
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Trains a one-epoch MLP run on `csv` into `out/name`, for the run-folder cases.
fn trained_run(csv: &Path, out: &Path, name: &str) -> PathBuf {
    let o = common::focal(&[
        "train",
        "--data",
        &s(csv),
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &s(out),
        "--name",
        name,
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    out.join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The generated inputs (in `gen`) and their cases.
fn generated_cases(gen_dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let bomb = gen_dir.join("idx-gzip-bomb");
    idx_gzip_bomb(&bomb);
    cases.push(
        inspect(
            "idx/gzip-bomb (2 GB expanded)",
            &bomb,
            "train-images-idx3-ubyte.gz",
            &[
                "8.2 GB in memory",
                "above the memory budget of 256.0 MB",
                "--max-memory",
            ],
        )
        .watching(&bomb),
    );
    let npz = gen_dir.join("zip-bomb.npz");
    npz_zip_bomb(&npz);
    cases.push(inspect(
        "npz/zip-bomb (3.9 GB member)",
        &npz,
        "zip-bomb.npz",
        &["images.npy", "15.7 GB in memory", "--max-memory"],
    ));
    let wide = gen_dir.join("million-columns.csv");
    million_columns(&wide, "1,2,a");
    cases.push(inspect(
        "csv/million-columns, a short row",
        &wide,
        "million-columns.csv",
        &["line 2", "3 columns where the header has 1000001"],
    ));
    let mut case = inspect(
        "csv/million-columns, no such label column",
        &wide,
        "million-columns.csv",
        &["no label column `target`", "(1000001 columns in all)"],
    );
    case.args.extend(["--label-column".into(), "target".into()]);
    cases.push(case);

    let root = gen_dir.join("symlink-loop");
    folder_with(&root, "loop.png", |p| {
        std::os::unix::fs::symlink("loop.png", p).unwrap()
    });
    cases.push(
        inspect(
            "img/symlink-loop",
            &root,
            "loop.png",
            &["cannot read", "symbolic links"],
        )
        .watching(&root),
    );
    let root = gen_dir.join("dangling-symlink");
    folder_with(&root, "gone.png", |p| {
        std::os::unix::fs::symlink("nowhere/gone.png", p).unwrap()
    });
    cases.push(
        inspect(
            "img/dangling-symlink",
            &root,
            "gone.png",
            &["cannot read", "No such file"],
        )
        .watching(&root),
    );
    let root = gen_dir.join("class-links-to-root");
    folder_with(&root, "ok.png", |p| {
        fs::copy(corpus().join("img/one-class/only/ok2.png"), p).unwrap();
    });
    std::os::unix::fs::symlink(&root, root.join("z-loop")).unwrap();
    cases.push(
        inspect(
            "img/class-folder-links-to-root",
            &root,
            "z-loop",
            &["class folder holds no image"],
        )
        .watching(&root),
    );
    let root = gen_dir.join("fifo-image");
    folder_with(&root, "pipe.png", mkfifo);
    cases.push(
        inspect(
            "img/named-pipe-as-image",
            &root,
            "pipe.png",
            &["not a regular file"],
        )
        .watching(&root),
    );
    let pipe = gen_dir.join("pipe-data.csv");
    mkfifo(&pipe);
    cases.push(inspect(
        "csv/named-pipe-as-data",
        &pipe,
        "pipe-data.csv",
        &["not a regular file or folder"],
    ));
    // Unreadable by permissions: only meaningful when the test does not run as root (root
    // reads anything); skipped, and said so, otherwise.
    let root = gen_dir.join("unreadable");
    folder_with(&root, "locked.png", |p| {
        fs::copy(corpus().join("img/one-class/only/ok2.png"), p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(0o000)).unwrap();
    });
    if fs::File::open(root.join("b/locked.png")).is_err() {
        cases.push(
            inspect(
                "img/unreadable-file",
                &root,
                "locked.png",
                &["cannot read", "Permission denied"],
            )
            .watching(&root),
        );
    } else {
        eprintln!("img/unreadable-file skipped: this process reads files of mode 000 (root)");
    }
    // Budgets: valid data above --max-memory.
    let folder = gen_dir.join("images");
    image_folder(&folder);
    let mut case = inspect(
        "img/valid folder at 20000x20000 above --max-memory",
        &folder,
        "images",
        &[
            "take 32.0 GB as f32",
            "above the budget of 256.0 MB",
            "--image-size",
        ],
    );
    case.args
        .extend(["--image-size".into(), "20000x20000".into()]);
    cases.push(case.watching(&folder));
    let csv = gen_dir.join("valid.csv");
    common::write_csv(&csv, 60);
    let mut case = inspect(
        "csv/valid rows above --max-memory 1kB",
        &csv,
        "valid.csv",
        &["the rows up to line", "above the memory budget of 1.0 kB"],
    );
    case.args.pop();
    case.args.push("1kB".into());
    cases.push(case);
    cases.extend(weight_cases(&folder));

    // Run folders with foreign parts.
    let runs = gen_dir.join("runs");
    let a_csv = gen_dir.join("a.csv");
    common::write_csv(&a_csv, 60);
    let b_csv = gen_dir.join("b.csv");
    let text = fs::read_to_string(&a_csv).unwrap();
    let b_text: String = text
        .lines()
        .map(|l| {
            let (features, label) = l.rsplit_once(',').unwrap();
            if l.starts_with("f0") {
                format!("{features},f4,f5,{label}\n")
            } else {
                format!("{features},0.5,0.25,{label}\n")
            }
        })
        .collect();
    fs::write(&b_csv, b_text).unwrap();
    let a = trained_run(&a_csv, &runs, "a");
    let b = trained_run(&b_csv, &runs, "b");
    let foreign_checkpoint = runs.join("foreign-checkpoint");
    copy_dir(&a, &foreign_checkpoint);
    fs::remove_dir_all(foreign_checkpoint.join("checkpoint")).unwrap();
    copy_dir(
        &b.join("checkpoint"),
        &foreign_checkpoint.join("checkpoint"),
    );
    let foreign_split = runs.join("foreign-split");
    copy_dir(&a, &foreign_split);
    let mut split: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(foreign_split.join("split.json")).unwrap())
            .unwrap();
    // Another data set's split: the test indices of a set twice as large.
    split["test"] = serde_json::json!([0, 1, 2, 119]);
    fs::write(foreign_split.join("split.json"), split.to_string()).unwrap();
    let torn_state = runs.join("torn-state");
    copy_dir(&a, &torn_state);
    fs::write(
        torn_state.join("checkpoint/last/state.json"),
        "{\"epoch\": 1, \"be",
    )
    .unwrap();
    let torn_model = runs.join("torn-model");
    copy_dir(&a, &torn_model);
    let model = torn_model.join("checkpoint/last/model.bpk");
    let bytes = fs::read(&model).unwrap();
    fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    for (dir, what) in [
        (&foreign_checkpoint, "model.bpk"),
        (&foreign_split, "split.json"),
        (&torn_state, "state.json"),
        (&torn_model, "model.bpk"),
    ] {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        cases.push(
            Case::new(
                &format!("run/{name} (train --resume)"),
                &["train", "--resume", &s(dir), "--quiet"],
                &[&name, what],
            )
            .watching(dir),
        );
        cases.push(
            Case::new(
                &format!("run/{name} (eval --run)"),
                &["eval", "--run", &s(dir)],
                &[&name, what],
            )
            .watching(dir),
        );
    }
    cases
}

/// Every file under `dir` with its size and modification time (symbolic links not followed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<std::time::SystemTime>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p, (meta.len(), meta.modified().ok()));
        }
    }
    out
}

/// Peak resident set (bytes) of the largest child this process has waited for.
fn children_max_rss() -> u64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    // Linux reports ru_maxrss in KiB.
    usage.max_rss() as u64 * 1024
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

/// Runs `focal args` in `work`, killing it after 60 s.
fn run_focal(args: &[String], work: &Path, logs: &Path) -> Outcome {
    let err_path = logs.join("stderr");
    let out_path = logs.join("stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(args)
        .current_dir(work)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.and_then(|s| s.code()),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

#[test]
fn every_hostile_input_gets_one_clear_error_and_nothing_else() {
    let _ = fs::remove_file("/tmp/focal-corpus-pwned");
    let tmp = tempfile::tempdir().unwrap();
    let gen_dir = tmp.path().join("gen");
    fs::create_dir_all(&gen_dir).unwrap();
    let mut cases = committed_cases();
    cases.extend(generated_cases(&gen_dir));
    let mut failures = Vec::new();
    let mut table = String::from("| input | command | message (stderr) |\n|---|---|---|\n");
    // The generation trained two small runs: their peak is the floor the cases are read from.
    let mut worst = (
        children_max_rss(),
        "making the inputs (two one-epoch MLP runs)".to_string(),
    );
    for (i, case) in cases.iter().enumerate() {
        let work = tmp.path().join(format!("work-{i}"));
        let logs = tmp.path().join(format!("logs-{i}"));
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&logs).unwrap();
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| a.replace("{work}", &s(&work)))
            .collect();
        let before: Vec<_> = case.watch.iter().map(|d| snapshot(d)).collect();
        let out = run_focal(&args, &work, &logs);
        let rss = children_max_rss();
        if rss > worst.0 {
            worst = (rss, case.name.clone());
        }
        let mut wrong = Vec::new();
        match out.code {
            None => wrong.push("killed after 60 s (or by a signal)".to_string()),
            Some(0) => wrong.push("exit code 0".to_string()),
            Some(_) => {}
        }
        let message = out.stderr.trim();
        if message.lines().count() != 1 || !message.starts_with("error: ") {
            wrong.push("stderr is not one `error: ...` line".to_string());
        }
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE"] {
            if out.stderr.to_lowercase().contains(&bad.to_lowercase()) {
                wrong.push(format!("stderr mentions `{bad}`"));
            }
        }
        for e in &case.expect {
            if !message.contains(e.as_str()) {
                wrong.push(format!("message lacks `{e}`"));
            }
        }
        if rss > MAX_RSS_BYTES {
            wrong.push(format!("peak RSS {} MiB", rss >> 20));
        }
        if fs::read_dir(&work).unwrap().next().is_some() {
            wrong.push(format!(
                "left files in the working folder: {:?}",
                snapshot(&work)
            ));
        }
        for (dir, before) in case.watch.iter().zip(before) {
            if snapshot(dir) != before {
                wrong.push(format!("changed {}", dir.display()));
            }
        }
        if Path::new("/tmp/focal-corpus-pwned").exists() {
            wrong.push("a pickle ran a command".to_string());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n    stderr: {message}",
                case.name,
                wrong.join("; ")
            ));
        }
        let shown = args
            .iter()
            .map(|a| {
                a.replace(&s(&corpus()), "tests/corpus")
                    .replace(&s(tmp.path()), "$TMP")
            })
            .collect::<Vec<_>>()
            .join(" ");
        let message = message
            .replace(&s(&corpus()), "tests/corpus")
            .replace(&s(tmp.path()), "$TMP")
            .replace('|', "\\|");
        table.push_str(&format!(
            "| {} | `focal {shown}` | {message} |\n",
            case.name
        ));
    }
    if let Ok(path) = std::env::var("FOCAL_CORPUS_TABLE") {
        fs::write(path, &table).unwrap();
    }
    println!(
        "{} cases, {} passed; largest peak RSS of a child: {:.1} MiB ({})",
        cases.len(),
        cases.len() - failures.len(),
        worst.0 as f64 / (1 << 20) as f64,
        worst.1
    );
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn unusual_but_valid_images_load() {
    let dir = corpus().join("valid/unusual-images");
    let o = common::focal(&["data", "inspect", "--data", &s(&dir), "--json"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // 16-bit, alpha, animated PNG and BMP in `deep`; spaces and unicode in names in `plain`,
    // where a .txt file is ignored.
    assert_eq!(v["class_names"], serde_json::json!(["deep", "plain"]));
    assert_eq!(v["class_counts"], serde_json::json!([4, 3]));
    assert_eq!(v["shape"], serde_json::json!([3, 8, 8]));
}
