#!/bin/bash
# Alert rules on live feedback scores: "alert when a metric falls below the
# artifact's test score by a configured margin".
# - kiln serve --alerts: a GBDT regression on concrete (test RMSE recorded
#   in the artifact), 80 rows predicted in one request (curl), their labels
#   POSTed to /v2/models/cc/feedback in four windows of 20 (curl): 1 and 4
#   equal to the predictions (RMSE 0), 2 and 3 off by 30 (RMSE 30). Rules:
#   live_drop > 5 (RMSE 30 is the test RMSE + ~23: worse) and live_rmse > 20
#   for 2 windows. The webhook receiver on 127.0.0.1 gets exactly one
#   incident of each: live_drop at window 2, live_rmse at window 3 (window 4
#   closes both).
# - kiln monitor feedback --alerts on the server's prediction log and the
#   same labels: the same two incidents, exit 1.
# - with --record-windows (server) and --record (kiln monitor feedback) each
#   window's live scores are kept in the store, the same figures from both
#   (RMSE 0, 30, 30, 0 against the artifact's test RMSE), and kiln monitor
#   report draws them per version against the test score.
# - a rule on a live metric that does not exist names its line; a live rule
#   without feedback (--feedback-ring 0) or on kiln monitor check, and
#   retrain: on kiln monitor feedback, name the rule.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = pd.read_csv(f"{d}/concrete.csv").sample(frac=1, random_state=1)
c.iloc[:700].to_csv(f"{w}/train.csv", index=False)
live = c.iloc[700:780].drop(columns=["compressive_strength"])
json.dump({"instances": live.to_dict("records")}, open(f"{w}/predict.json", "w"))
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=20 --out "$W/cc.kiln" > /dev/null
HOOK=$(free_port)
cat > "$W/rules.yaml" <<EOF
rules:
  - name: worse_live
    metric: live_drop
    condition: "> 5"
    severity: critical
  - name: rmse_high
    metric: live_rmse
    condition: "> 20"
    for: 2
sinks:
  - webhook: http://127.0.0.1:$HOOK/alerts
EOF
start_receiver "$HOOK" "$W/got.jsonl"
start_server --model cc="$W/cc.kiln" --threads 2 --feedback-window 20 --alerts "$W/rules.yaml" \
    --prediction-log "$W/pred.jsonl" --record-windows --store "$W/store"
code=$(curl -s -D "$W/headers" -o "$W/predicted.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "@$W/predict.json" "$URL/v1/models/cc:predict")
[ "$code" = 200 ] || fail "predict: status $code: $(cat "$W/predicted.json")"
RID=$(tr -d '\r' < "$W/headers" | awk -F': ' 'tolower($1) == "x-request-id" {print $2}')
[ -n "$RID" ] || fail "no X-Request-Id: $(cat "$W/headers")"
$py - "$W" "$RID" <<'PY'
import json, sys
w, rid = sys.argv[1], int(sys.argv[2])
pred = json.load(open(f"{w}/predicted.json"))["predictions"]
rows = []
for k in range(4):  # windows 2 and 3: the truth 30 above the prediction
    off = 30.0 if k in (1, 2) else 0.0
    labels = [{"request_id": rid, "row": i, "label": pred[i] + off} for i in range(20 * k, 20 * (k + 1))]
    json.dump({"labels": labels}, open(f"{w}/fb{k + 1}.json", "w"))
    rows += [(rid, l["row"], l["label"]) for l in labels]
with open(f"{w}/labels.csv", "w") as f:
    f.write("request_id,row,compressive_strength\n")
    f.writelines(f"{a},{b},{c!r}\n" for a, b, c in rows)
PY
for k in 1 2 3 4; do
    code=$(curl -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$W/fb$k.json" "$URL/v2/models/cc/feedback")
    [ "$code" = 200 ] || fail "feedback $k: status $code: $(cat "$W/body")"
done
curl -s "$URL/metrics" > "$W/metrics"
grep -q '^kiln_feedback_windows_total{model="cc",version="1"} 4$' "$W/metrics" ||
    fail "four feedback windows: $(grep kiln_feedback "$W/metrics")"
stop_server # works the monitoring queue off
stop_receiver
check() { # FILE HOW MODEL: one delivery per incident
    $py - "$1" "$2" "$3" <<'PY' || fail "the deliveries are wrong ($2): $(cat "$1" 2>/dev/null)"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
seen = sorted((a["rule"], a["window"]) for a in got)
assert seen == [("rmse_high", 3), ("worse_live", 2)], seen
for a in got:
    assert a["model"] == sys.argv[3] and a["version"] == "1", a
    if a["rule"] == "worse_live":
        assert a["headline"] == "rmse" and 0 < a["test"] < 20 and a["severity"] == "critical", a
        assert abs(a["value"] - (30 - a["test"])) < 1e-9, a
    else:
        assert abs(a["value"] - 30) < 1e-9, a
print(f"{sys.argv[2]}: one delivery per incident: {seen}")
PY
}
check "$W/got.jsonl" "kiln serve" cc

# the same labels against the server's prediction log, offline
cat > "$W/cli.yaml" <<EOF
rules:
  - {name: worse_live, metric: live_drop, condition: "> 5", severity: critical}
  - {name: rmse_high, metric: live_rmse, condition: "> 20", for: 2}
sinks:
  - webhook: http://127.0.0.1:$HOOK/alerts
EOF
start_receiver "$HOOK" "$W/cli.jsonl"
rc=0
"$KILN" --json monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" --model "$W/cc.kiln" \
    --window 20 --alerts "$W/cli.yaml" > "$W/fb.json" 2> "$W/fb.err" || rc=$?
stop_receiver
[ "$rc" = 1 ] || fail "kiln monitor feedback --alerts: exit $rc, wanted 1: $(cat "$W/fb.err")"
check "$W/cli.jsonl" "kiln monitor feedback" "$W/cc.kiln"

# the live windows kept in the store, by the server and by kiln monitor feedback --record
"$KILN" -q monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" --model "$W/cc.kiln" \
    --window 20 --record --store "$W/store2" > /dev/null 2> "$W/rec.err" || rc=$?
[ "${rc:-0}" = 1 ] || fail "kiln monitor feedback --record: exit ${rc:-0}, wanted 1: $(cat "$W/rec.err")"
expect "record keeps the windows under the model: give --model" 2 "$KILN" monitor feedback \
    --log "$W/pred.jsonl" --labels "$W/labels.csv" --window 20 --record --store "$W/store2"
$py - "$W" <<'PY' || fail "the recorded live windows are wrong"
import json, sqlite3, sys
w = sys.argv[1]
def live(store, model):
    db = sqlite3.connect(f"{store}/kiln.db")
    rows = db.execute("SELECT window_rows, rows, result FROM monitor_checks WHERE model = ? ORDER BY id",
                      (model,)).fetchall()
    return [(wr, n, json.loads(r)["live"]) for wr, n, r in rows if "live" in json.loads(r)]
srv, cli = live(f"{w}/store", "cc"), live(f"{w}/store2", f"{w}/cc.kiln")
assert len(srv) == 4 and len(cli) == 4, (srv, cli)
for (wr, n, a), (_, _, b) in zip(srv, cli):
    assert wr == 20 and n == 20, (wr, n)
    assert a["metric"] == b["metric"] == "rmse" and a["version"] == b["version"] == "1", (a, b)
    assert a["scope"] == "main" and b["scope"] == "1", (a, b)
    assert abs(a["value"] - b["value"]) < 1e-9 and abs(a["test"] - b["test"]) < 1e-12, (a, b)
    assert abs(a["scores"]["mae"] - b["scores"]["mae"]) < 1e-9, (a, b)
assert [round(x["value"], 9) for _, _, x in srv] == [0, 30, 30, 0], srv
assert [x["window"] for _, _, x in srv] == [x["window"] for _, _, x in cli] == [1, 2, 3, 4]
print("live windows recorded: the server's and kiln monitor feedback's agree:",
      [round(x["value"], 3) for _, _, x in srv], "test", round(srv[0][2]["test"], 3))
PY
"$KILN" -q monitor report --model cc --store "$W/store" --out "$W/report.html" ||
    fail "monitor report of the live windows"
grep -q '<h2>Live metric over time</h2>' "$W/report.html" || fail "no live section in the report"
grep -q 'version 1: live rmse per window' "$W/report.html" || fail "no live chart: $(grep -A3 'id="live"' "$W/report.html")"
# (no `grep ... | grep -q` under pipefail: the first grep can die of SIGPIPE)
sed -n '/id="live"/,/<\/section>/p' "$W/report.html" > "$W/live.html"
grep -q 'test score' "$W/live.html" || fail "no test score line in the live chart"
chrome_figures "$W/report.html"

# bad rules
printf 'rules:\n  - {name: a, metric: live_rmse, condition: "> 1"}\n  - {name: b, metric: live_rmsee, condition: "> 1"}\n' > "$W/bad1.yaml"
expect "bad1.yaml:3.*no metric 'live_rmsee'" 1 "$KILN" serve --model cc="$W/cc.kiln" --alerts "$W/bad1.yaml"
printf 'rules:\n  - {name: a, metric: live_drop, condition: "> 1"}\n' > "$W/bad2.yaml"
expect "rule 'a' watches 'live_drop', a live score of feedback labels: give --feedback-ring" 1 \
    "$KILN" serve --model cc="$W/cc.kiln" --feedback-ring 0 --alerts "$W/bad2.yaml"
expect "rule 'a': metric 'live_drop' is a live score" 2 "$KILN" monitor check --model "$W/cc.kiln" \
    --data "$W/train.csv" --alerts "$W/bad2.yaml"
printf 'rules:\n  - {name: r, metric: live_drop, condition: "> 1", retrain: {spec: s.yaml, holdout: h.csv}}\n' > "$W/bad3.yaml"
expect "rule 'r' has retrain:, which kiln monitor feedback does not run" 2 "$KILN" monitor feedback \
    --log "$W/pred.jsonl" --labels "$W/labels.csv" --model "$W/cc.kiln" --alerts "$W/bad3.yaml"
echo "serve feedback alerts: ok"
