#!/bin/bash
# kiln serve --drift-window 100 --record-windows: each finished window of a
# served version goes into the store's monitoring tables (monitor_checks,
# as kiln monitor check --record writes them) from the server's monitoring
# thread, not from the request that ends it. Three windows of a GBDT on
# concrete mixes (the third with cement times 1.6), then SIGTERM at once:
# all three are in the store (the queue is worked off before the server
# exits), in order, with the version, the drifted columns and the
# predictions' result; kiln monitor report draws them. --record-windows
# without --drift-window is a usage error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = concrete(2)
live = train_live(c, 700, 1000, "compressive_strength")
live.loc[200:, "cement"] *= 1.6
live.to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=30 --out "$W/c.kiln" > /dev/null
expect "record-windows records drift windows" 2 "$KILN" serve --model c="$W/c.kiln" --record-windows \
    --feedback-ring 0
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --record-windows \
    --store "$W/store"
$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request
w, url = sys.argv[1:]
rows = [{n: float(v) for n, v in r.items()} for r in csv.DictReader(open(f"{w}/live.csv"))]
for i in range(0, len(rows), 20):
    req = urllib.request.Request(f"{url}/v1/models/c:predict", json.dumps({"instances": rows[i:i + 20]}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
SERVE_PID=
! grep -q "Sanitizer\|runtime error" "$W/serve.err" || fail "sanitizer: $(cat "$W/serve.err")"
$py - "$W" <<'PY' || fail "the recorded windows are wrong"
import json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(f"file:{w}/store/kiln.db?mode=ro", uri=True)
rows = db.execute("SELECT model, data, window_rows, rows, drift, result FROM monitor_checks ORDER BY id").fetchall()
assert len(rows) == 3, rows
for k, (model, data, window_rows, n, drift, result) in enumerate(rows, 1):
    r = json.loads(result)
    assert model == "c" and window_rows == 100 and n == 100, (model, window_rows, n)
    assert r["source"] == "serve" and r["version"] == "1" and r["window"] == k and r["from"] == 100 * (k - 1), r
    assert data == "kiln serve: version 1", data
    assert r["prediction"] is not None and r["prediction"]["column"] == "(prediction)"
    assert len(r["columns"]) == 8 and r["invalid_share"] == 0
    assert drift == (k == 3), (k, drift, r["drifted"])
assert "cement" in json.loads(rows[2][5])["drifted"], json.loads(rows[2][5])["drifted"]
print(f"3 windows recorded; the third drifted: {json.loads(rows[2][5])['drifted']}, predictions {json.loads(rows[2][5])['prediction']['drifted']}")
PY
"$KILN" -q monitor report --model c --store "$W/store" --out "$W/monitor.html" ||
    fail "kiln monitor report failed on the server's windows"
grep -q "3 recorded checks" "$W/monitor.html" || fail "the report does not show the 3 windows"
echo "serve record windows: ok"
