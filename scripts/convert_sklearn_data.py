#!/usr/bin/env python3
"""Converts two small data sets that scikit-learn bundles (BSD-3-Clause) into the files
shipped in data/ (run once; the output is committed):

- data/digits/: the 8x8 handwritten digits (1,797 images, pixel values 0..16, 10 classes)
  as gzip-compressed IDX files (the MNIST format, `data.source: "idx"`): the first 1,437
  images are the training file, the last 360 the test file, in the original order.
- data/iris/: Fisher's iris table (150 rows, 4 features, 3 species) as CSV files with a
  header and the species as names (`data.source: "csv"`, `label_column: "species"`): rows
  shuffled with numpy's RandomState(0), the first 120 for training, the last 30 for test.

Usage: python3 scripts/convert_sklearn_data.py SKLEARN_DATA_DIR
where SKLEARN_DATA_DIR holds digits.csv.gz and iris.csv (sklearn/datasets/data/ of an
installed scikit-learn or of its wheel, e.g. `pip download scikit-learn --no-deps` and unzip).
Only the standard library and numpy are needed. Output is byte-for-byte reproducible
(gzip mtime 0).
"""
import csv, gzip, io, os, struct, sys

import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def idx_bytes(array, dtype_code=0x08):
    header = struct.pack(">BBBB", 0, 0, dtype_code, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes(order="C")


def write_gz(path, payload):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def digits(src):
    rows = np.loadtxt(gzip.open(os.path.join(src, "digits.csv.gz"), "rt"), delimiter=",", dtype=np.int64)
    assert rows.shape == (1797, 65), rows.shape
    images = rows[:, :64].reshape(-1, 8, 8)
    labels = rows[:, 64]
    assert images.min() >= 0 and images.max() <= 16 and set(labels) == set(range(10))
    out = os.path.join(root, "digits")
    os.makedirs(out, exist_ok=True)
    n_train = 1437
    for name, sl in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        write_gz(os.path.join(out, f"{name}-images-idx3-ubyte.gz"), idx_bytes(images[sl]))
        write_gz(os.path.join(out, f"{name}-labels-idx1-ubyte.gz"), idx_bytes(labels[sl]))


def iris(src):
    with open(os.path.join(src, "iris.csv")) as f:
        reader = csv.reader(f)
        head = next(reader)
        names = head[2:]
        rows = [r for r in reader if r]
    assert len(rows) == 150
    order = np.random.RandomState(0).permutation(len(rows))
    rows = [rows[i] for i in order]
    out = os.path.join(root, "iris")
    os.makedirs(out, exist_ok=True)
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    for name, part in (("train", rows[:120]), ("test", rows[120:])):
        with open(os.path.join(out, f"{name}.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            for r in part:
                w.writerow(r[:4] + [names[int(r[4])]])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    digits(sys.argv[1])
    iris(sys.argv[1])
