#!/usr/bin/python3
"""The benchmark datasets, written once as CSV into DIR (skipped when there):
  synth   make_classification(1,000,000 x 20, 10 informative, seed 0), split
          80/20 (seed 0): synth_train.csv, synth_test.csv, target y
  rf      the same generator at 200,000 rows: rf_train.csv, rf_test.csv
  reg     make_regression(1,000,000 x 20, 10 informative, noise 10, seed 0),
          the first 800,000 rows: reg_train.csv, target y
  s5k, s50k, s200k  make_classification at 5,000 x 50, 50,000 x 20 and
          200,000 x 100 (10, 10 and 20 informative, seed 0), split 80/20 (seed 0):
          s5k_train.csv, ... (the small and mid sizes most users fit)
  fmnist  Fashion-MNIST from Debian's dataset-fashion-mnist (60,000 + 10,000
          x 784 pixels scaled to [0, 1]; labels c0..c9): fmnist_train.csv,
          fmnist_test.csv, target label; skipped when the package is absent
usage: bench/data.py DIR NAME..."""
import os, sys, gzip
import numpy as np, pandas as pd

def write(X, y, path, target):
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df[target] = y
    df.to_csv(path, index=False, float_format="%.17g")

def classification(d, name, rows, cols=20, informative=10):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    if os.path.exists(f"{d}/{name}_test.csv"): return
    print(f"generating {name} ({rows} x {cols}) ...", flush=True)
    X, y = make_classification(n_samples=rows, n_features=cols, n_informative=informative, random_state=0)
    a, b, ya, yb = train_test_split(X, y, test_size=0.2, random_state=0)
    write(a, ya, f"{d}/{name}_train.csv", "y"); write(b, yb, f"{d}/{name}_test.csv", "y")

def regression(d):
    from sklearn.datasets import make_regression
    if os.path.exists(f"{d}/reg_train.csv"): return
    print("generating regression data ...", flush=True)
    X, y = make_regression(n_samples=1_000_000, n_features=20, n_informative=10, noise=10, random_state=0)
    write(X[:800_000], y[:800_000], f"{d}/reg_train.csv", "y")

def fmnist(d):
    F = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(F) or os.path.exists(f"{d}/fmnist_test.csv"): return
    print("converting Fashion-MNIST ...", flush=True)
    def idx(path):
        b = gzip.open(path).read(); nd = b[3]
        dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
        return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)
    for part, img, lab in (("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                           ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
        df = pd.DataFrame(idx(f"{F}/{img}").reshape(-1, 784) / 255.0, columns=[f"px{i}" for i in range(784)])
        df["label"] = [f"c{v}" for v in idx(f"{F}/{lab}")]
        df.to_csv(f"{d}/fmnist_{part}.csv", index=False, float_format="%.17g")

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for name in sys.argv[2:]:
    {"synth": lambda: classification(d, "synth", 1_000_000), "rf": lambda: classification(d, "rf", 200_000),
     "s5k": lambda: classification(d, "s5k", 5_000, 50, 10), "s50k": lambda: classification(d, "s50k", 50_000, 20),
     "s200k": lambda: classification(d, "s200k", 200_000, 100, 20),
     "reg": lambda: regression(d), "fmnist": lambda: fmnist(d)}[name]()
