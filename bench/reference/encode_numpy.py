#!/usr/bin/env python3
"""NumPy reference implementation of the miRNA x site binding-matrix encoding.

The original's encoding (github.com/ML-Bioinfo-CEITEC/mirna_binding). One miRNA
(20 nt) x one site (50 nt) -> float32 matrix [50, 20, 1]; row i = site
nucleotide i, column j = miRNA nucleotide j, both 5'->3' as given. Value 1 for
Watson-Crick pairs (A-T, T-A, G-C, C-G; U counts as T), else 0 (G-U wobble, N,
anything else).

This is a comparator for the TypeScript encoder (lib/src/binding/encoding.ts), written
the fast NumPy way: every sequence becomes a row of uint8 codes (one 256-entry
lookup over the concatenated bytes), and the pair matrix is one broadcast
comparison (partner code of the site nucleotide == miRNA code), written into a
float32 buffer.

CLI:
  encode_numpy.py --bench N [--seed S] [--repeats R]
      Encodes N random seeded pairs on one core (best of R runs; the timed part
      goes from Python strings to a preallocated float32 [N,50,20,1] buffer) and prints
      JSON {"pairs_per_s", "n", "seconds", "numpy_version", "threads"}.
  encode_numpy.py --tsv FILE[.gz] --out FILE.npy
      Encodes a pair table (lock format: mirna_binding_sequence,
      binding_sequence, label; or miRBind format: miRNA, gene, label) and saves
      a float32 [n,50,20,1] array (written atomically).
"""
import os

# One core when run as a script (the benchmark): must be set before numpy is imported.
# When imported as a module (arch00b_torch.py), the caller's threading is left alone.
if __name__ == "__main__":
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

MIRNA_LENGTH = 20
SITE_LENGTH = 50

# Nucleotide code: 0 = other (N, anything), 1 = A, 2 = C, 3 = G, 4 = T/U.
_CODE_OF_BYTE = np.zeros(256, dtype=np.uint8)
for _letters, _code in (("Aa", 1), ("Cc", 2), ("Gg", 3), ("TtUu", 4)):
    for _ch in _letters:
        _CODE_OF_BYTE[ord(_ch)] = _code

# Watson-Crick partner of each code (A<->T, C<->G); "other" maps to 255, which
# no miRNA code equals, so N and unknown letters never pair. A site code s pairs
# with miRNA code m exactly when PARTNER_CODE[s] == m (equivalent to a 5x5
# pair table, but a broadcast comparison is about 2x faster than a gather).
PARTNER_CODE = np.array([255, 4, 3, 2, 1], dtype=np.uint8)


def sequences_to_codes(sequences, length):
    """Strings of exactly `length` characters -> uint8 codes [n, length]."""
    joined = "".join(sequences).encode("ascii")
    if len(joined) != len(sequences) * length:
        for index, seq in enumerate(sequences):
            if len(seq) != length:
                raise ValueError(f"sequence {index}: expected {length} nt, got {len(seq)} ({seq!r})")
    raw = np.frombuffer(joined, dtype=np.uint8).reshape(len(sequences), length)
    return _CODE_OF_BYTE[raw]


def encode_binding_matrix(mirnas, sites, out=None):
    """miRNAs (20 nt each) and sites (50 nt each) -> float32 [n, 50, 20, 1].

    `out`, if given, is a float32 array of n*1000 elements that receives the
    result (lets a benchmark reuse one buffer, as the TypeScript encoder does).
    """
    if len(mirnas) != len(sites):
        raise ValueError(f"{len(mirnas)} miRNAs but {len(sites)} sites")
    n = len(mirnas)
    mirna_codes = sequences_to_codes(mirnas, MIRNA_LENGTH)  # [n, 20]
    partner_codes = PARTNER_CODE[sequences_to_codes(sites, SITE_LENGTH)]  # [n, 50]
    if out is None:
        out = np.empty((n, SITE_LENGTH, MIRNA_LENGTH, 1), dtype=np.float32)
    matrices = out.reshape(n, SITE_LENGTH, MIRNA_LENGTH)
    # Broadcast [n, 50, 1] == [n, 1, 20] -> [n, 50, 20], cast bool -> float32 in place.
    np.equal(partner_codes[:, :, None], mirna_codes[:, None, :], out=matrices)
    return out.reshape(n, SITE_LENGTH, MIRNA_LENGTH, 1)


def normalise_mirna(seq):
    """Upper-case, U->T, right-pad with N to 20, cut to 20 (preprocessing step 5)."""
    seq = seq.strip().upper().replace("U", "T")
    return (seq + "N" * MIRNA_LENGTH)[:MIRNA_LENGTH]


def normalise_site(seq):
    return seq.strip().upper().replace("U", "T")


def read_pair_table(path):
    """Read a lock-format or miRBind-format TSV (plain or gzip).

    Returns (mirnas, sites, labels uint8) with miRNAs normalised to 20 nt.
    Raises ValueError naming file and row on malformed input.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="ascii") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if {"mirna_binding_sequence", "binding_sequence", "label"} <= set(header):
            cols = ("mirna_binding_sequence", "binding_sequence", "label")
            positive, negative = "positive", "negative"
        elif {"miRNA", "gene", "label"} <= set(header):
            cols = ("miRNA", "gene", "label")
            positive, negative = "1", "0"
        else:
            raise ValueError(f"{path}:1: unknown header {header}; expected lock or miRBind columns")
        mirna_col, site_col, label_col = (header.index(c) for c in cols)
        mirnas, sites, labels = [], [], []
        for row_number, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) < len(header):
                raise ValueError(f"{path}:{row_number}: expected {len(header)} fields, got {len(fields)}")
            site = normalise_site(fields[site_col])
            if len(site) != SITE_LENGTH:
                raise ValueError(f"{path}:{row_number}: site has {len(site)} nt, expected {SITE_LENGTH}")
            label = fields[label_col].strip()
            if label not in (positive, negative):
                raise ValueError(f"{path}:{row_number}: label {label!r}, expected {positive!r} or {negative!r}")
            mirnas.append(normalise_mirna(fields[mirna_col]))
            sites.append(site)
            labels.append(1 if label == positive else 0)
    return mirnas, sites, np.asarray(labels, dtype=np.uint8)


def random_pairs(n, seed):
    """n random (miRNA 20 nt, site 50 nt) string pairs over ACGT, seeded."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    mirna_bytes = letters[rng.integers(0, 4, size=(n, MIRNA_LENGTH))]
    site_bytes = letters[rng.integers(0, 4, size=(n, SITE_LENGTH))]
    mirnas = [row.tobytes().decode("ascii") for row in mirna_bytes]
    sites = [row.tobytes().decode("ascii") for row in site_bytes]
    return mirnas, sites


def run_bench(n, seed, repeats):
    mirnas, sites = random_pairs(n, seed)
    buffer = np.zeros((n, SITE_LENGTH, MIRNA_LENGTH, 1), dtype=np.float32)  # preallocated, touched once
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        encode_binding_matrix(mirnas, sites, out=buffer)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
    checksum = float(buffer.sum(dtype=np.float64))
    return {
        "pairs_per_s": n / best,
        "n": n,
        "seconds": best,
        "repeats": repeats,
        "seed": seed,
        "ones": checksum,
        "numpy_version": np.__version__,
        "threads": 1,
    }


def save_npy_atomic(path, array):
    directory = os.path.dirname(os.path.abspath(path))
    tmp_path = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp_path, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp_path, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=int, metavar="N", help="encode N random seeded pairs and print JSON timing")
    parser.add_argument("--seed", type=int, default=1789)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tsv", help="pair table to encode (lock or miRBind format, .gz allowed)")
    parser.add_argument("--out", help="output .npy file for --tsv")
    args = parser.parse_args(argv)
    if args.bench is not None:
        if args.bench <= 0:
            parser.error("--bench N needs N > 0")
        print(json.dumps(run_bench(args.bench, args.seed, args.repeats)))
        return 0
    if args.tsv:
        if not args.out:
            parser.error("--tsv needs --out FILE.npy")
        mirnas, sites, _labels = read_pair_table(args.tsv)
        save_npy_atomic(args.out, encode_binding_matrix(mirnas, sites))
        print(f"wrote {args.out}: float32 [{len(mirnas)}, 50, 20, 1]", file=sys.stderr)
        return 0
    parser.error("give --bench N or --tsv FILE --out FILE.npy")
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
