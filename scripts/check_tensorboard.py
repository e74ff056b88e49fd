#!/usr/bin/env python3
"""Check a TensorBoard events file written by focal-train's EventWriter.

Loads an events file (or a folder of them) with TensorBoard's own
EventAccumulator, prints every scalar series and every PR-curve tensor, and,
with --expect, recomputes each expected PR curve with
tensorboard.plugins.pr_curve.summary.pb and compares it to what was written.

Usage:
    python scripts/check_tensorboard.py RUN_DIR_OR_FILE [--expect FILE.json]

FILE.json is one object or a list of objects with keys
    tag, step, num_thresholds, labels (list of bool), scores (list of float).

Exit status: 0 if everything loaded and matched, 1 on any mismatch.
Requires: pip install tensorboard (TensorFlow is optional; pb() only needs
a few TF names, which are shimmed from tensorboard's own modules if TF is
not installed).
"""

import argparse
import contextlib
import json
import sys
import types

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.util import tensor_util

TOLERANCE = 1e-6
ROW_NAMES = ("TP", "FP", "TN", "FN", "precision", "recall")


@contextlib.contextmanager
def tensorflow_for_pb():
    """Makes `import tensorflow.compat.v1` work inside summary.pb().

    pb() does its maths in numpy and uses TF only for tf.Summary,
    tf.SummaryMetadata, tf.make_tensor_proto and tf.float32. If TensorFlow is
    missing, serve those from tensorboard's compat protos and tensor_util,
    only for the duration of the call so that the EventAccumulator never sees
    the fake module.
    """
    try:
        import tensorflow.compat.v1  # noqa: F401

        yield
        return
    except ImportError:
        pass
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.compat.tensorflow_stub import dtypes

    v1 = types.ModuleType("tensorflow.compat.v1")
    v1.Summary = summary_pb2.Summary
    v1.SummaryMetadata = summary_pb2.SummaryMetadata
    v1.make_tensor_proto = tensor_util.make_tensor_proto
    v1.float32 = dtypes.float32
    compat = types.ModuleType("tensorflow.compat")
    compat.v1 = v1
    tf = types.ModuleType("tensorflow")
    tf.compat = compat
    fake = {"tensorflow": tf, "tensorflow.compat": compat, "tensorflow.compat.v1": v1}
    saved = {k: sys.modules.get(k) for k in fake}
    sys.modules.update(fake)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def expected_pr_curve(spec):
    """Returns (tensor, metadata content) from tensorboard's pr_curve pb()."""
    from tensorboard.plugins.pr_curve import summary as pr_summary

    labels = np.asarray(spec["labels"], dtype=bool)
    # The writer buckets f64 scores in f64, so feed pb() float64 as well.
    scores = np.asarray(spec["scores"], dtype=np.float64)
    with tensorflow_for_pb():
        summary = pr_summary.pb(
            spec["tag"], labels, scores, num_thresholds=int(spec["num_thresholds"])
        )
    value = summary.value[0]
    return tensor_util.make_ndarray(value.tensor), value.metadata.plugin_data.content


def print_tensor(tensor):
    with np.printoptions(threshold=sys.maxsize, linewidth=sys.maxsize, precision=6):
        if tensor.ndim == 2 and tensor.shape[0] == len(ROW_NAMES):
            for name, row in zip(ROW_NAMES, tensor):
                print(f"      {name:>9}: {row}")
        else:
            print(f"      {tensor}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="events file or folder containing them")
    parser.add_argument("--expect", metavar="FILE.json", help="expected PR curves")
    args = parser.parse_args()

    size_guidance = {k: 0 for k in ea.STORE_EVERYTHING_SIZE_GUIDANCE}
    acc = ea.EventAccumulator(args.path, size_guidance=size_guidance)
    acc.Reload()
    tags = acc.Tags()
    errors = []

    if not acc.FirstEventTimestamp:
        errors.append("no events loaded")
    print(f"file_version: {acc.file_version}")
    # EventAccumulator parses "brain.Event:2" into the float 2.0.
    if acc.file_version != 2.0:
        errors.append(f"unexpected file_version {acc.file_version!r}")

    print("scalars:")
    for tag in sorted(tags[ea.SCALARS]):
        points = ", ".join(f"{e.step}:{e.value:.6g}" for e in acc.Scalars(tag))
        print(f"  {tag}: {points}")

    print("tensors:")
    pr_tags = set(acc.PluginTagToContent(pr_metadata.PLUGIN_NAME))
    for tag in sorted(tags[ea.TENSORS]):
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        print(f"  {tag} (plugin {plugin!r}):")
        for e in acc.Tensors(tag):
            tensor = tensor_util.make_ndarray(e.tensor_proto)
            print(f"    step {e.step}, shape {tensor.shape}, dtype {tensor.dtype}")
            print_tensor(tensor)

    if args.expect:
        with open(args.expect) as f:
            specs = json.load(f)
        if isinstance(specs, dict):
            specs = [specs]
        print("expectations:")
        for spec in specs:
            tag, step = spec["tag"], int(spec["step"])
            where = f"{tag}@{step}"
            if tag not in pr_tags:
                errors.append(f"{where}: no PR-curve tag {tag!r} in file")
                continue
            found = [e for e in acc.Tensors(tag) if e.step == step]
            if len(found) != 1:
                errors.append(f"{where}: {len(found)} events at this step")
                continue
            got = tensor_util.make_ndarray(found[0].tensor_proto)
            want, want_content = expected_pr_curve(spec)
            got_content = acc.PluginTagToContent(pr_metadata.PLUGIN_NAME)[tag]
            got_meta = pr_metadata.parse_plugin_metadata(got_content)
            want_meta = pr_metadata.parse_plugin_metadata(want_content)
            if (got_meta.version, got_meta.num_thresholds) != (
                want_meta.version,
                want_meta.num_thresholds,
            ):
                errors.append(f"{where}: plugin metadata {got_meta} != {want_meta}")
            if got.dtype != want.dtype or got.shape != want.shape:
                errors.append(
                    f"{where}: got {got.dtype}{got.shape}, want {want.dtype}{want.shape}"
                )
                continue
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            max_diff = float(diff.max()) if diff.size else 0.0
            status = "ok" if max_diff <= TOLERANCE else "MISMATCH"
            print(f"  {where}: shape {got.shape}, max |diff| = {max_diff:.3g} {status}")
            if max_diff > TOLERANCE:
                row, col = np.unravel_index(int(diff.argmax()), diff.shape)
                errors.append(
                    f"{where}: {ROW_NAMES[row]}[{col}] = {float(got[row, col])!r}, "
                    f"pb() gives {float(want[row, col])!r}"
                )

    if errors:
        print("FAILED:")
        for e in errors:
            print(f"  {e}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
