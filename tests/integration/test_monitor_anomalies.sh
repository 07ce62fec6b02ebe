#!/bin/bash
# kiln monitor check --anomalies: input anomalies per window. A GBDT on
# 3,000 lending_club rows; a stream of 2,000 other rows of the file in 4
# windows of 500, with 40 planted outlier rows (8 %) in window 3: a feed
# in the wrong unit, every numeric column 10 times its value. (Four
# columns 10 times flag few rows, in scikit-learn's IsolationForest too:
# the forest splits on 17 columns and lending_club's own tails are long.)
# The isolation forest (seeded) is fitted on the reference rows; the
# threshold is the reference scores' 1 % quantile.
# - only window 3 is flagged (table and JSON), exit 1; the stream without
#   the planted rows flags none, exit 0;
# - each window's p-value is scipy.stats.binom.sf(k - 1, n, reference
#   share) within 1e-9, and its share k / n;
# - the same data, parameters and seed give the same JSON bytes;
# - a model with no numeric input is a clear error (exit 3).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
live = train_live(lc.iloc[idx], 3000, 5000, "Class")
live.to_csv(f"{w}/clean.csv", index=False)
rows = np.random.RandomState(1).choice(np.arange(1000, 1500), 40, replace=False)
num = [c for c in live.columns if live[c].dtype != object]
live.loc[rows, num] = live.loc[rows, num] * 10
live.to_csv(f"{w}/live.csv", index=False)
lc[["term", "sub_grade", "Class"]].iloc[idx[:3000]].to_csv(f"{w}/text_train.csv", index=False)
lc[["term", "sub_grade"]].iloc[idx[3000:3500]].to_csv(f"{w}/text_live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=10 \
    --out "$W/lc.kiln" > /dev/null
check() { "$KILN" monitor check --model "$W/lc.kiln" --reference "$W/train.csv" --window 500 \
    --anomalies "$@"; }
rc=0; check --data "$W/live.csv" > "$W/table.txt" || rc=$?
cat "$W/table.txt"
[ "$rc" = 1 ] || fail "planted anomalies: exit $rc, wanted 1"
[ "$(grep -c 'ANOMALOUS' "$W/table.txt")" = 1 ] && grep -q '^window 3 .*ANOMALOUS' "$W/table.txt" ||
    fail "the table does not flag window 3 alone"
grep -q '^1 of 4 windows with anomalous rows' "$W/table.txt" || fail "no anomaly summary line"
rc=0; check --data "$W/live.csv" --json > "$W/a.json" || rc=$?
[ "$rc" = 1 ] || fail "planted anomalies (--json): exit $rc"
check --data "$W/live.csv" --json > "$W/b.json" || true
cmp -s "$W/a.json" "$W/b.json" || fail "two runs with the same seed differ"
rc=0; check --data "$W/clean.csv" --json > "$W/clean.json" || rc=$?
check --data "$W/clean.csv" > "$W/clean.txt" || true
# no drifted window: no "(first: 0)" (there is no first)
grep -q '^[1-9][0-9]* of 4 windows of 500 rows drifted (first: [1-4])$\|^0 of 4 windows of 500 rows drifted$' \
    "$W/clean.txt" || fail "the windows' summary line: $(grep 'windows of' "$W/clean.txt")"
$py - "$W" <<'PY' || fail "the anomaly windows are wrong"
import json, sys
from scipy import stats
w = sys.argv[1]
a, clean = json.load(open(f"{w}/a.json")), json.load(open(f"{w}/clean.json"))
for j, want in ((a, [3]), (clean, [])):
    m = j["anomaly_model"]
    assert m["model"] == "isolation_forest" and m["contamination"] == 0.01 and m["seed"] == 0
    assert "annual_inc" in m["columns"] and "term" not in m["columns"], m["columns"]
    assert abs(m["reference_share"] - 0.01) < 0.001, m["reference_share"]
    flagged = [k + 1 for k, r in enumerate(j["window_results"]) if r["anomalies"]["flagged"]]
    assert flagged == want, (flagged, want)
    assert j["windows_anomalous"] == len(want)
    for r in j["window_results"]:
        x = r["anomalies"]
        n, k, q = x["rows"], x["anomalous_rows"], max(x["reference_share"], 1 / 3001)
        assert n == 500 and x["share"] == k / n
        p = stats.binom.sf(k - 1, n, q) if k else 1.0
        assert abs(x["p"] - p) < 1e-9 and abs(x["p"] - p) <= 1e-9 * p, (x["p"], p)
    print([r["anomalies"]["anomalous_rows"] for r in j["window_results"]])
w3 = a["window_results"][2]["anomalies"]
assert w3["anomalous_rows"] >= 36, w3
PY
[ "$rc" = 0 ] || [ "$(grep -c '"flagged": true' "$W/clean.json")" = 0 ] || fail "clean stream: exit $rc"
"$KILN" -q train --data "$W/text_train.csv" --target Class --model gbdt --param n_estimators=5 \
    --out "$W/text.kiln" > /dev/null
expect "no numeric input column" 3 "$KILN" monitor check --model "$W/text.kiln" \
    --data "$W/text_live.csv" --reference "$W/text_train.csv" --anomalies
# the artifact's own drift reference holds columns apart, not rows: the forest needs --reference
expect "anomalies needs --reference" 2 "$KILN" monitor check --model "$W/lc.kiln" \
    --data "$W/live.csv" --anomalies
# ... and names the command that scores against the artifact's sample of rows
expect "sample of at most 1,000 training rows serves 'kiln monitor anomalies --log'" 2 \
    "$KILN" monitor check --model "$W/lc.kiln" --data "$W/live.csv" --anomalies
echo "ok"
