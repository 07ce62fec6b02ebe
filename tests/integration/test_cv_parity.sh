#!/bin/bash
# kiln cv against scikit-learn's cross_validate with the same splitter and a
# Pipeline(StandardScaler, model): the folds are the same rows (KFold,
# StratifiedKFold, GroupKFold, TimeSeriesSplit with a gap), the scaler is
# fitted inside each fold, so every fold's scores must match sklearn's:
# within 1e-9 relative for ridge; for logistic regression labels exactly
# and probability scores within 1e-4 (sklearn's lbfgs stops at a 64-eps
# relative decrease whatever tol says, so its fit is ~1e-5 off the optimum;
# test_logistic_parity.sh checks the fit itself against a polished one). Then: parallel folds give the
# same numbers as one thread, shuffled and repeated splits are seeded, and
# bad splits fail with a clear message.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
# concrete with a group column (age) and a row-order column
$py - "$DATA/concrete.csv" "$W/concrete.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0] + ["batch", "t"])
for i, r in enumerate(rows[1:]): out.writerow(r + [f"b{(i * 7) % 11}", len(rows) - i])
PY
check() { # name, data, target, sklearn splitter, sklearn model, metric map, kiln args...
    local name=$1 data=$2 target=$3 split=$4 est=$5; shift 5
    "$KILN" --json -q cv --data "$data" --target "$target" --step standard_scaler "$@" > "$W/$name.json"
    $py - "$data" "$target" "$split" "$est" "$W/$name.json" "$name" <<'PY'
import sys, json, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.model_selection import KFold, StratifiedKFold, GroupKFold, TimeSeriesSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import Ridge, LogisticRegression
data, target, split, est, got, name = sys.argv[1:]
df = pd.read_csv(data)
groups = df.pop("batch").to_numpy() if "batch" in df else None
order = df.pop("t").to_numpy() if "t" in df else None
if "Time" in split:  # kiln --order-by t: rows sorted by t
    idx = np.argsort(order, kind="stable"); df = df.iloc[idx].reset_index(drop=True)
y = df.pop(target).to_numpy()
cls = "Logistic" in est
scoring = ({"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "f1_macro": "f1_macro",
            "log_loss": "neg_log_loss", "roc_auc": "roc_auc_ovr"} if cls else
           {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2",
            "explained_variance": "explained_variance", "median_ae": "neg_median_absolute_error"})
res = cross_validate(make_pipeline(StandardScaler(), eval(est)), df.to_numpy(), y,
                     cv=eval(split), groups=groups, scoring=scoring)
got = json.load(open(got))
assert not cls or got["roc_auc_average"] == "macro-ovr", got.get("roc_auc_average")
tol = 1e-9
worst = 0
for key in scoring:
    ref = res["test_" + key]; ref = -ref if scoring[key].startswith("neg_") else ref
    mine = np.array([f[key] for f in got["folds"]])
    assert len(mine) == len(ref), (name, key, len(mine), len(ref))
    rel = np.max(np.abs(mine - ref) / np.maximum(1, np.abs(ref)))
    worst = max(worst, rel)
    tol = 1e-4 if key in ("log_loss", "roc_auc") else 1e-9
    assert rel <= tol, (name, key, mine, ref)
    assert abs(got["mean"][key] - ref.mean()) <= tol * max(1, abs(ref.mean())), (name, key)
    assert abs(got["std"][key] - ref.std()) <= 10 * tol * max(1, ref.std()), (name, key)
print(f"{name:22s} {len(ref)} folds, every score within {worst:.2g} (relative) of sklearn")
PY
}
C="$W/concrete.csv"; T=compressive_strength
check kfold "$C" $T "KFold(5)" "Ridge(alpha=2)" --model ridge --param alpha=2 --ignore batch,t
check kfold_7 "$C" $T "KFold(7)" "Ridge(alpha=0.1)" --model ridge --param alpha=0.1 --folds 7 --ignore batch,t
check group "$C" $T "GroupKFold(4)" "Ridge()" --model ridge --groups batch --folds 4 --ignore t
check time_gap "$C" $T "TimeSeriesSplit(4, gap=10)" "Ridge()" --model ridge --time-series --order-by t --folds 4 --gap 10 --ignore batch
check time_window "$C" $T "TimeSeriesSplit(3, test_size=100, max_train_size=300)" "Ridge()" --model ridge --time-series --order-by t --folds 3 --test-rows 100 --max-train 300 --ignore batch
check stratified "$DATA/wine.csv" class "StratifiedKFold(5)" "LogisticRegression(C=0.5, tol=1e-10, max_iter=10000)" --model logistic_regression --param C=0.5 --param tol=1e-10 --param max_iter=10000 --stratify
check stratified_3 "$DATA/wine.csv" class "StratifiedKFold(3)" "LogisticRegression(tol=1e-10, max_iter=10000)" --model logistic_regression --param tol=1e-10 --param max_iter=10000 --stratify --folds 3

# --weight: the fits and every score are weighted (sklearn's metrics with
# sample_weight, which cross_val_score leaves out), and the output says so
$py - "$C" "$W/cw.csv" <<'PY'
import pandas as pd, sys
d = pd.read_csv(sys.argv[1]); d["w"] = [1.0 + (i % 3) for i in range(len(d))]; d.to_csv(sys.argv[2], index=False)
PY
"$KILN" --json -q cv --data "$W/cw.csv" --target $T --model ridge --weight w --folds 4 \
    --step standard_scaler --ignore batch,t > "$W/w.json"
"$KILN" -q cv --data "$W/cw.csv" --target $T --model ridge --weight w --folds 4 \
    --ignore batch,t > "$W/w.txt"
grep -q "(target $T; every score weighted by w)" "$W/w.txt" ||
    fail "kiln cv does not say its scores are weighted: $(head -1 "$W/w.txt")"
"$KILN" help cv > "$W/help.txt"
grep -q "sample weights, of the fits and of every score" "$W/help.txt" ||
    fail "kiln help cv: --weight weighs the scores too"
$py - "$W/cw.csv" $T "$W/w.json" <<'PY'
import json, sys, numpy as np, pandas as pd
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
d = pd.read_csv(sys.argv[1]); y = d.pop(sys.argv[2]).to_numpy(); w = d.pop("w").to_numpy()
X = d.drop(columns=["batch", "t"]).to_numpy()
got = json.load(open(sys.argv[3]))["folds"]
for f, (tr, te) in zip(got, KFold(4).split(X)):
    m = make_pipeline(StandardScaler(), Ridge()).fit(X[tr], y[tr], ridge__sample_weight=w[tr])
    p = m.predict(X[te])
    rmse = mean_squared_error(y[te], p, sample_weight=w[te]) ** 0.5
    r2 = r2_score(y[te], p, sample_weight=w[te])
    assert abs(f["rmse"] - rmse) <= 1e-9 * rmse and abs(f["r2"] - r2) <= 1e-9, (f, rmse, r2)
PY
echo "weighted: every fold's rmse and r2 = sklearn's weighted metrics"

# --metrics: the scores asked for (PR-AUC of the rare class, as the imbalance
# warning advises), each fold's = sklearn's on the same folds
$py - "$DATA/wine.csv" "$W/wine2.csv" <<'PY'
import pandas as pd, sys
d = pd.read_csv(sys.argv[1]); d["class"] = ["rare" if c == "class_2" else "common" for c in d["class"]]
d.to_csv(sys.argv[2], index=False)
PY
"$KILN" --json -q cv --data "$W/wine2.csv" --target class --model logistic_regression \
    --param tol=1e-10 --param max_iter=10000 --step standard_scaler \
    --metrics average_precision,recall --positive-class rare > "$W/m.json"
$py - "$W/wine2.csv" "$W/m.json" <<'PY'
import json, sys, numpy as np, pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, average_precision_score, recall_score
d = pd.read_csv(sys.argv[1]); y = (d.pop("class") == "rare").to_numpy().astype(int)
got = json.load(open(sys.argv[2]))
assert list(got["mean"]) == ["average_precision", "recall"], got["mean"]
res = cross_validate(make_pipeline(StandardScaler(), LogisticRegression(tol=1e-10, max_iter=10000)),
                     d.to_numpy(), y, cv=StratifiedKFold(5),
                     scoring={"average_precision": "average_precision", "recall": "recall"})
for k in ("average_precision", "recall"):
    mine = np.array([f[k] for f in got["folds"]])
    assert np.max(np.abs(mine - res["test_" + k])) <= 1e-6, (k, mine, res["test_" + k])
PY
expect "no metric named 'average_precison'" 2 "$KILN" cv --data "$W/wine2.csv" --target class \
    --model logistic_regression --metrics average_precison
echo "--metrics: average_precision and recall of the rare class = sklearn's per fold"

# one thread or several: the same numbers
"$KILN" --json -q cv --data "$C" --target $T --model ridge --ignore batch,t --folds 6 --shuffle --seed 4 --repeats 2 --jobs 1 > "$W/t1.json"
"$KILN" --json -q cv --data "$C" --target $T --model ridge --ignore batch,t --folds 6 --shuffle --seed 4 --repeats 2 --jobs 2 > "$W/t2.json"
"$KILN" --json -q cv --data "$C" --target $T --model ridge --ignore batch,t --folds 6 --shuffle --seed 5 --repeats 2 > "$W/t3.json"
$py - "$W/t1.json" "$W/t2.json" "$W/t3.json" <<'PY'
import json, sys
a, b, c = (json.load(open(p)) for p in sys.argv[1:4])
strip = lambda j: [{k: v for k, v in f.items() if k != "fit_seconds"} for f in j["folds"]]
assert len(a["folds"]) == 12
assert strip(a) == strip(b), "thread count changed the result"
assert strip(a) != strip(c), "the seed changed nothing"
assert sum(f["test_rows"] for f in a["folds"][:6]) == 1030
PY
echo "threads: 1 and 2 give identical folds and scores; repeats x folds = 12"

# more folds at once than the model's threads (--jobs 3 under --threads 1):
# a gbdt large enough for its packed histograms keeps to its own per-thread
# buffers (the fold team's thread numbers once indexed past them), and
# gives what one fold at a time gives
$py - "$W/wide_rows.csv" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,d,y\n")
    for i in range(12000):
        x = [random.gauss(0, 1) for _ in range(4)]
        f.write(",".join("%.4f" % v for v in x) + ",%d\n" % (x[0] + x[1] / 2 + random.gauss(0, 1) > 0))
PY
for j in 1 3; do
    "$KILN" --threads 1 --json -q cv --data "$W/wide_rows.csv" --target y --model gbdt \
        --param n_estimators=5 --jobs $j > "$W/g$j.json"
done
$py - "$W/g1.json" "$W/g3.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
strip = lambda j: [{k: v for k, v in f.items() if k != "fit_seconds"} for f in j["folds"]]
assert strip(a) == strip(b), "folds run together changed the result"
PY
echo "gbdt: 3 folds at once under one model thread give the same folds and scores"

expect "stratified folds need classes" 1 "$KILN" cv --data "$C" --target $T --model ridge --ignore batch,t --stratify
expect "only 11 distinct groups; lower --folds to at most 11" 1 "$KILN" cv --data "$C" --target $T --model ridge --groups batch --folds 12
expect "2000 folds for 1030 rows" 1 "$KILN" cv --data "$C" --target $T --model ridge --ignore batch,t --folds 2000
expect "cannot hold 11 test windows" 1 "$KILN" cv --data "$C" --target $T --model ridge --ignore batch,t --time-series --folds 11 --test-rows 100
expect "choose one of --stratify, --no-stratify, --groups and --time-series" 2 "$KILN" cv --data "$C" --target $T --model ridge --stratify --time-series
expect "error: step nope: no step named 'nope'" 1 "$KILN" cv --data "$C" --target $T --model ridge --ignore batch,t --step nope # before any fold
expect "no model named 'forest9'" 2 "$KILN" cv --data "$C" --target $T --model forest9
echo "cv: all passed"
