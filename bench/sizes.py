#!/usr/bin/python3
"""Kiln against XGBoost and scikit-learn on the sizes most users fit, in one
run: 5,000 x 50, 50,000 x 20 and 200,000 x 100 (bench/data.py s5k, s50k,
s200k), at 1 and 2 threads. The tools take turns (Kiln, XGBoost,
scikit-learn, Kiln, ...) REPS times, so that a busy moment of the machine
falls on all of them; each cell reports the median fit seconds and the
spread (min-max) and test ROC-AUC, then Kiln's ratio to each peer
(> 1: Kiln faster) and Kiln's 2-thread time over its 1-thread time.

  bench/sizes.py gbdt    [--reps R] [--sizes s5k,s50k,s200k] [--lr 0.3,0.1]
      gradient boosting: 100 rounds, depth 6, L2 1, min child weight 1,
      255/256 bins; XGBoost hist, scikit-learn HistGradientBoosting
  bench/sizes.py forest  [--reps R] [--sizes ...]
      random forest: 50 trees, sqrt features per node, bootstrap, fully grown;
      XGBoost's XGBRFClassifier (hist, depth 0 = unlimited is not allowed:
      depth 16) and scikit-learn's RandomForestClassifier

Kiln runs through build/bench_model (the fit timed in-process, the CSV read
not); the peers fit in this process, threads set by threadpoolctl / n_jobs.
"""
import argparse, json, os, statistics, subprocess, sys, time, warnings

import numpy as np, pandas as pd

warnings.simplefilter("ignore")
import sklearn, xgboost as xgb
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("family", choices=["gbdt", "forest"])
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--sizes", default="s5k,s50k,s200k")
ap.add_argument("--lr", default="0.3,0.1")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--data", default=os.environ.get("KILN_BENCH_DATA", "/tmp/kiln-bench"))
a = ap.parse_args()
subprocess.run([sys.executable, f"{root}/bench/data.py", a.data, *a.sizes.split(",")], check=True)
bench_model = f"{root}/build/bench_model"
if not os.access(bench_model, os.X_OK):
    sys.exit("build first: make build")


def kiln_fit(name, threads, params):
    model = "gbdt" if a.family == "gbdt" else "random_forest"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.setdefault("GOMP_SPINCOUNT", "10000")  # what the kiln binary sets for itself (src/cli/main.c)
    out = subprocess.run([bench_model, "fit", model, f"{a.data}/{name}_train.csv",
                          f"{a.data}/{name}_test.csv", "y", "1", *params],
                         env=env, check=True, capture_output=True, text=True).stdout
    k = json.loads(out)["kiln"]
    return k["median_s"], k["test_roc_auc"]


def peers(lr, threads):
    if a.family == "gbdt":
        return {
            "xgboost": lambda: xgb.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=lr,
                                                 reg_lambda=1, min_child_weight=1, max_bin=256,
                                                 tree_method="hist", n_jobs=threads),
            "sklearn": lambda: HistGradientBoostingClassifier(
                max_iter=100, max_depth=6, max_leaf_nodes=None, learning_rate=lr,
                l2_regularization=1, min_samples_leaf=1, max_bins=255, early_stopping=False)}
    return {
        "xgboost": lambda: xgb.XGBRFClassifier(n_estimators=50, max_depth=16, colsample_bynode=None,
                                               subsample=0.632, tree_method="hist", max_bin=256,
                                               n_jobs=threads, random_state=0),
        "sklearn": lambda: RandomForestClassifier(n_estimators=50, max_features="sqrt",
                                                  n_jobs=threads, random_state=0)}


def kiln_params(lr):
    if a.family == "gbdt":
        return ["n_estimators=100", "max_depth=6", "max_leaves=0", f"learning_rate={lr}", "l2=1",
                "min_child_weight=1", "min_samples_leaf=1", "max_bins=255"]
    return ["n_estimators=50"]


lrs = [float(v) for v in a.lr.split(",")] if a.family == "gbdt" else [None]
rows = []
for name in a.sizes.split(","):
    tr = pd.read_csv(f"{a.data}/{name}_train.csv"); te = pd.read_csv(f"{a.data}/{name}_test.csv")
    ytr, yte = tr.pop("y").to_numpy(), te.pop("y").to_numpy()
    Xtr, Xte = tr.to_numpy(), te.to_numpy()
    for lr in lrs:
        for threads in [int(t) for t in a.threads.split(",")]:
            times = {"kiln": [], "xgboost": [], "sklearn": []}
            auc = {}
            makers = peers(lr, threads)
            for _ in range(a.reps):
                t, auc["kiln"] = kiln_fit(name, threads, kiln_params(lr))
                times["kiln"].append(t)
                for tool, make in makers.items():
                    with threadpool_limits(threads):
                        m = make(); t0 = time.perf_counter(); m.fit(Xtr, ytr)
                        times[tool].append(time.perf_counter() - t0)
                    auc[tool] = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
            rows.append({"data": name, "shape": f"{len(Xtr):,} x {Xtr.shape[1]}", "lr": lr,
                         "threads": threads, "auc": auc,
                         "median": {k: statistics.median(v) for k, v in times.items()},
                         "min": {k: min(v) for k, v in times.items()},
                         "max": {k: max(v) for k, v in times.items()}})

title = ("gbdt: 100 rounds, depth 6" if a.family == "gbdt" else "random forest: 50 trees")
print(f"== {title}; median fit seconds [min-max] of {a.reps} interleaved runs; "
      f"xgboost {xgb.__version__}, sklearn {sklearn.__version__}")
for r in rows:
    lr = f" lr {r['lr']}" if r["lr"] is not None else ""
    cells = "  ".join(f"{t} {r['median'][t]:7.3f} [{r['min'][t]:.3f}-{r['max'][t]:.3f}] auc {r['auc'][t]:.4f}"
                      for t in ("kiln", "xgboost", "sklearn"))
    k = r["median"]["kiln"]
    print(f"{r['data']:6s} {r['shape']:>14s}{lr} {r['threads']} thr  {cells}  "
          f"ratio xgb {r['median']['xgboost'] / k:4.2f}x sk {r['median']['sklearn'] / k:4.2f}x")
for r in rows:
    if r["threads"] == 2:
        one = next(o for o in rows if o["data"] == r["data"] and o["lr"] == r["lr"] and o["threads"] == 1)
        print(f"kiln 2 threads / 1 thread, {r['data']}{'' if r['lr'] is None else ' lr ' + str(r['lr'])}: "
              f"{r['median']['kiln'] / one['median']['kiln']:.2f}")
