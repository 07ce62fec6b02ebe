#!/bin/bash
# kiln serve --drift-window 100 --drift-slide 25: sliding windows of the
# last 100 rows every 25 rows, of the inputs and of the model's predictions
# (a GBDT regressor on 700 concrete mixes; its reference predictions are
# the artifact's, on its training rows), and the share of each window's
# rows refused for breaking the input schema. 200 stationary rows, then 100
# with cement times 1.6 (the strength predicted moves with it), then 10
# refused rows among 15 stationary ones. Checked in /metrics: a window
# ends at rows 100, 125, ..., 325 (10 windows); the last full window of
# shifted rows flags cement and the predictions, the stationary ones flag
# nothing; the predictions' KS p-value equals scipy's on the training
# rows' predictions (kiln predict) against the window's (1e-9); the
# refused rows are 10 % of the last window; the memory bound is reported.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = concrete(1)
live = train_live(c, 700, 1000, "compressive_strength")
live.loc[200:, "cement"] *= 1.6
live.to_csv(f"{w}/live.csv", index=False)
c.iloc[700:715].drop(columns=["compressive_strength"]).to_csv(f"{w}/tail.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=30 --test-size 0 --out "$W/c.kiln" > /dev/null
"$KILN" -q predict --model "$W/c.kiln" --data "$W/train.csv" --out "$W/train_pred.csv"
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --drift-slide 25
send() { # FILE FROM TO BATCH: rows [FROM, TO) in batches; the predictions appended to $W/pred.txt
    $py - "$W" "$URL" "$@" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request, urllib.error
w, url, f, a, b, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rows = [{n: float(v) for n, v in r.items()} for r in list(csv.DictReader(open(f"{w}/{f}")))[a:b]]
with open(f"{w}/pred.txt", "a") as out:
    for i in range(0, len(rows), k):
        req = urllib.request.Request(f"{url}/v1/models/c:predict", json.dumps({"instances": rows[i:i + k]}).encode(), {"Content-Type": "application/json"})
        try:
            for p in json.load(urllib.request.urlopen(req))["predictions"]:
                out.write(f"{p!r}\n")
        except urllib.error.HTTPError as e:
            sys.exit(f"{e}: {e.read()[:400]}")
PY
}
send live.csv 0 200 10
metrics_after_windows "$W/m1.txt" 5
send live.csv 200 300 20
metrics_after_windows "$W/m2.txt" 9
# 10 refused rows (cement not a number), one request each, among 15 stationary ones
echo '{"instances": [{"cement": "lots", "age": 28}]}' > "$W/bad.json"
for i in $(seq 10); do expect_status 400 POST /v1/models/c:predict "$W/bad.json"; done
send tail.csv 0 15 1
metrics_after_windows "$W/m3.txt" 10
$py - "$W" <<'PY' || fail "the drift gauges are wrong"
import sys, numpy as np, pandas as pd
from scipy import stats
w = sys.argv[1]
def read(p):
    m = {}
    for line in open(p):
        if line.startswith(("kiln_drift_", "kiln_window_")):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m
m1, m2, m3 = (read(f"{w}/m{i}.txt") for i in (1, 2, 3))
def g(m, f, c=None):
    return m[f'kiln_{f}{{model="c",version="1"' + (f',column="{c}"' if c else "") + "}"]
cols = list(pd.read_csv(f"{w}/live.csv").columns)
assert g(m1, "drift_windows_total") == 5 and g(m2, "drift_windows_total") == 9 and g(m3, "drift_windows_total") == 10, (g(m1, "drift_windows_total"), g(m2, "drift_windows_total"), g(m3, "drift_windows_total"))
assert g(m1, "drift_window_rows") == 100 and g(m1, "drift_slide_rows") == 25
assert g(m1, "drift_drifted_windows_total") == 0, "a stationary window drifted"
assert [c for c in cols + ["(prediction)"] if g(m1, "drift_drifted", c)] == []
flag2 = sorted(c for c in cols + ["(prediction)"] if g(m2, "drift_drifted", c))
assert flag2 == ["(prediction)", "cement"], flag2
# the predictions of the window of rows 201-300 against the training rows'
train_pred = pd.read_csv(f"{w}/train_pred.csv")["prediction"].values
pred = np.loadtxt(f"{w}/pred.txt")
d, p = stats.ks_2samp(train_pred, pred[200:300], method="exact")
assert abs(g(m2, "drift_p", "(prediction)") - p) < 1e-9, (g(m2, "drift_p", "(prediction)"), p)
assert g(m2, "window_invalid_share") == 0
assert abs(g(m3, "window_invalid_share") - 0.1) < 1e-12, g(m3, "window_invalid_share")
assert g(m3, "drift_invalid_rows_total") == 10
mem = g(m3, "drift_memory_bytes")
# 8 numeric inputs and the predictions: a ring of 256 rows (the power of
# two from two windows), a double each, the copy being tested (100) and the
# stored sample (700 values: at most 2,001 doubles); the rows' stamps,
# predictions and padding to cache lines; per window a scratch array of 100
# doubles and 256 + 100 flags, and under 2 kB per input of bookkeeping
per_col = [g(m3, "drift_column_memory_bytes", c) for c in cols + ["(prediction)"]]
assert all(b == (256 + 100 + 700) * 8 for b in per_col), per_col
assert sum(per_col) + 256 * 16 < mem < sum(per_col) + 256 * 64 + 1000 + 2048 * 9, (mem, sum(per_col))
assert g(m3, "drift_skipped_windows_total") == 0
print(f"sliding windows: 10 windows, cement and the predictions drifted (p {p:.3g}), refused share 0.1, memory {mem:.0f} B")
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0 on SIGTERM: $(tail -20 "$W/serve.err")"
SERVE_PID=
! grep -q "Sanitizer\|runtime error" "$W/serve.err" || fail "sanitizer: $(cat "$W/serve.err")"
echo "serve drift slide: ok"
