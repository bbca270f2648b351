#!/usr/bin/env python3
"""PyTorch reference of the deepMir VGG-style pre-miRNA classifier, for the benchmark.

The same network as lib/src/hairpin/classifier.ts with its defaults (Cordero et al. 2019,
spec hairpin.md section 3): input 25x100x3 images in [0, 1]; 2 modules of two 3x3
convolutions (48 and 60 filters, ReLU; the very first one 'valid', the rest 'same'),
2x2 max-pooling and dropout 0.25 each; flatten (5*24*60 = 7,200); dense 128 ReLU, dropout
0.5; dense 2 softmax (1,002,554 parameters). Adam(1e-3, 0.9, 0.999, eps 1e-7), categorical
cross-entropy.

CLI:
  deepmir_torch.py bench [--threads 2] [--train-batch 128] [--predict-batch 256] [--seconds 10]
      Times training steps and inference on random hairpin-like images and prints JSON
      {"pytorch_train_samples_per_s", "pytorch_predict_samples_per_s", "torch_version",
       "threads", "train_batch", "predict_batch", "parameters"}.
"""
import argparse
import json
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
        # NHWC in (as the TypeScript model), NCHW inside (PyTorch's native layout).
        return self.head(self.features(x_nhwc.permute(0, 3, 1, 2)))


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
    args = parser.parse_args(argv)
    return command_bench(args)


if __name__ == "__main__":
    sys.exit(main())
