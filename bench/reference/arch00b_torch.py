#!/usr/bin/env python3
"""Independent PyTorch implementation of the CEITEC miRNA-binding CNN "arch_00b".

Original: github.com/ML-Bioinfo-CEITEC/mirna_binding. Used as a comparator only: to
produce parity scores for the TypeScript implementation and to benchmark
training / inference speed against it. Needs Debian's python3-torch,
python3-numpy and python3-h5py (run it with /usr/bin/python3 if the python3 on
PATH is another interpreter).

Model (input float32 [n, 50, 20, 1] NHWC in Keras; [n, 1, 50, 20] NCHW here):
  3 x [Conv2D(32/64/128, 3x3, same) -> LeakyReLU(0.3) -> BatchNorm(eps 1e-3)
       -> MaxPool 2x2 -> Dropout 0.25]            50x20 -> 25x10 -> 12x5 -> 6x2
  Flatten in NHWC order (6*2*128 = 1,536)
  3 x [Dense(128/64/32) -> LeakyReLU(0.3) -> BatchNorm -> Dropout 0.25]
  Dense(1) -> sigmoid.                                   301,569 parameters.

Keras .h5 weights (Keras 2.2.4-tf HDF5): model_weights/<layer>/<layer>/kernel:0
etc. Conv kernels HWIO -> torch OIHW; Dense kernels [in, out] -> torch [out, in];
BatchNorm gamma/beta/moving_mean/moving_variance -> weight/bias/running_mean/
running_var. The first Dense layer sees the NHWC flatten order because forward()
permutes NCHW -> NHWC before flattening, so its kernel needs no row shuffle.

CLI:
  arch00b_torch.py predict --model H5 --input TSV[.gz] [--limit N]
                   [--negative-stride K] [--batch 256] [--json]
      Scores pairs (one score per line, %.7g; or one JSON object with --json,
      which also carries ROC-AUC when both labels occur).
      --negative-stride K keeps every positive and every K-th negative in file
      order starting with the first negative (the published-model check subset
      uses K = 10 on scan_test_set).
  arch00b_torch.py bench [--threads 2] [--train-batch 32] [--predict-batch 256]
                   [--seconds S] [--seed 1789]
      Training samples/s (fresh Keras-style init, Adam 1e-3 / eps 1e-7, binary
      cross-entropy, random seeded data, train mode) and predict samples/s
      (eval mode, inference_mode); prints one JSON line.
  arch00b_torch.py parity-fixture --models-dir DIR --input TSV --out JSON
      Scores of all five published models on a pair table, as the JSON
      fixture test/parity.test.ts compares our TypeScript model against.
      Produce it from the repository root with
        python3 bench/reference/arch00b_torch.py parity-fixture \\
          --models-dir "$MIRNA_DL_DATA/mirna_binding/data/models" \\
          --input test/fixtures/synthetic_pairs.tsv \\
          --out test/fixtures/arch00b_reference_scores.json
"""
import argparse
import datetime
import hashlib
import json
import os
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encode_numpy import encode_binding_matrix, read_pair_table  # noqa: E402

LEAKY_SLOPE = 0.3
BN_EPSILON = 1e-3
BN_MOMENTUM_TORCH = 0.01  # Keras momentum 0.99 = torch momentum 1 - 0.99
DROPOUT_RATE = 0.25
CONV_FILTERS = (32, 64, 128)
DENSE_UNITS = (128, 64, 32)


class Arch00b(nn.Module):
    """arch_00b; forward takes NHWC float32 [n, 50, 20, 1] (Keras layout), returns [n] probabilities."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList()
        self.conv_norms = nn.ModuleList()
        in_channels = 1
        for filters in CONV_FILTERS:
            self.convs.append(nn.Conv2d(in_channels, filters, kernel_size=3, padding=1))
            self.conv_norms.append(nn.BatchNorm2d(filters, eps=BN_EPSILON, momentum=BN_MOMENTUM_TORCH))
            in_channels = filters
        self.denses = nn.ModuleList()
        self.dense_norms = nn.ModuleList()
        in_features = 6 * 2 * CONV_FILTERS[-1]
        for units in DENSE_UNITS:
            self.denses.append(nn.Linear(in_features, units))
            self.dense_norms.append(nn.BatchNorm1d(units, eps=BN_EPSILON, momentum=BN_MOMENTUM_TORCH))
            in_features = units
        self.output = nn.Linear(in_features, 1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(DROPOUT_RATE)
        self.leaky = nn.LeakyReLU(LEAKY_SLOPE)
        self.reset_keras_style()

    def reset_keras_style(self):
        """Keras defaults: glorot_uniform kernels, zero biases, BN gamma 1 / beta 0."""
        for layer in list(self.convs) + list(self.denses) + [self.output]:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x_nhwc):
        x = x_nhwc.permute(0, 3, 1, 2)  # NHWC -> NCHW
        for conv, norm in zip(self.convs, self.conv_norms):
            x = self.dropout(self.pool(norm(self.leaky(conv(x)))))
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten in Keras (NHWC) order
        for dense, norm in zip(self.denses, self.dense_norms):
            x = self.dropout(norm(self.leaky(dense(x))))
        return torch.sigmoid(self.output(x)).squeeze(1)


def _h5_weights(group, layer_name):
    """{short weight name: numpy array} for one layer of a Keras HDF5 model_weights group."""
    layer = group[layer_name]
    weights = {}
    for raw_name in layer.attrs["weight_names"]:
        name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
        weights[name.split("/")[-1].split(":")[0]] = np.asarray(layer[name])
    return weights


def load_keras_h5(path):
    """Build Arch00b and fill it from a Keras 2.x HDF5 file; returns the model in eval mode.

    Layers are matched by kind and order (Conv2D, BatchNormalization, Dense),
    which is how the five published files are laid out.
    """
    model = Arch00b()
    with h5py.File(path, "r") as handle:
        group = handle["model_weights"] if "model_weights" in handle else handle
        layer_names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["layer_names"]]
        kernels, norms = [], []
        for name in layer_names:
            weights = _h5_weights(group, name)
            if "kernel" in weights:
                kernels.append((name, weights))
            elif "moving_mean" in weights:
                norms.append((name, weights))
            elif weights:
                raise ValueError(f"{path}: layer {name} has unexpected weights {sorted(weights)}")
    linear_layers = list(model.convs) + list(model.denses) + [model.output]
    norm_layers = list(model.conv_norms) + list(model.dense_norms)
    if len(kernels) != len(linear_layers) or len(norms) != len(norm_layers):
        raise ValueError(f"{path}: found {len(kernels)} kernel layers and {len(norms)} batch-norm layers; "
                         f"arch_00b has {len(linear_layers)} and {len(norm_layers)}")
    with torch.no_grad():
        for (name, weights), layer in zip(kernels, linear_layers):
            kernel = weights["kernel"]
            if kernel.ndim == 4:  # HWIO -> OIHW
                kernel = kernel.transpose(3, 2, 0, 1)
            else:  # [in, out] -> [out, in]
                kernel = kernel.T
            if tuple(kernel.shape) != tuple(layer.weight.shape):
                raise ValueError(f"{path}: layer {name} kernel {kernel.shape} != expected {tuple(layer.weight.shape)}")
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float32)))
            layer.bias.copy_(torch.from_numpy(weights["bias"].astype(np.float32)))
        for (name, weights), layer in zip(norms, norm_layers):
            if weights["gamma"].shape[0] != layer.num_features:
                raise ValueError(f"{path}: layer {name} has {weights['gamma'].shape[0]} features, "
                                 f"expected {layer.num_features}")
            layer.weight.copy_(torch.from_numpy(weights["gamma"].astype(np.float32)))
            layer.bias.copy_(torch.from_numpy(weights["beta"].astype(np.float32)))
            layer.running_mean.copy_(torch.from_numpy(weights["moving_mean"].astype(np.float32)))
            layer.running_var.copy_(torch.from_numpy(weights["moving_variance"].astype(np.float32)))
    model.eval()
    return model


def predict_scores(model, matrices, batch_size=256):
    """float32 [n, 50, 20, 1] -> float32 [n] scores, in inference mode."""
    model.eval()
    scores = np.empty(matrices.shape[0], dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, matrices.shape[0], batch_size):
            batch = torch.from_numpy(matrices[start:start + batch_size])
            scores[start:start + batch_size] = model(batch).numpy()
    return scores


def roc_auc(labels, scores):
    """ROC-AUC via the Mann-Whitney rank sum, ties given their average rank."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Average rank (1-based) over each run of equal scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(scores)]))
    average_rank = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average_rank, ends - starts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def select_rows(labels, negative_stride, limit):
    """Row indices: all positives + every K-th negative (file order, from the first), then the first `limit`."""
    if negative_stride and negative_stride > 1:
        negative_rank = np.cumsum(labels == 0) - 1  # 0-based index among negatives
        keep = (labels == 1) | ((labels == 0) & (negative_rank % negative_stride == 0))
        rows = np.flatnonzero(keep)
    else:
        rows = np.arange(len(labels))
    if limit is not None:
        rows = rows[:limit]
    return rows


def command_predict(args):
    torch.set_num_threads(args.threads)
    model = load_keras_h5(args.model)
    mirnas, sites, labels = read_pair_table(args.input)
    rows = select_rows(labels, args.negative_stride, args.limit)
    mirnas = [mirnas[i] for i in rows]
    sites = [sites[i] for i in rows]
    labels = labels[rows]
    scores = predict_scores(model, encode_binding_matrix(mirnas, sites), args.batch)
    if args.json:
        print(json.dumps({
            "model": os.path.basename(args.model),
            "input": os.path.basename(args.input),
            "n": int(len(scores)),
            "positives": int(labels.sum()),
            "roc_auc": roc_auc(labels, scores),
            "scores": [float(f"{s:.7g}") for s in scores],
            "torch_version": torch.__version__,
        }))
    else:
        sys.stdout.write("".join(f"{s:.7g}\n" for s in scores))
        auc = roc_auc(labels, scores)
        if auc is not None:
            print(f"n={len(scores)} positives={int(labels.sum())} roc_auc={auc:.5f}", file=sys.stderr)
    return 0


PUBLISHED_MODELS = ("iterative", "standard_100k_ratio10", "standard_100k_ratio1",
                    "standard_1k_ratio10", "standard_1k_ratio1")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def command_parity_fixture(args):
    """Scores of every published model on one pair table, written atomically as the parity fixture JSON."""
    torch.set_num_threads(args.threads)
    mirnas, sites, _labels = read_pair_table(args.input)
    matrices = encode_binding_matrix(mirnas, sites)
    models = {}
    model_sha256 = {}
    for name in PUBLISHED_MODELS:
        path = os.path.join(os.path.expandvars(args.models_dir), f"{name}.h5")
        scores = predict_scores(load_keras_h5(path), matrices, args.batch)
        models[name] = [float(f"{s:.7g}") for s in scores]
        model_sha256[name] = _sha256(path)
    fixture = {
        "description": "arch_00b scores of the five published CEITEC Keras models on the synthetic pairs, "
                       "from the independent PyTorch implementation (bench/reference/arch00b_torch.py); "
                       "float32 inference, 7 significant digits. Parity tolerance 1e-4 absolute.",
        "input": args.input_label or args.input,
        "input_sha256": _sha256(args.input),
        "rows": len(mirnas),
        "produced_by": args.command_label,
        "date": datetime.date.today().isoformat(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "model_sha256": model_sha256,
        "models": models,
    }
    text = json.dumps(fixture, indent=1) + "\n"
    directory = os.path.dirname(os.path.abspath(args.out))
    tmp_path = os.path.join(directory, f".{os.path.basename(args.out)}.{os.getpid()}.tmp")
    with open(tmp_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp_path, args.out)
    print(f"wrote {args.out}: {len(PUBLISHED_MODELS)} models x {len(mirnas)} rows", file=sys.stderr)
    return 0


def _timed_loop(step, seconds, min_steps=3):
    """Run step() repeatedly for about `seconds`; return (steps, elapsed)."""
    steps = 0
    start = time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if steps >= min_steps and elapsed >= seconds:
            return steps, elapsed


def command_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    def random_batch(size):
        x = (rng.random((size, 50, 20, 1)) < 0.25).astype(np.float32)  # binary, like real matrices
        y = (rng.random(size) < 0.5).astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(y)

    model = Arch00b()
    train_batches = [random_batch(args.train_batch) for _ in range(16)]
    predict_x, _ = random_batch(args.predict_batch)
    print(json.dumps(time_training_and_inference(model, nn.BCELoss(), train_batches, predict_x, args)))
    return 0


def time_training_and_inference(model, loss_fn, train_batches, predict_x, args):
    """Training samples/s (Adam 1e-3, eps 1e-7, cycling through `train_batches` of (x, y)) and
    inference samples/s on `predict_x`, each timed for `args.seconds` after a warm-up; the JSON
    fields of the `bench` commands. Shared with deepmir_torch.py."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    position = [0]

    def train_step():
        x, y = train_batches[position[0] % len(train_batches)]
        position[0] += 1
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    model.train()
    _timed_loop(train_step, min(1.0, args.seconds / 4))  # warm-up
    train_steps, train_elapsed = _timed_loop(train_step, args.seconds)

    model.eval()

    def predict_step():
        with torch.inference_mode():
            model(predict_x)

    _timed_loop(predict_step, min(1.0, args.seconds / 4))  # warm-up
    predict_steps, predict_elapsed = _timed_loop(predict_step, args.seconds)
    return {
        "pytorch_train_samples_per_s": train_steps * args.train_batch / train_elapsed,
        "pytorch_predict_samples_per_s": predict_steps * args.predict_batch / predict_elapsed,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_batch": args.train_batch,
        "predict_batch": args.predict_batch,
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    predict = sub.add_parser("predict", help="score a pair table with a published .h5 model")
    predict.add_argument("--model", required=True, help="Keras .h5 file")
    predict.add_argument("--input", required=True, help="lock or miRBind TSV, plain or .gz")
    predict.add_argument("--limit", type=int, help="score only the first N selected rows")
    predict.add_argument("--negative-stride", type=int, default=1,
                         help="keep every positive and every K-th negative (file order, from the first)")
    predict.add_argument("--batch", type=int, default=256)
    predict.add_argument("--threads", type=int, default=2)
    predict.add_argument("--json", action="store_true", help="print one JSON object instead of one score per line")
    predict.set_defaults(run=command_predict)
    bench = sub.add_parser("bench", help="training and inference throughput on random data")
    bench.add_argument("--threads", type=int, default=2)
    bench.add_argument("--train-batch", type=int, default=32)
    bench.add_argument("--predict-batch", type=int, default=256)
    bench.add_argument("--seconds", type=float, default=10.0, help="timed seconds per phase (after warm-up)")
    bench.add_argument("--seed", type=int, default=1789)
    bench.set_defaults(run=command_bench)
    fixture = sub.add_parser("parity-fixture", help="write the parity fixture JSON (all five published models)")
    fixture.add_argument("--models-dir", required=True, help="folder holding the five published .h5 files ($VARS are expanded, so the recorded command can stay portable)")
    fixture.add_argument("--input", required=True, help="pair table (lock or miRBind TSV)")
    fixture.add_argument("--out", required=True, help="output JSON (written atomically)")
    fixture.add_argument("--batch", type=int, default=256)
    fixture.add_argument("--threads", type=int, default=2)
    fixture.add_argument("--input-label", help="how to name the input in the JSON (default: as given)")
    fixture.set_defaults(run=command_parity_fixture)
    args = parser.parse_args(argv)
    args.command_label = " ".join(["python3", os.path.relpath(os.path.abspath(__file__))] + list(
        sys.argv[1:] if argv is None else argv))
    return args.run(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
