#!/bin/bash
# A column the spec ignores (an id: the model never reads it) is not a
# drift: concrete with a mix_id column, `ignore: [mix_id]`; new rows carry
# new ids (1001...) and are otherwise the training distribution.
# - the artifact's reference leaves mix_id out;
# - kiln monitor check (stored reference, and --reference FILE) tests the
#   other inputs only: no drift, exit 0; --anomalies fits its forest
#   without mix_id;
# - kiln serve --drift-window tests the first window against the stored
#   reference (not the first window) and has no series for mix_id; a
#   window shifted in cement still drifts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
cd "$W"
$py - "$D" <<'PY'
import json, sys, numpy as np, pandas as pd
c = pd.read_csv(f"{sys.argv[1]}/concrete.csv").sample(frac=1, random_state=3).reset_index(drop=True)
c.insert(0, "mix_id", np.arange(len(c)))
c.iloc[:700].to_csv("train.csv", index=False)
new = c.iloc[700:].copy()
new["mix_id"] = np.arange(1001, 1001 + len(new))
new.to_csv("new.csv", index=False)
x = new.drop(columns=["compressive_strength"])
json.dump({"instances": x.iloc[:200].to_dict("records")}, open("calm.json", "w"))
moved = x.iloc[200:300].copy()
moved["cement"] = moved["cement"] * 1.6
json.dump({"instances": moved.to_dict("records")}, open("moved.json", "w"))
PY
cat > spec.yaml <<'EOF'
sources:
  mix: {file: train.csv}
target: compressive_strength
task: regression
ignore: [mix_id]
model:
  gbdt: {n_estimators: 20}
evaluation:
  cv: false
  test: {fraction: 0.2}
seed: 1
EOF
"$KILN" -q run spec.yaml --out m.kiln --no-store > run.out 2>&1 || fail "kiln run: $(cat run.out)"
for how in stored file; do
    extra=()
    [ "$how" = file ] && extra=(--reference train.csv)
    rc=0
    "$KILN" --json monitor check --model m.kiln --data new.csv "${extra[@]}" > "check_$how.json" 2> err || rc=$?
    [ "$rc" = 0 ] || fail "monitor check ($how reference): exit $rc, wanted 0 (no drift): $(cat err; head -c 600 "check_$how.json")"
    $py - "check_$how.json" <<'PY' || fail "monitor check ($how): mix_id tested"
import json, sys
j = json.load(open(sys.argv[1]))
cols = [c["column"] for c in j["columns"]]
assert "mix_id" not in cols and "cement" in cols and len(cols) == 8, cols
PY
done
"$KILN" --json monitor check --model m.kiln --data new.csv --reference train.csv --anomalies \
    > anom.json 2> err || true
$py - anom.json <<'PY' || fail "the anomaly forest reads mix_id: $(cat err)"
import json, sys
j = json.load(open(sys.argv[1]))
cols = j["anomaly_model"]["columns"]
assert "mix_id" not in cols and "cement" in cols, cols
PY
start_server --model m="$W/m.kiln" --threads 2 --drift-window 100 --no-anomalies
for f in calm moved; do
    code=$(curl -s -o body -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$f.json" "$URL/v1/models/m:predict")
    [ "$code" = 200 ] || fail "predict $f: status $code: $(cat body)"
done
curl -s "$URL/metrics" > metrics
stop_server
grep -q 'kiln_drift_windows_total{model="m",version="[^"]*"} 3$' metrics ||
    fail "three windows tested (the stored reference, not the first window): $(grep kiln_drift_windows metrics)"
! grep -q 'column="mix_id"' metrics || fail "mix_id has drift series: $(grep mix_id metrics)"
grep -q 'kiln_drift_drifted{model="m",version="[^"]*",column="cement"} 1$' metrics ||
    fail "the moved window's cement did not drift: $(grep 'drifted{' metrics)"
grep -q 'kiln_drift_drifted_windows_total{model="m",version="[^"]*"} 1$' metrics ||
    fail "the calm windows drifted: $(grep 'drifted_windows\|drifted{' metrics)"
echo "monitor ignored: ok (mix_id left out of the reference, the checks and the server's windows)"
