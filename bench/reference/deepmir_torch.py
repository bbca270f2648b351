#!/usr/bin/env python3
"""PyTorch reference of the deepMir VGG-style pre-miRNA classifier, for the benchmark.

The same network as lib/src/hairpin/classifier.ts with its defaults (Cordero et al. 2019,
bioRxiv 840579; github.com/jacordero/deepmir): input 25x100x3 images in [0, 1]; 2
modules of two 3x3 convolutions (48 and 60 filters, ReLU; the very first one 'valid',
the rest 'same'), 2x2 max-pooling and dropout 0.25 each; flatten (5*24*60 = 7,200);
dense 128 ReLU, dropout 0.5; dense 2 softmax (1,002,554 parameters). Adam(1e-3, 0.9,
0.999, eps 1e-7), categorical cross-entropy.

The network flattens in Keras' NHWC order (it permutes back before Flatten), so the first dense
kernel of a Keras / TensorFlow.js model loads without reordering its rows.

CLI:
  deepmir_torch.py bench [--threads 2] [--train-batch 128] [--predict-batch 256] [--seconds 10]
      Times training steps and inference on random hairpin-like images and prints JSON
      {"pytorch_train_samples_per_s", "pytorch_predict_samples_per_s", "torch_version",
       "threads", "train_batch", "predict_batch", "parameters"}.
  deepmir_torch.py parity-fixture --images NPZ --out JSON [--seed 20241130]
      The forward pass (eval mode, softmax) of the default classifier with weights drawn from
      mulberry32(seed) exactly as test/fixtures/make_deepmir_parity.ts draws them (layers in order,
      kernel then bias, row-major in the Keras shapes: conv HWIO, dense [in, out]; kernel values
      (2u - 1) * sqrt(6 / fan_in), bias values (2u - 1) * 0.1, float64 then float32),
      on the uint8 images of NPZ scaled to [0, 1]; writes the probabilities (7 significant
      digits) as the JSON fixture test/parity.test.ts compares our classifier against:
        /usr/bin/python3 bench/reference/deepmir_torch.py parity-fixture \\
          --images test/fixtures/deepmir_parity_images.npz \\
          --out test/fixtures/deepmir_reference_probabilities.json
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import numpy as np
import torch
from torch import nn

from arch00b_torch import time_training_and_inference  # same timing as the arch_00b comparator


class DeepMirVgg(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 48, 3, padding=0), nn.ReLU(),
            nn.Conv2d(48, 48, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(48, 60, 3, padding=1), nn.ReLU(),
            nn.Conv2d(60, 60, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(60 * 5 * 24, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 2),
        )

    def forward(self, x_nhwc):
        # NHWC in (as the TypeScript model), NCHW inside (PyTorch's native layout), NHWC again
        # before Flatten so the features come in Keras' order.
        features = self.features(x_nhwc.permute(0, 3, 1, 2))
        return self.head(features.permute(0, 2, 3, 1))

    def keras_ordered_weights(self):
        """(torch parameter, Keras shape, kind) in the order Keras / TensorFlow.js list the weights."""
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        denses = [m for m in self.head if isinstance(m, nn.Linear)]
        out = []
        for conv in convs:
            o, i, kh, kw = conv.weight.shape
            out.append((conv.weight, (kh, kw, i, o), "conv"))
            out.append((conv.bias, (o,), "bias"))
        for dense in denses:
            o, i = dense.weight.shape
            out.append((dense.weight, (i, o), "dense"))
            out.append((dense.bias, (o,), "bias"))
        return out


def mulberry32(seed):
    """The generator of lib/src/random.ts / test/fixtures/make_deepmir_parity.ts, on 32-bit unsigned ints."""
    state = seed & 0xFFFFFFFF
    mask = 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & mask

    def draw():
        nonlocal state
        state = (state + 0x6D2B79F5) & mask
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & mask
        return ((t ^ (t >> 14)) & mask) / 4294967296.0
    return draw


def fill_parity_weights(model, seed):
    """Sets every weight as the TypeScript fixture does; returns the number of values."""
    draw = mulberry32(seed)
    count = 0
    with torch.no_grad():
        for parameter, shape, kind in model.keras_ordered_weights():
            size = int(np.prod(shape))
            u = np.fromiter((draw() for _ in range(size)), dtype=np.float64, count=size)
            if kind == "conv":
                limit = np.sqrt(6.0 / (shape[0] * shape[1] * shape[2]))
            elif kind == "dense":
                limit = np.sqrt(6.0 / shape[0])
            else:
                limit = 0.1
            values = ((2.0 * u - 1.0) * limit).astype(np.float32).reshape(shape)
            if kind == "conv":
                values = values.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            elif kind == "dense":
                values = values.T  # [in, out] -> [out, in]
            parameter.copy_(torch.from_numpy(np.ascontiguousarray(values)))
            count += size
    return count


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def command_parity_fixture(args):
    torch.set_num_threads(args.threads)
    with np.load(args.images) as archive:
        images = archive[archive.files[0]]
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (25, 100, 3):
        raise ValueError(f"{args.images}: expected uint8 images (N, 25, 100, 3), got {images.dtype} {images.shape}")
    x = (images.astype(np.float64) / 255.0).astype(np.float32)
    model = DeepMirVgg()
    count = fill_parity_weights(model, args.seed)
    model.eval()
    with torch.inference_mode():
        probabilities = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    fixture = {
        "description": "deepMir classifier (default: 2 modules, 48/60 filters, dense 128) with weights drawn from "
                       "mulberry32(seed) as test/fixtures/make_deepmir_parity.ts draws them, softmax probabilities "
                       "of the images from the independent PyTorch implementation (bench/reference/deepmir_torch.py); "
                       "float32, 7 significant digits. Parity tolerance 1e-4 absolute.",
        "images": os.path.relpath(args.images) if args.images_label is None else args.images_label,
        "images_sha256": _sha256(args.images),
        "seed": args.seed,
        "parameters": count,
        "produced_by": " ".join(["python3", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "probabilities": [[float(f"{v:.7g}") for v in row] for row in probabilities],
    }
    text = json.dumps(fixture, indent=1) + "\n"
    directory = os.path.dirname(os.path.abspath(args.out))
    tmp_path = os.path.join(directory, f".{os.path.basename(args.out)}.{os.getpid()}.tmp")
    with open(tmp_path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp_path, args.out)
    print(f"wrote {args.out}: {len(probabilities)} images, {count} parameters", file=sys.stderr)
    return 0


def command_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    palette = np.array([[255, 255, 255], [255, 255, 0], [0, 0, 255], [255, 0, 0], [0, 255, 0], [0, 0, 0]], dtype=np.float32) / 255

    def random_batch(size):
        # Hairpin-like: the six colours of the encoding, mostly white background.
        codes = np.where(rng.random((size, 25, 100)) < 0.7, 0, rng.integers(1, 6, (size, 25, 100)))
        x = palette[codes].astype(np.float32)
        y = rng.integers(0, 2, size)
        return torch.from_numpy(x), torch.from_numpy(y)

    model = DeepMirVgg()
    train_batches = [random_batch(args.train_batch) for _ in range(4)]
    predict_x, _ = random_batch(args.predict_batch)
    # CrossEntropyLoss = softmax + categorical cross-entropy; inference times the logits (the
    # softmax over 2 columns is negligible).
    print(json.dumps(time_training_and_inference(model, nn.CrossEntropyLoss(), train_batches, predict_x, args)))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="time training and inference")
    bench.add_argument("--threads", type=int, default=2)
    bench.add_argument("--train-batch", type=int, default=128)
    bench.add_argument("--predict-batch", type=int, default=256)
    bench.add_argument("--seconds", type=float, default=10.0)
    bench.add_argument("--seed", type=int, default=1789)
    bench.set_defaults(run=command_bench)
    fixture = sub.add_parser("parity-fixture", help="write the parity fixture JSON (seeded weights, given images)")
    fixture.add_argument("--images", required=True, help="uint8 images (N, 25, 100, 3) in a .npz")
    fixture.add_argument("--out", required=True, help="output JSON (written atomically)")
    fixture.add_argument("--seed", type=int, default=20241130)
    fixture.add_argument("--threads", type=int, default=2)
    fixture.add_argument("--images-label", help="how to name the images in the JSON (default: the path as given)")
    fixture.set_defaults(run=command_parity_fixture)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
