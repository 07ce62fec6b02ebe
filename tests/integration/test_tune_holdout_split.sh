#!/bin/bash
# kiln tune with --time-series or --groups: the held-out rows and --nested's
# outer folds split as the search's folds do. Time series: the held-out rows
# are the last in time (a random draw trained the refit on later rows: rmse
# 0.97 held out against 5.47 in CV on a trend), the outer folds are windows
# forward in time; groups: whole groups are held out. The order and group
# columns are no features of the refit either (they are none in the folds),
# nor of kiln run's final model; kiln run warns that its random test rows
# break the groups.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_sklearn
cd "$W"
# a trend in t, rows shuffled in the file: only --order-by t puts them in time
$py - <<'PY'
import numpy as np, pandas as pd
r = np.random.default_rng(2); n = 300; t = np.arange(n)
d = pd.DataFrame({"t": t, "x1": r.normal(size=n), "x2": r.normal(size=n)})
d["y"] = 0.05 * t + d.x1 + 0.5 * d.x2 + r.normal(size=n)
d.sample(frac=1, random_state=1).to_csv("ts.csv", index=False)
PY
printf 'alpha: {choice: [0.1, 1, 10]}\n' > space.yaml
ts=(tune --data ts.csv --target y --model ridge --space space.yaml --strategy grid --time-series
    --order-by t)
"$KILN" -q --json "${ts[@]}" --folds 4 > held.json
expect "order column 'tt' is not in the data (did you mean 't'?)" 1 "$KILN" tune --data ts.csv \
    --target y --model ridge --space space.yaml --strategy grid --time-series --order-by tt
"$KILN" -q --json "${ts[@]}" --folds 3 --nested --outer-folds 3 > nested.json
$py - held.json nested.json <<'PY' || fail "time-series hold-out"
import json, sys, numpy as np, pandas as pd
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import TimeSeriesSplit
held, nested = (json.load(open(p)) for p in sys.argv[1:])
d = pd.read_csv("ts.csv").sort_values("t"); X = d[["x1", "x2"]].to_numpy(); y = d.y.to_numpy()
assert held["test"]["rows_are"] == "the last 60 rows by t", held["test"]
alpha = float(held["best"]["params"]["alpha"])
p = Ridge(alpha=alpha).fit(X[:240], y[:240]).predict(X[240:])
ref = mean_squared_error(y[240:], p) ** 0.5
assert abs(held["test"]["score"] - ref) <= 1e-9 * ref, (held["test"], ref)
for o, (tr, te) in zip(nested["outer"], TimeSeriesSplit(3).split(X)):
    p = Ridge(alpha=float(o["params"]["alpha"])).fit(X[tr], y[tr]).predict(X[te])
    ref = mean_squared_error(y[te], p) ** 0.5
    assert abs(o["outer_score"] - ref) <= 1e-9 * ref, (o, ref)
print("time series: held-out and outer scores = sklearn's on the last rows / TimeSeriesSplit")
PY
# groups: whole occupations held out; the refit sees no occupation column
# (its one-hot would refuse the held-out group's unseen level)
"$KILN" -q --json tune --data "$KILN_TEST_DATA/cps1985.csv" --target wage --model ridge \
    --step onehot_encoder --space space.yaml --strategy grid --groups occupation --folds 3 \
    --seed 2 --out g.kiln > g.json
"$KILN" inspect g.kiln > g.txt
grep -q "onehot_encoder -> ridge (regression, 17 features)" g.txt ||
    fail "the refit's features: $(grep pipeline: g.txt)"
$py - g.json "$KILN_TEST_DATA/cps1985.csv" <<'PY' || fail "group hold-out"
import json, sys, itertools, pandas as pd
j = json.load(open(sys.argv[1])); sizes = pd.read_csv(sys.argv[2]).occupation.value_counts()
assert "of the 6 groups of occupation, whole" in j["test"]["rows_are"], j["test"]
k = int(j["test"]["rows_are"].split()[0])
assert any(sum(c) == j["test"]["rows"] for c in itertools.combinations(sizes.tolist(), k)), j["test"]
PY
"$KILN" -q tune --data "$KILN_TEST_DATA/cps1985.csv" --target wage --model ridge \
    --step onehot_encoder --space space.yaml --strategy grid --groups occupation --folds 3 \
    --nested --outer-folds 3 > gn.txt || fail "nested by groups: $(cat gn.txt)"
# kiln run with group folds: the final model reads what the folds' models read
# (occupation taken out), so its test score is the cross-validated model's
printf 'sources:\n  d: {file: %s}\ntarget: wage\nsteps:\n  - onehot_encoder\n' \
    "$KILN_TEST_DATA/cps1985.csv" > run.yaml
printf 'model: {ridge: {alpha: 1}}\nevaluation:\n  cv: {folds: 3, groups: occupation}\nseed: 1\n' \
    >> run.yaml
"$KILN" -q run run.yaml --no-store --out run.kiln > /dev/null 2> run.err
# its test rows are a random draw, which group folds would not allow: said
grep -q "run.yaml: evaluation: the test rows are a random 0.2 of the rows, but the cv folds are by group" run.err ||
    fail "kiln run: no word on random test rows beside group folds: $(cat run.err)"
"$KILN" inspect run.kiln > run.txt
grep -q "onehot_encoder -> ridge (regression, 17 features)" run.txt ||
    fail "kiln run's final model has other features than its folds': $(grep pipeline: run.txt)"
echo "tune hold-out by time and by groups: ok"
