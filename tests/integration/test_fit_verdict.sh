#!/bin/bash
# Over- and under-fitting shown, not just scored: `kiln cv` and `kiln run`
# report each fold's train score beside its validation score and the
# baseline's, and a verdict with its evidence. An unpruned tree on noisy
# labels must be called over-fitting, a linear model of a circle (or of a
# parabola) under-fitting, and a fitting model fine.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"

# noisy.csv: the label is x1 > 0 with a quarter of the labels flipped, and
# 8 features of pure noise beside x1 (a deep tree memorises the flips);
# circle.csv: inside or outside a circle (no line separates them);
# parabola.csv: y = x^2 + noise (no line fits it)
$py - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
rng = np.random.RandomState(7)
n = 1200
X = rng.uniform(-1, 1, size=(n, 9))
y = (X[:, 0] > 0).astype(int)
flip = rng.rand(n) < 0.25
y[flip] = 1 - y[flip]
def save(name, cols, data):
    with open(f"{w}/{name}.csv", "w") as f:
        f.write(",".join(cols) + "\n")
        for row in data:
            f.write(",".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in row) + "\n")
save("noisy", [f"x{i}" for i in range(9)] + ["y"], [list(map(float, X[i])) + [int(y[i])] for i in range(n)])
r2 = X[:, 0] ** 2 + X[:, 1] ** 2
inside = (r2 < 0.6).astype(int)
save("circle", ["a", "b", "inside"], [[float(X[i, 0]), float(X[i, 1]), int(inside[i])] for i in range(n)])
yq = X[:, 0] ** 2 + 0.05 * rng.randn(n)
save("parabola", ["x", "y"], [[float(X[i, 0]), float(yq[i])] for i in range(n)])
PY

verdict() { # file target model [params...] -> prints fit verdict; checks the json
    local data=$1 target=$2 model=$3; shift 3
    "$KILN" -q --json cv --data "$W/$data.csv" --target "$target" --model "$model" "$@" > "$W/cv.json" ||
        fail "kiln cv $data $model"
    $py - "$W/cv.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = list(j["mean"])[0]
# the train scores, the baseline and each fold's train score are there
assert set(j["train"]) == set(j["mean"]), j["train"]
assert all("train" in f and m in f["train"] for f in j["folds"]), j["folds"]
t = j["train"][m]["mean"]
assert abs(t - sum(f["train"][m] for f in j["folds"]) / len(j["folds"])) < 1e-12
assert m in j["baseline"]
v = j["verdict"]
assert v["evidence"].startswith(v["fit"]), v
print(v["fit"])
PY
}

got=$(verdict noisy y decision_tree)
[ "$got" = over-fitting ] || fail "an unpruned tree on noisy labels: $got, not over-fitting"
got=$(verdict circle inside logistic_regression)
[ "$got" = under-fitting ] || fail "a logistic model of a circle: $got, not under-fitting"
got=$(verdict parabola y linear_regression)
[ "$got" = under-fitting ] || fail "a line through a parabola: $got, not under-fitting"
# the same data with models that can fit them
got=$(verdict circle inside random_forest --param n_estimators=50)
[ "$got" = fine ] || fail "a forest on the circle: $got, not fine"
got=$(verdict noisy y decision_tree --param max_depth=1)
[ "$got" = fine ] || fail "a stump on x1 > 0: $got, not fine"

# the tree's train accuracy is 1 (it memorises every row) and the
# baseline is the majority share of each fold's training rows
"$KILN" -q --json cv --data "$W/noisy.csv" --target y  --model decision_tree > "$W/tree.json"
$py - "$W/tree.json" "$W/noisy.csv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["train"]["accuracy"]["mean"] == 1.0, j["train"]
ys = [int(l.rsplit(",", 1)[1]) for l in open(sys.argv[2]).read().split("\n")[1:] if l]
share = max(ys.count(0), ys.count(1)) / len(ys)
assert abs(j["baseline"]["accuracy"] - share) < 0.02, (j["baseline"], share)
PY

# the people's table says the same
"$KILN" cv --data "$W/noisy.csv" --target y --model decision_tree > "$W/cv.txt" 2> /dev/null
grep -q "^train mean +- std" "$W/cv.txt" || fail "cv table without train scores: $(cat "$W/cv.txt")"
grep -q "^baseline (prior/mean)" "$W/cv.txt" || fail "cv table without the baseline"
grep -q "^fit: over-fitting: train accuracy 1 vs validation" "$W/cv.txt" ||
    fail "cv table without the verdict: $(cat "$W/cv.txt")"

# kiln run: the summary, --json, the artifact's metrics and the store
cat > "$W/circle.yaml" << 'YAML'
sources: {d: {file: circle.csv}}
target: inside
task: classification
model: {logistic_regression: {}}
seed: 3
YAML
(cd "$W" && "$KILN" run circle.yaml --store st --out circle.kiln > run.txt 2> /dev/null) || fail "kiln run"
grep -q "^fit       under-fitting: " "$W/run.txt" || fail "run summary without the verdict: $(cat "$W/run.txt")"
grep -q "train 0\." "$W/run.txt" || fail "run summary without train scores"
(cd "$W" && "$KILN" -q --json run circle.yaml --no-store --out c2.kiln > run.json)
"$KILN" -q --json inspect "$W/circle.kiln" > "$W/inspect.json"
$py - "$W/run.json" "$W/inspect.json" <<'PY'
import json, sys
r, i = (json.load(open(p)) for p in sys.argv[1:])
assert r["cv"]["verdict"]["fit"] == "under-fitting", r["cv"]
assert set(r["cv"]["train"]) == set(r["cv"]["mean"])
cv = i["metrics"]["cv"]
assert cv["verdict"]["fit"] == "under-fitting", cv
assert cv["train"]["accuracy"]["mean"] == r["cv"]["train"]["accuracy"]["mean"]
PY
"$KILN" -q --json runs list --store "$W/st" > "$W/runs.json"
rid=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["id"])' "$W/runs.json")
"$KILN" -q --json runs show "$rid" --store "$W/st" > "$W/show.json"
grep -q '"train_mean"' "$W/show.json" || fail "the store has no train scores: $(head -c 600 "$W/show.json")"
# the run report states it in its cross-validation section
"$KILN" -q report "$W/circle.kiln" --out "$W/report.html"
grep -q '<b>Fit: under-fitting</b>' "$W/report.html" || fail "the report has no verdict"
# imbalanced classes (5 % minority): a class-weighted logistic regression loses
# accuracy against always answering the majority (0.95) but beats chance on both
# classes; the verdict is judged by balanced accuracy there, not called under-fitting
"$KILN" -q --json cv --data "$KILN_TEST_DATA/lending_club.csv" --target Class \
    --model logistic_regression --step onehot_encoder --step standard_scaler \
    --param class_weight=balanced > "$W/weighted.json" 2> /dev/null
$py - "$W/weighted.json" << 'PY' || fail "class-weighted model on imbalanced data: $(head -c 600 "$W/weighted.json")"
import json, sys
v = json.load(open(sys.argv[1]))["verdict"]
assert v["fit"] == "fine", v
assert "judged by balanced_accuracy" in v["evidence"], v
PY
echo ok
