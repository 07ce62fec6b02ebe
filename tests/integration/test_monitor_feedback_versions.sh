#!/bin/bash
# kiln monitor feedback on a prediction log that spans a promotion: each
# version's windows are set against that version's own test score (as kiln
# serve sets each version's live score against its own artifact), not
# against the test score of the version --model NAME@production names now.
# - concrete: v1 a GBDT of 60 rounds (test RMSE ~5), v2 one of 2 rounds at
#   learning rate 0.02 (test RMSE ~16) registered to staging.
# - kiln serve concrete@production (v1): 60 rows; promote v2, SIGHUP: the
#   same 60 rows again (v2). Labels: v1's rows 10 off the truth (its live
#   RMSE ~11, worse than its own test RMSE by more than the margin 3 but
#   better than v2's), v2's rows the truth.
# - kiln monitor feedback --model concrete@production: v1's window is below
#   its own test score (exit 1), each version's JSON "test" is its run's
#   test RMSE, and the RMSEs equal numpy's on the log (1e-12).
# - labels joined by --key cement: each key names two predictions (one per
#   version): an error naming them, nothing scored (exit 3).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = pd.read_csv(f"{d}/concrete.csv").sample(frac=1, random_state=3)
c.iloc[:700].to_csv(f"{w}/train.csv", index=False)
live = c.iloc[700:760]
live.to_csv(f"{w}/live.csv", index=False)
rows = live.drop(columns=["compressive_strength"]).to_dict("records")
json.dump({"instances": rows}, open(f"{w}/predict.json", "w"))
PY
spec() { # rounds learning-rate stage
    cat <<EOF
sources: {mixes: {file: train.csv}}
target: compressive_strength
task: regression
model:
  gbdt: {n_estimators: $1, learning_rate: $2}
evaluation:
  cv: {folds: 2}
  metrics: [rmse]
  test: {fraction: 0.2}
register: {name: concrete, stage: $3}
seed: 5
EOF
}
spec 60 0.1 production > "$W/good.yaml"
spec 2 0.02 staging > "$W/poor.yaml"
(cd "$W" && "$KILN" -q run good.yaml --store store > /dev/null && "$KILN" -q run poor.yaml --store store > /dev/null)
start_server --model concrete@production --store "$W/store" --poll 0 --threads 1 \
    --prediction-log "$W/pred.jsonl"
expect_status 200 POST /v1/models/concrete:predict "$W/predict.json"
body_is 'len(j["predictions"]) == 60'
"$KILN" -q models promote concrete 2 --stage production --force --reason test --store "$W/store"
kill -HUP "$SERVE_PID"
for _ in $(seq 100); do
    grep -q "now serves version 2" "$W/serve.err" && break
    sleep 0.1
done
grep -q "now serves version 2" "$W/serve.err" || fail "no reload to v2: $(cat "$W/serve.err")"
expect_status 200 POST /v1/models/concrete:predict "$W/predict.json"
kill "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=
for v in 1 2; do
    "$KILN" -q --json runs show r00000$v --store "$W/store" > "$W/run$v.json"
done
$py - "$W" <<'PY'
import json, sys, pandas as pd
w = sys.argv[1]
truth = pd.read_csv(f"{w}/live.csv")["compressive_strength"].tolist()
log = [json.loads(l) for l in open(f"{w}/pred.jsonl")]
assert sorted({l["version"] for l in log}) == ["1", "2"], {l["version"] for l in log}
with open(f"{w}/labels.csv", "w") as f:
    f.write("request_id,row,compressive_strength\n")
    for l in sorted(log, key=lambda l: (l["request_id"], l["row"])):
        off = 10 if l["version"] == "1" else 0
        f.write(f"{l['request_id']},{l['row']},{truth[l['row']] + off!r}\n")
PY
rc=0
"$KILN" -q --json monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" \
    --model concrete@production --store "$W/store" --margin 3 > "$W/fb.json" || rc=$?
[ "$rc" = 1 ] || fail "monitor feedback: exit $rc (wanted 1: v1's window is below its own test score): $(cat "$W/fb.json")"
"$KILN" -q monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" \
    --model concrete@production --store "$W/store" --margin 3 > "$W/fb.txt" || true
grep -q "^version 1      test rmse [0-9.]* (concrete@v1's own)$" "$W/fb.txt" || fail "$(cat "$W/fb.txt")"
$py - "$W" <<'PY'
import json, sys, numpy as np, pandas as pd
w = sys.argv[1]
fb = json.load(open(f"{w}/fb.json"))
test = {}
for v in ("1", "2"):
    run = json.load(open(f"{w}/run{v}.json"))
    test[v] = [m["value"] for m in run["metrics"] if m["scope"] == "test" and m["name"] == "rmse"][0]
assert test["2"] > test["1"] + 9, test  # the poor model is far worse
assert fb["test"] == test["2"], (fb["test"], test)  # --model's: production, v2
lab = pd.read_csv(f"{w}/labels.csv")
log = {(l["request_id"], l["row"]): l for l in map(json.loads, open(f"{w}/pred.jsonl"))}
for v in fb["versions"]:
    ver = v["version"]
    assert v["test"] == test[ver], (ver, v["test"], test[ver])
    [win] = v["windows"]
    rows = [(r.compressive_strength, log[(r.request_id, r.row)]["output"])
            for r in lab.itertuples() if log[(r.request_id, r.row)]["version"] == ver]
    y, p = np.array(rows).T
    rmse = float(np.sqrt(np.mean((y - p) ** 2)))
    assert abs(win["rmse"] - rmse) <= 1e-12 * rmse, (ver, win["rmse"], rmse)
    # v1: ~11 against its own ~5 (+ margin 3): below; against v2's ~16 it would pass
    want = ver == "1"
    assert win["below_test"] == want, (ver, win, test)
    if ver == "1":
        assert win["rmse"] < test["2"] - 3, (ver, win["rmse"], test)
assert fb["windows_below"] == 1, fb
print("versions:", {v["version"]: (v["test"], v["windows"][0]["rmse"]) for v in fb["versions"]})
PY
# the same rows went to both versions: a key of the inputs names two
# predictions each, and a label joined by it would go to either: an error
$py - "$W" <<'PY'
import pandas as pd, sys
w = sys.argv[1]
pd.read_csv(f"{w}/live.csv")[["cement", "compressive_strength"]].to_csv(f"{w}/bykey.csv", index=False)
PY
expect "labels of .*bykey.csv match more than one logged prediction (cement [0-9.]*: 2 predictions" 3 \
    "$KILN" monitor feedback --log "$W/pred.jsonl" --labels "$W/bykey.csv" --key cement \
    --model concrete@production --store "$W/store"
echo "PASS"
