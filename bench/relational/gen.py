"""Writes the bench/relational inputs (numpy, fixed seeds) into a folder:
gb_2m.csv    2,000,000 rows: k (1,000 levels "g0".."g999"), x0..x4 numeric
join_l.csv   2,000,000 rows: id (integer 0..9,999 and some unmatched), v numeric
join_r.csv      10,000 rows: id (integer 0..9,999), w numeric, name text
With --big also gb_10m.csv (10,000,000 rows, 1,000,000 groups) and
join5_l.csv / join5_r.csv (5,000,000 rows each, unique ids, half matching).
With --text, free-text (ARFF string) keys: gb_1m_text.arff (1,000,000 rows, k of
1,000 texts, x0), join_l_text.arff (1,000,000 rows, id of 10,500 texts, v),
join_r_text.arff (10,000 rows, id, w), uniq_text.arff (1,000,000 distinct u, x).
usage: python3 gen.py DIR [--big] [--text]"""
import os
import sys

import numpy as np


def write(path, cols):
    import pandas as pd
    pd.DataFrame(cols).to_csv(path, index=False, float_format="%.6g")


def arff(path, cols):
    """cols: (name, "string" or "numeric", values) each."""
    with open(path, "w") as f:
        f.write("@relation r\n")
        for name, kind, _ in cols:
            f.write(f"@attribute {name} {kind}\n")
        f.write("@data\n")
        f.writelines(",".join(map(str, row)) + "\n" for row in zip(*(c[2] for c in cols)))


def text(out):
    rng = np.random.default_rng(7)
    n = 1_000_000
    k = rng.integers(0, 1000, n)
    arff(os.path.join(out, "gb_1m_text.arff"),
         [("k", "string", [f"g{x}" for x in k]), ("x0", "numeric", rng.normal(size=n).round(6))])
    ids = rng.integers(0, 10_500, n)
    arff(os.path.join(out, "join_l_text.arff"),
         [("id", "string", [f"u{x}" for x in ids]), ("v", "numeric", rng.normal(size=n).round(6))])
    arff(os.path.join(out, "join_r_text.arff"),
         [("id", "string", [f"u{x}" for x in range(10_000)]),
          ("w", "numeric", rng.normal(size=10_000).round(6))])
    arff(os.path.join(out, "uniq_text.arff"),
         [("u", "string", [f"s{x}" for x in rng.permutation(n)]), ("x", "numeric", range(n))])


def main():
    out = sys.argv[1]
    big = "--big" in sys.argv
    os.makedirs(out, exist_ok=True)
    if "--text" in sys.argv:
        text(out)
    rng = np.random.default_rng(22)
    n = 2_000_000
    k = rng.integers(0, 1000, n)
    cols = {"k": np.char.add("g", k.astype(str))}
    for i in range(5):
        cols[f"x{i}"] = rng.normal(size=n)
    write(os.path.join(out, "gb_2m.csv"), cols)
    write(os.path.join(out, "join_l.csv"), {"id": rng.integers(0, 10_500, n), "v": rng.normal(size=n)})
    write(os.path.join(out, "join_r.csv"), {"id": np.arange(10_000), "w": rng.normal(size=10_000),
                                             "name": np.char.add("n", np.arange(10_000).astype(str))})
    if big:
        m = 10_000_000
        write(os.path.join(out, "gb_10m.csv"), {"k": rng.integers(0, 1_000_000, m), "x0": rng.normal(size=m)})
        h = 5_000_000
        write(os.path.join(out, "join5_l.csv"), {"id": rng.permutation(h), "v": rng.normal(size=h)})
        write(os.path.join(out, "join5_r.csv"), {"id": rng.permutation(h) + h // 2, "w": rng.normal(size=h)})


main()
