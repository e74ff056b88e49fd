//! Minimal TensorBoard event-file writer: scalars and PR curves.
//!
//! An events file is a sequence of TFRecords, each holding one serialized
//! `tensorboard.Event` protobuf. The record framing is the one written by
//! TensorFlow's `RecordWriter`
//! (<https://github.com/tensorflow/tensorflow/blob/master/tensorflow/core/lib/io/record_writer.cc>,
//! declared in `tensorflow/core/lib/io/record_writer.h`):
//!
//! ```text
//! u64 length (little endian)
//! u32 masked_crc32c(length bytes)   (little endian)
//! [u8; length] data
//! u32 masked_crc32c(data)           (little endian)
//! ```
//!
//! with `masked = ((crc >> 15) | (crc << 17)).wrapping_add(0xa282ead8)`.
//!
//! The protobuf messages below are hand-written subsets of TensorFlow's
//! `event.proto`, `summary.proto`, `tensor.proto`, `tensor_shape.proto` and
//! TensorBoard's `plugins/pr_curve/plugin_data.proto`; field numbers match the
//! descriptors shipped in the `tensorboard` 2.21 wheel (checked by a golden-byte
//! test), so no `protoc` step is needed.
//!
//! The first record of every file is an `Event` with
//! `file_version = "brain.Event:2"`; TensorBoard uses it to recognise the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

/// TensorBoard expects this exact string in the first event of a file.
const FILE_VERSION: &str = "brain.Event:2";
/// `PLUGIN_NAME` in `tensorboard/plugins/pr_curve/metadata.py`.
const PR_CURVE_PLUGIN_NAME: &str = "pr_curves";
/// `PROTO_VERSION` in `tensorboard/plugins/pr_curve/metadata.py`.
const PR_CURVE_PROTO_VERSION: i32 = 0;
/// `_MINIMUM_COUNT` in `tensorboard/plugins/pr_curve/summary.py`: keeps
/// precision/recall finite (and 0) when their denominator is 0.
const MINIMUM_COUNT: f64 = 1e-7;
/// `DataType.DT_FLOAT` in `types.proto`.
const DT_FLOAT: i32 = 1;
const MASK_DELTA: u32 = 0xa282_ead8;

// ---------------------------------------------------------------------------
// Protobuf messages (subset). Field numbers are TensorFlow's; do not renumber.
// Fields are declared in field-number order so prost emits the same byte order
// as the reference implementation (checked by `golden_event_bytes`).
// ---------------------------------------------------------------------------

/// `tensorboard.Event` (event.proto).
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "EventWhat", tags = "3, 5")]
    what: Option<EventWhat>,
}

/// `Event.what` oneof.
#[derive(Clone, PartialEq, prost::Oneof)]
enum EventWhat {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorboard.Summary` (summary.proto).
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorboard.Summary.Value`.
#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(oneof = "ValueKind", tags = "2, 8")]
    value: Option<ValueKind>,
    #[prost(message, optional, tag = "9")]
    metadata: Option<SummaryMetadata>,
}

/// `Summary.Value.value` oneof.
#[derive(Clone, PartialEq, prost::Oneof)]
enum ValueKind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorboard.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    plugin_data: Option<PluginData>,
    #[prost(string, tag = "2")]
    display_name: String,
}

/// `tensorboard.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
struct PluginData {
    #[prost(string, tag = "1")]
    plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    content: Vec<u8>,
}

/// `tensorboard.TensorProto` (tensor.proto).
#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    tensor_shape: Option<TensorShapeProto>,
    /// Row-major little-endian values, as `tf.make_tensor_proto` writes them.
    #[prost(bytes = "vec", tag = "4")]
    tensor_content: Vec<u8>,
}

/// `tensorboard.TensorShapeProto` (tensor_shape.proto).
#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<TensorShapeDim>,
}

/// `tensorboard.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
struct TensorShapeDim {
    #[prost(int64, tag = "1")]
    size: i64,
}

/// `tensorboard.PrCurvePluginData` (plugins/pr_curve/plugin_data.proto).
#[derive(Clone, PartialEq, Message)]
struct PrCurvePluginData {
    #[prost(int32, tag = "1")]
    version: i32,
    #[prost(uint32, tag = "2")]
    num_thresholds: u32,
}

// ---------------------------------------------------------------------------
// TFRecord framing
// ---------------------------------------------------------------------------

/// CRC32C masked as TFRecord does; masking avoids problems when CRCs of data
/// that itself contains CRCs are computed.
fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    // Same as TensorFlow's ((crc >> 15) | (crc << 17)) + kMaskDelta.
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Writes one TFRecord (see the module docs for the layout).
fn write_record<W: Write>(w: &mut W, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    w.write_all(&len)?;
    w.write_all(&masked_crc32c(&len).to_le_bytes())?;
    w.write_all(data)?;
    w.write_all(&masked_crc32c(data).to_le_bytes())
}

// ---------------------------------------------------------------------------
// PR curve computation
// ---------------------------------------------------------------------------

/// Computes the 6 x `num_thresholds` PR-curve tensor (rows TP, FP, TN, FN,
/// precision, recall; column `i` is threshold `i / (num_thresholds - 1)`),
/// mirroring `tensorboard.plugins.pr_curve.summary.pb` with unit weights:
///
/// * bucket = `floor(score * (num_thresholds - 1))`, computed in f64;
///   `np.histogram(range=(0, n - 1))` then drops buckets outside
///   `[0, n - 1]`, so scores < 0 are ignored and scores in
///   `[1, n / (n - 1))` land in the last bucket. NaN scores are ignored too
///   (numpy casts NaN to `i32::MIN`, which falls outside the range).
/// * TP/FP are reverse cumulative sums of the buckets, TN = FP\[0\] - FP,
///   FN = TP\[0\] - TP.
/// * precision = TP / max(1e-7, TP + FP), recall = TP / max(1e-7, TP + FN),
///   so both are 0 when their denominator is 0.
/// * Everything is computed in f64 and cast to f32 at the end.
fn pr_curve_data(labels: &[bool], scores: &[f64], num_thresholds: u32) -> io::Result<Vec<f32>> {
    if labels.len() != scores.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "pr_curve: {} labels but {} scores",
                labels.len(),
                scores.len()
            ),
        ));
    }
    if num_thresholds < 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "pr_curve: num_thresholds must be at least 2",
        ));
    }
    let n = num_thresholds as usize;
    let last = f64::from(num_thresholds - 1);
    let mut tp = vec![0.0f64; n];
    let mut fp = vec![0.0f64; n];
    for (&label, &score) in labels.iter().zip(scores) {
        let bucket = (score * last).floor();
        // `contains` is false for NaN, so NaN scores are skipped too.
        if !(0.0..=last).contains(&bucket) {
            continue;
        }
        let bucket = bucket as usize;
        if label {
            tp[bucket] += 1.0;
        } else {
            fp[bucket] += 1.0;
        }
    }
    for i in (0..n - 1).rev() {
        tp[i] += tp[i + 1];
        fp[i] += fp[i + 1];
    }
    let mut out = Vec::with_capacity(6 * n);
    out.extend(tp.iter().map(|&v| v as f32));
    out.extend(fp.iter().map(|&v| v as f32));
    out.extend(fp.iter().map(|&v| (fp[0] - v) as f32));
    out.extend(tp.iter().map(|&v| (tp[0] - v) as f32));
    out.extend(
        tp.iter()
            .zip(&fp)
            .map(|(&t, &f)| (t / MINIMUM_COUNT.max(t + f)) as f32),
    );
    out.extend(
        tp.iter()
            .map(|&t| (t / MINIMUM_COUNT.max(t + (tp[0] - t))) as f32),
    );
    Ok(out)
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/// Writes a TensorBoard events file (`events.out.tfevents.<secs>.<host>`).
///
/// Records are buffered; call [`EventWriter::flush`] to make them visible to
/// a running TensorBoard. Dropping the writer flushes too, ignoring errors.
pub struct EventWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl EventWriter {
    /// Creates `dir` (and parents) and a new events file in it, and writes the
    /// `file_version` header event.
    ///
    /// The file is named `events.out.tfevents.<unix seconds>.<hostname>`. If
    /// that name is already taken (two writers in the same second) a `.1`,
    /// `.2`, ... suffix is added instead of overwriting; TensorBoard only
    /// requires `tfevents` in the name.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<Self> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir)?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let base = format!("events.out.tfevents.{secs}.{}", hostname());
        let mut suffix = 0u32;
        let (file, path) = loop {
            let name = if suffix == 0 {
                base.clone()
            } else {
                format!("{base}.{suffix}")
            };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (file, path),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && suffix < 1000 => suffix += 1,
                Err(e) => return Err(e),
            }
        };
        let mut writer = EventWriter {
            out: BufWriter::new(file),
            path,
        };
        writer.write_event(0, EventWhat::FileVersion(FILE_VERSION.to_owned()))?;
        // Make the file recognisable right away, even if nothing else follows.
        writer.flush()?;
        Ok(writer)
    }

    /// Path of the events file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a scalar (`Summary.Value.simple_value`), shown in TensorBoard's
    /// Scalars dashboard under `tag`.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f32) -> io::Result<()> {
        let value = SummaryValue {
            tag: tag.to_owned(),
            value: Some(ValueKind::SimpleValue(value)),
            metadata: None,
        };
        self.write_summary(step, value)
    }

    /// Appends a precision-recall curve for binary `labels` (true = positive)
    /// and `scores` (expected in `[0, 1]`) at `num_thresholds` evenly spaced
    /// thresholds `i / (num_thresholds - 1)`.
    ///
    /// The 6 x `num_thresholds` float tensor (rows TP, FP, TN, FN, precision,
    /// recall) and the plugin metadata are the ones
    /// `tensorboard.plugins.pr_curve.summary.pb(tag, labels, scores,
    /// num_thresholds)` produces, except that `tag` is written as given
    /// (`pb` appends `/pr_curves`). Scores below 0 or NaN are ignored, as in
    /// `pb`.
    ///
    /// Errors with [`io::ErrorKind::InvalidInput`] if the slice lengths differ
    /// or `num_thresholds < 2`.
    pub fn pr_curve(
        &mut self,
        tag: &str,
        step: i64,
        labels: &[bool],
        scores: &[f64],
        num_thresholds: u32,
    ) -> io::Result<()> {
        let data = pr_curve_data(labels, scores, num_thresholds)?;
        let tensor_content = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let plugin_content = PrCurvePluginData {
            version: PR_CURVE_PROTO_VERSION,
            num_thresholds,
        }
        .encode_to_vec();
        let value = SummaryValue {
            tag: tag.to_owned(),
            value: Some(ValueKind::Tensor(TensorProto {
                dtype: DT_FLOAT,
                tensor_shape: Some(TensorShapeProto {
                    dim: vec![
                        TensorShapeDim { size: 6 },
                        TensorShapeDim {
                            size: i64::from(num_thresholds),
                        },
                    ],
                }),
                tensor_content,
            })),
            // The PR-curve plugin finds its data (and num_thresholds) here.
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: PR_CURVE_PLUGIN_NAME.to_owned(),
                    content: plugin_content,
                }),
                display_name: tag.to_owned(),
            }),
        };
        self.write_summary(step, value)
    }

    /// Flushes buffered records to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn write_summary(&mut self, step: i64, value: SummaryValue) -> io::Result<()> {
        let summary = Summary { value: vec![value] };
        self.write_event(step, EventWhat::Summary(summary))
    }

    fn write_event(&mut self, step: i64, what: EventWhat) -> io::Result<()> {
        let event = Event {
            wall_time: wall_time(),
            step,
            what: Some(what),
        };
        write_record(&mut self.out, &event.encode_to_vec())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        // Errors cannot be reported from Drop; call `flush` to observe them.
        let _ = self.out.flush();
    }
}

/// Seconds since the Unix epoch as f64, as `Event.wall_time` expects.
fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Host name for the file name, without pulling in a libc/hostname crate.
fn hostname() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    // Keep the name a single path component.
    let name: String = raw
        .trim()
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses TFRecords back, checking both CRCs of every record.
    fn read_records(mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut records = Vec::new();
        while !bytes.is_empty() {
            assert!(bytes.len() >= 12, "truncated header");
            let (len_bytes, rest) = bytes.split_at(8);
            let len_crc = u32::from_le_bytes(rest[..4].try_into().unwrap());
            assert_eq!(len_crc, masked_crc32c(len_bytes), "length crc");
            let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
            let rest = &rest[4..];
            assert!(rest.len() >= len + 4, "truncated record");
            let (data, rest) = rest.split_at(len);
            let data_crc = u32::from_le_bytes(rest[..4].try_into().unwrap());
            assert_eq!(data_crc, masked_crc32c(data), "data crc");
            records.push(data.to_vec());
            bytes = &rest[4..];
        }
        records
    }

    fn from_hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn crc_mask_known_values() {
        // crc32c("123456789") = 0xe3069283 is the standard check value. The
        // masked values come from TensorBoard's independent Python version,
        // `tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c`.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
        assert_eq!(masked_crc32c(b"hello"), 0x191c_1fbb);
        // Length header of an empty record.
        assert_eq!(masked_crc32c(&0u64.to_le_bytes()), 0x0798_0329);
    }

    #[test]
    fn record_framing_round_trip() {
        let mut buf = Vec::new();
        let payloads: [&[u8]; 3] = [b"", b"hello", &[0xffu8; 300]];
        for p in payloads {
            write_record(&mut buf, p).unwrap();
        }
        assert_eq!(
            buf.len(),
            payloads.iter().map(|p| p.len() + 16).sum::<usize>()
        );
        let back = read_records(&buf);
        assert_eq!(back, payloads.map(<[u8]>::to_vec));
    }

    /// Hex strings produced with the tensorboard 2.21 wheel's protobuf classes
    /// (protobuf 7.36.2, which serializes fields in field-number order):
    ///
    /// ```python
    /// from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
    /// from tensorboard.plugins.pr_curve import plugin_data_pb2
    /// import numpy as np
    /// ev = event_pb2.Event(wall_time=1.5, step=7, summary=summary_pb2.Summary(value=[
    ///     summary_pb2.Summary.Value(tag="loss", simple_value=0.25)]))
    /// print("scalar", ev.SerializeToString().hex())
    /// print("version", event_pb2.Event(wall_time=1.5, file_version="brain.Event:2").SerializeToString().hex())
    /// content = plugin_data_pb2.PrCurvePluginData(version=0, num_thresholds=2).SerializeToString()
    /// md = summary_pb2.SummaryMetadata(display_name="pr", plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="pr_curves", content=content))
    /// data = np.arange(12, dtype="<f4").reshape(6, 2)
    /// t = tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=6), tensor_shape_pb2.TensorShapeProto.Dim(size=2)]), tensor_content=data.tobytes())
    /// ev = event_pb2.Event(wall_time=1.5, step=3, summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="pr", metadata=md, tensor=t)]))
    /// print("pr", ev.SerializeToString().hex())
    /// ```
    #[test]
    fn golden_event_bytes() {
        let scalar = Event {
            wall_time: 1.5,
            step: 7,
            what: Some(EventWhat::Summary(Summary {
                value: vec![SummaryValue {
                    tag: "loss".into(),
                    value: Some(ValueKind::SimpleValue(0.25)),
                    metadata: None,
                }],
            })),
        };
        assert_eq!(
            scalar.encode_to_vec(),
            from_hex("09000000000000f83f10072a0d0a0b0a046c6f7373150000803e")
        );

        let version = Event {
            wall_time: 1.5,
            step: 0,
            what: Some(EventWhat::FileVersion(FILE_VERSION.into())),
        };
        assert_eq!(
            version.encode_to_vec(),
            from_hex("09000000000000f83f1a0d627261696e2e4576656e743a32")
        );

        let data: Vec<u8> = (0..12).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let pr = Event {
            wall_time: 1.5,
            step: 3,
            what: Some(EventWhat::Summary(Summary {
                value: vec![SummaryValue {
                    tag: "pr".into(),
                    value: Some(ValueKind::Tensor(TensorProto {
                        dtype: DT_FLOAT,
                        tensor_shape: Some(TensorShapeProto {
                            dim: vec![TensorShapeDim { size: 6 }, TensorShapeDim { size: 2 }],
                        }),
                        tensor_content: data,
                    })),
                    metadata: Some(SummaryMetadata {
                        plugin_data: Some(PluginData {
                            plugin_name: PR_CURVE_PLUGIN_NAME.into(),
                            content: PrCurvePluginData {
                                version: PR_CURVE_PROTO_VERSION,
                                num_thresholds: 2,
                            }
                            .encode_to_vec(),
                        }),
                        display_name: "pr".into(),
                    }),
                }],
            })),
        };
        assert_eq!(
            pr.encode_to_vec(),
            from_hex(concat!(
                "09000000000000f83f10032a5d0a5b0a027072423e0801120812020806120208022230",
                "000000000000803f0000004000004040000080400000a0400000c0400000e040",
                "000000410000104100002041000030414a150a0f0a0970725f6375727665731202",
                "100212027072"
            ))
        );
    }

    #[test]
    fn pr_curve_matches_hand_computation() {
        // Thresholds 0, 0.5, 1. Buckets: 0.2->0, 0.5->1, 0.7->1, 1.0->2;
        // -0.1 is dropped (outside the histogram range), like numpy does.
        let labels = [true, false, true, true, false];
        let scores = [0.2, 0.5, 0.7, 1.0, -0.1];
        let d = pr_curve_data(&labels, &scores, 3).unwrap();
        let rows: Vec<&[f32]> = d.chunks(3).collect();
        assert_eq!(rows[0], [3.0, 2.0, 1.0]); // TP
        assert_eq!(rows[1], [1.0, 1.0, 0.0]); // FP
        assert_eq!(rows[2], [0.0, 0.0, 1.0]); // TN
        assert_eq!(rows[3], [0.0, 1.0, 2.0]); // FN
        assert_eq!(rows[4], [0.75, 2.0 / 3.0, 1.0]); // precision
        assert_eq!(rows[5], [1.0, 2.0 / 3.0, 1.0 / 3.0]); // recall

        // No positives predicted above the top threshold: precision is 0, not NaN.
        let d = pr_curve_data(&[false, false], &[0.1, 0.2], 2).unwrap();
        assert_eq!(&d[8..], [0.0, 0.0, 0.0, 0.0]);

        assert!(pr_curve_data(&[true], &[0.1, 0.2], 3).is_err());
        assert!(pr_curve_data(&[true], &[0.1], 1).is_err());
    }

    #[test]
    fn writer_produces_parseable_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        let path = {
            let mut w = EventWriter::new(&sub).unwrap();
            w.scalar("loss", 1, 0.5).unwrap();
            w.pr_curve("pr", 2, &[true, false], &[0.9, 0.1], 5).unwrap();
            w.path().to_owned()
            // Dropped here: Drop must flush the last records.
        };
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("events.out.tfevents."), "{name}");
        assert_eq!(path.parent().unwrap(), sub);

        let records = read_records(&fs::read(&path).unwrap());
        assert_eq!(records.len(), 3);
        let events: Vec<Event> = records
            .iter()
            .map(|r| Event::decode(r.as_slice()).unwrap())
            .collect();
        assert_eq!(
            events[0].what,
            Some(EventWhat::FileVersion("brain.Event:2".into()))
        );
        assert!(events[0].wall_time > 1.0e9);
        assert_eq!(events[1].step, 1);
        let Some(EventWhat::Summary(s)) = &events[2].what else {
            panic!("expected summary");
        };
        let Some(ValueKind::Tensor(t)) = &s.value[0].value else {
            panic!("expected tensor");
        };
        assert_eq!(t.tensor_content.len(), 6 * 5 * 4);

        // A second writer in the same second must not clobber the first file.
        let w2 = EventWriter::new(&sub).unwrap();
        assert_ne!(w2.path(), path);
    }

    /// Writes an events file plus the `--expect` JSON for
    /// `scripts/check_tensorboard.py`:
    ///
    /// ```sh
    /// FOCAL_TB_EXAMPLE_DIR=/tmp/tb cargo test -- --ignored write_example_for_python_check
    /// python scripts/check_tensorboard.py /tmp/tb --expect /tmp/tb/expect.json
    /// ```
    #[test]
    #[ignore = "writes files for scripts/check_tensorboard.py; needs FOCAL_TB_EXAMPLE_DIR"]
    fn write_example_for_python_check() {
        let dir = PathBuf::from(
            std::env::var_os("FOCAL_TB_EXAMPLE_DIR").expect("set FOCAL_TB_EXAMPLE_DIR"),
        );
        let mut w = EventWriter::new(&dir).unwrap();
        for step in 0..5i64 {
            w.scalar("train/loss", step, 1.0 / (step as f32 + 1.0))
                .unwrap();
            w.scalar("val/auc", step, 0.5 + 0.1 * step as f32).unwrap();
        }

        // Deterministic pseudo-random data (xorshift), imbalanced ~10% positives.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cases = Vec::new();
        let mut labels = Vec::new();
        let mut scores = Vec::new();
        for _ in 0..500 {
            let pos = next() < 0.1;
            labels.push(pos);
            scores.push(if pos { next().sqrt() } else { next() * next() });
        }
        cases.push(("val/pr", 10i64, labels, scores, 201u32));
        // Edge cases: exact thresholds, 0, 1, just above 1 (still counted),
        // negative and NaN (dropped), and 0.29 / 0.57 whose product with 100
        // lands just below 29 / 57 in f64.
        cases.push((
            "edge/pr",
            3,
            vec![
                true, false, true, false, true, false, true, false, true, true,
            ],
            vec![0.0, 0.25, 0.5, 1.0, 1.005, -0.1, 0.29, 0.57, 0.3, f64::NAN],
            101,
        ));
        // No positives at all: recall/precision denominators hit _MINIMUM_COUNT.
        cases.push(("empty/pr", 4, vec![false; 3], vec![0.3, 0.6, 0.9], 11));

        let mut json = String::from("[\n");
        for (i, (tag, step, labels, scores, n)) in cases.iter().enumerate() {
            w.pr_curve(tag, *step, labels, scores, *n).unwrap();
            let labels: Vec<String> = labels.iter().map(bool::to_string).collect();
            // `{:?}` prints f64 with round-trip precision.
            let scores: Vec<String> = scores.iter().map(|s| format!("{s:?}")).collect();
            json += &format!(
                "  {{\"tag\": \"{tag}\", \"step\": {step}, \"num_thresholds\": {n}, \"labels\": [{}], \"scores\": [{}]}}{}\n",
                labels.join(", "),
                scores.join(", "),
                if i + 1 < cases.len() { "," } else { "" }
            );
        }
        json += "]\n";
        w.flush().unwrap();
        fs::write(dir.join("expect.json"), json).unwrap();
        eprintln!(
            "wrote {} and {}",
            w.path().display(),
            dir.join("expect.json").display()
        );
    }
}
