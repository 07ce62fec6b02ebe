#!/bin/bash
# Scores say what they mean (trust issue): ROC-AUC has one key, roc_auc,
# for two classes and several, with its averaging in roc_auc_average
# ("binary", or "macro-ovr" = sklearn's roc_auc_score(multi_class="ovr",
# average="macro"), within 1e-9); binary scores name their positive class,
# which --positive-class chooses (an unknown label is refused with the
# classes named); permutation importance comes most important first (ties in
# column order); --curves on several classes gives one labelled
# one-vs-rest set per class, each equal to sklearn's roc_curve and
# precision_recall_curve. Data: vehicle.csv (4 classes; opel vs saab, the
# hard pair, for two), with gaussian_nb.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
V="$DATA/vehicle.csv"
$py - "$V" "$W/two.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0])
for r in rows[1:]:
    if r[-1] in ("opel", "saab"): out.writerow(r)
PY

# ---- several classes: roc_auc (macro-ovr), curves per class, importance order
"$KILN" -q train --data "$V" --target Class --model gaussian_nb --test-size 0 --out "$W/multi.kmd" > /dev/null
"$KILN" -q --json eval --model "$W/multi.kmd" --data "$V" --curves "$W/multi_curves.json" > "$W/multi.json"
"$KILN" -q eval --model "$W/multi.kmd" --data "$V" > "$W/multi.txt"
grep -q "roc_auc [0-9.]*  (roc_auc macro-ovr)" "$W/multi.txt" || fail "text: $(cat "$W/multi.txt")"
"$KILN" -q predict --model "$W/multi.kmd" --data "$V" --proba --out "$W/multi_pred.csv"
"$KILN" -q --json cv --data "$V" --target Class --model gaussian_nb > "$W/multi_cv.json"
"$KILN" -q --json train --data "$V" --target Class --model gaussian_nb --out "$W/m.kmd" > "$W/multi_train.json"
$py - "$V" "$W" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve, precision_recall_curve
data, w = sys.argv[1:]
y = pd.read_csv(data)["Class"].to_numpy()
pred = pd.read_csv(f"{w}/multi_pred.csv")
classes = sorted(set(y))
P = pred[[f"proba_{c}" for c in classes]].to_numpy()
ev = json.load(open(f"{w}/multi.json"))
assert "roc_auc_ovr" not in ev and ev["roc_auc_average"] == "macro-ovr", ev
assert "positive_class" not in ev, ev
ref = roc_auc_score(y, P, multi_class="ovr", average="macro")
assert abs(ev["roc_auc"] - ref) <= 1e-9, (ev["roc_auc"], ref)
weighted = roc_auc_score(y, P, multi_class="ovr", average="weighted")
cv = json.load(open(f"{w}/multi_cv.json"))
assert cv["roc_auc_average"] == "macro-ovr" and "roc_auc" in cv["mean"] and "roc_auc_ovr" not in cv["mean"], cv
tr = json.load(open(f"{w}/multi_train.json"))["test"]
assert tr["roc_auc_average"] == "macro-ovr" and "roc_auc" in tr, tr
print(f"multiclass roc_auc {ev['roc_auc']:.12f} = sklearn ovr macro {ref:.12f} (weighted would be {weighted:.6f}); cv and train use the same key")
cur = json.load(open(f"{w}/multi_curves.json"))
assert cur["average"] == "one-vs-rest", cur.keys()
assert [c["class"] for c in cur["classes"]] == classes, [c["class"] for c in cur["classes"]]
for q, c in enumerate(cur["classes"]):
    t = (y == c["class"]).astype(int)
    fpr, tpr, thr = roc_curve(t, P[:, q])
    r = c["roc"]
    assert (r["fpr"][0], r["tpr"][0], r["fpr"][-1], r["tpr"][-1]) == (0, 0, 1, 1), c["class"]
    assert len(r["fpr"]) == len(fpr) and np.allclose(r["fpr"], fpr, rtol=0, atol=1e-12) \
        and np.allclose(r["tpr"], tpr, rtol=0, atol=1e-12), c["class"]
    prec, rec, _ = precision_recall_curve(t, P[:, q])
    pr = c["precision_recall"]
    assert (pr["recall"][-1], pr["precision"][-1], pr["threshold"][-1]) == (0, 1, None), c["class"]
    assert len(pr["recall"]) == len(rec) and np.allclose(pr["recall"], rec, rtol=0, atol=1e-12) \
        and np.allclose(pr["precision"], prec, rtol=0, atol=1e-12), c["class"]
    assert len(c["calibration"]["mean_predicted"]) > 0
print(f"--curves: {len(classes)} one-vs-rest curve sets, labelled, each equal to sklearn's roc_curve and precision_recall_curve")
PY

# importance: most important first, ties (features a one-split tree never
# uses: exactly 0) in column order
"$KILN" -q train --data "$V" --target Class --model decision_tree --param max_depth=2 --test-size 0 --out "$W/stump.kmd" > /dev/null
"$KILN" -q --json eval --model "$W/stump.kmd" --data "$V" --importance 3 > "$W/imp.json"
"$KILN" -q eval --model "$W/stump.kmd" --data "$V" --importance 3 > "$W/imp.txt"
$py - "$V" "$W/imp.json" "$W/imp.txt" <<'PY'
import sys, json, csv
cols = next(csv.reader(open(sys.argv[1])))[:-1]
imp = json.load(open(sys.argv[2]))["permutation_importance"]
names, means = list(imp), [v["mean"] for v in imp.values()]
assert means == sorted(means, reverse=True), means
zero = [n for n in names if imp[n]["mean"] == 0]
assert len(zero) >= 2 and zero == [c for c in cols if c in zero], zero
lines = open(sys.argv[3]).read().splitlines()
head = next(i for i, l in enumerate(lines) if l.startswith("permutation"))
text = [l.split()[0] for l in lines[head + 1:]]
assert text == names, (text, names)
print(f"permutation importance: {names[0]} first ({means[0]:.4f}); {len(zero)} unused features tie at 0, in column order")
PY

# ---- two classes: the positive class, named and chosen
"$KILN" -q train --data "$W/two.csv" --target Class --model gaussian_nb --test-size 0 --out "$W/two.kmd" > /dev/null
"$KILN" -q predict --model "$W/two.kmd" --data "$W/two.csv" --proba --out "$W/two_pred.csv"
"$KILN" -q --json eval --model "$W/two.kmd" --data "$W/two.csv" > "$W/two_default.json"
"$KILN" -q --json eval --model "$W/two.kmd" --data "$W/two.csv" --positive-class opel \
    --curves "$W/two_curves.json" > "$W/two_opel.json"
"$KILN" -q eval --model "$W/two.kmd" --data "$W/two.csv" > "$W/two.txt"
grep -q "positive class 'saab'; roc_auc binary" "$W/two.txt" || fail "text: $(cat "$W/two.txt")"
"$KILN" -q --json cv --data "$W/two.csv" --target Class --model gaussian_nb --positive-class opel > "$W/two_cv.json"
"$KILN" -q --json train --data "$W/two.csv" --target Class --model gaussian_nb --positive-class opel \
    --out "$W/m.kmd" > "$W/two_train.json"
$py - "$W" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn.metrics import precision_score, recall_score, f1_score, roc_auc_score, roc_curve
w = sys.argv[1]
y = pd.read_csv(f"{w}/two.csv")["Class"].to_numpy()
pred = pd.read_csv(f"{w}/two_pred.csv")
for name, pos in (("two_default", "saab"), ("two_opel", "opel")):
    ev = json.load(open(f"{w}/{name}.json"))
    assert ev["positive_class"] == pos and ev["roc_auc_average"] == "binary", ev
    p = pred["prediction"].to_numpy()
    for key, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        ref = fn(y, p, pos_label=pos)
        assert abs(ev[key] - ref) <= 1e-12, (name, key, ev[key], ref)
    auc = roc_auc_score(y == pos, pred[f"proba_{pos}"])
    assert abs(ev["roc_auc"] - auc) <= 1e-9, (name, ev["roc_auc"], auc)
a, b = (json.load(open(f"{w}/{n}.json")) for n in ("two_default", "two_opel"))
assert a["precision"] != b["precision"], "the positive class changed nothing"
cur = json.load(open(f"{w}/two_curves.json"))
assert cur["positive_class"] == "opel", cur.keys()
fpr, tpr, _ = roc_curve(y == "opel", pred["proba_opel"])
assert np.allclose(cur["roc"]["fpr"], fpr, rtol=0, atol=1e-12) and np.allclose(cur["roc"]["tpr"], tpr, rtol=0, atol=1e-12)
cv = json.load(open(f"{w}/two_cv.json"))
assert cv["positive_class"] == "opel" and cv["roc_auc_average"] == "binary" and "recall" in cv["mean"], cv
tr = json.load(open(f"{w}/two_train.json"))["test"]
assert tr["positive_class"] == "opel" and "precision" in tr, tr
print(f"binary: precision/recall/f1 of saab (default, named) and of opel (--positive-class) equal sklearn's pos_label scores; curves and cv/train follow")
PY
msg="positive class 'bus' is not a class of target 'Class'; its classes are 'opel' and 'saab'"
expect "$msg" 1 "$KILN" eval --model "$W/two.kmd" --data "$W/two.csv" --positive-class bus
expect "$msg" 1 "$KILN" train --data "$W/two.csv" --target Class --model gaussian_nb --positive-class bus --out "$W/x.kmd"
[ ! -e "$W/x.kmd" ] || fail "train with an unknown positive class wrote a model"
expect "$msg" 1 "$KILN" cv --data "$W/two.csv" --target Class --model gaussian_nb --positive-class bus
expect "target 'Class' has 4 classes ('bus', 'opel', 'saab' and 'van'); a positive class is for two classes" 1 \
    "$KILN" eval --model "$W/multi.kmd" --data "$V" --positive-class van
echo "an unknown or misplaced positive class is refused with the classes named"
