#!/bin/bash
# kiln serve --alerts with a canary: a rule's streak and incident are per
# scope (the main version, the canary), so a canary's windows neither
# close nor prolong the main version's incident. Main and canary (50 %:
# requests alternate, main first) each see four tumbling windows of 100
# rows of concrete mixes: the main's cement times 1.6 in windows 1-2, the
# canary's in 3-4. Interleaved, one shared streak would open and close an
# incident at every turn; per scope there are two incidents: the main's
# (window 1, closed by its window 3) and the canary's (window 3), each
# delivered once to a webhook receiver on 127.0.0.1; the store keeps them
# under c with scope main and canary (kiln monitor alerts and the report's
# alert history show it). Requests go through curl.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
mkdir "$W/req"
data_py <<'PY'
c = concrete(3)
live = train_live(c, 600, 1000, "compressive_strength")
def stream(seed, moved):  # 400 rows: windows `moved` (1-based) with cement times 1.6
    s = live.iloc[np.random.RandomState(seed).permutation(len(live))].reset_index(drop=True)
    for k in moved:
        s.loc[(k - 1) * 100:k * 100 - 1, "cement"] *= 1.6
    return s
main, canary = stream(1, (1, 2)), stream(2, (3, 4))
for k in range(80):  # request k: the main's when even, the canary's when odd
    s, i = (main, k // 2) if k % 2 == 0 else (canary, k // 2)
    rows = s.iloc[i * 10:(i + 1) * 10].to_dict("records")
    json.dump({"instances": rows}, open(f"{w}/req/{k:03d}.json", "w"))
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=20 --out "$W/c1.kiln" > /dev/null
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=25 --out "$W/c2.kiln" > /dev/null
HOOK=$(free_port)
cat > "$W/rules.yaml" <<EOF
rules:
  - name: cement_moved
    metric: psi
    column: cement
    condition: "> 0.2"
sinks:
  - webhook: http://127.0.0.1:$HOOK/alerts
EOF
start_receiver "$HOOK" "$W/got.jsonl"
start_server --model c="$W/c1.kiln" --canary c="$W/c2.kiln"=50% --threads 2 --drift-window 100 \
    --alerts "$W/rules.yaml" --record-windows --store "$W/store"
for f in "$W"/req/*.json; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$f" "$URL/v1/models/c:predict")
    [ "$code" = 200 ] || fail "$f: status $code"
done
metrics_after_windows "$W/metrics" 8
stop_server
stop_receiver
$py - "$W" <<'PY' || fail "the deliveries are wrong: $(cat "$W/got.jsonl" 2>/dev/null)"
import json, sys
got = [json.loads(l) for l in open(f"{sys.argv[1]}/got.jsonl")]
seen = sorted((a["scope"], a["version"], a["window"]) for a in got)
assert seen == [("canary", "2", 3), ("main", "1", 1)], seen
assert all(a["rule"] == "cement_moved" and a["model"] == "c" and a["value"] > 0.2 for a in got), got
print(f"one incident per scope: {seen}")
PY
"$KILN" --json monitor alerts --store "$W/store" > "$W/alerts.json"
$py - "$W" <<'PY' || fail "the store's incidents are wrong: $(cat "$W/alerts.json")"
import json, sys
a = json.load(open(f"{sys.argv[1]}/alerts.json"))["alerts"]
by = {x["scope"]: x for x in a}
assert len(a) == 2 and sorted(by) == ["canary", "main"] and all(x["model"] == "c" for x in a), a
assert by["main"]["closed"] is not None and by["main"]["detail"]["window"] == 2, by["main"]  # closed by window 3
assert by["canary"]["closed"] is None and by["canary"]["detail"]["window"] == 4, by["canary"]
assert all(x["delivered"] for x in a), a
PY
# the scope in the table of kiln monitor alerts, MODEL#SCOPE picks one scope,
# and the report's alert history has the scope column
"$KILN" monitor alerts --store "$W/store" --model c > "$W/alerts.txt"
grep -q "cement_moved .* c  *canary .*open" "$W/alerts.txt" &&
    grep -q "cement_moved .* c  *main " "$W/alerts.txt" || fail "monitor alerts: $(cat "$W/alerts.txt")"
[ "$("$KILN" --json monitor alerts --store "$W/store" --model 'c#canary' |
    $py -c 'import json, sys; print([x["scope"] for x in json.load(sys.stdin)["alerts"]])')" = "['canary']" ] ||
    fail "monitor alerts --model c#canary lists other scopes"
"$KILN" -q monitor report --model c --store "$W/store" --out "$W/monitor.html"
$py - "$W/monitor.html" <<'PY' || fail "the report's alert history has no scope"
import re, sys
html = open(sys.argv[1]).read()
hist = html[html.index('id="alerts"'):]
assert "<th>scope</th>" in hist, hist[:400]
rows = re.findall(r"<tr><td>\d+</td><td>cement_moved</td><td>(\w+)</td>", hist)
assert sorted(rows) == ["canary", "main"], rows
PY
# a store of schema 3, as kiln kept it before the scope column: the canary's
# incident and streak under the model text c#canary. Read-only (another user,
# since root writes anywhere) it is read with the scopes split; writable it is
# upgraded to schema 4 with the streaks carried over.
cp -r "$W/store" "$W/v3"
$py - "$W/v3/kiln.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for t, cols in (("monitor_alerts", "id, model, rule, severity, opened, last_seen, closed, detail, delivered, attempts"),
                ("monitor_rule_state", "model, rule, streak")):
    rows = con.execute(f"SELECT {cols}, scope FROM {t}").fetchall()
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
    con.execute(f"DROP TABLE {t}")
    sql = sql.replace(", scope TEXT NOT NULL DEFAULT 'main'", "").replace(" scope TEXT NOT NULL,", "")
    con.execute(sql.replace("PRIMARY KEY(model, scope, rule)", "PRIMARY KEY(model, rule)"))
    n = len(cols.split(","))
    for r in rows:
        r = list(r)
        if r[-1] != "main":
            r[1 if t == "monitor_alerts" else 0] += "#" + r[-1]
        con.execute(f"INSERT INTO {t}({cols}) VALUES ({','.join('?' * n)})", r[:-1])
con.execute("PRAGMA user_version = 3"); con.commit()
con.execute("PRAGMA wal_checkpoint(TRUNCATE)"); con.close()
PY
user_version() { $py -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$1"; }
scopes() { $py -c 'import json, sys; print(sorted((x["model"], x["scope"]) for x in json.load(sys.stdin)["alerts"]))'; }
chmod -R a-w "$W/v3"
as_reader=()
[ "$(id -u)" = 0 ] && chmod 755 "$W" && as_reader=(setpriv --reuid=65534 --regid=65534 --clear-groups)
got=$("${as_reader[@]}" "$KILN" --json monitor alerts --store "$W/v3" | scopes)
[ "$got" = "[('c', 'canary'), ('c', 'main')]" ] || fail "read-only schema 3 store: $got"
[ "$(user_version "$W/v3/kiln.db")" = 3 ] || fail "a read-only store was upgraded"
chmod -R u+w "$W/v3"
got=$("$KILN" --json monitor alerts --store "$W/v3" | scopes)
[ "$got" = "[('c', 'canary'), ('c', 'main')]" ] || fail "upgraded schema 3 store: $got"
[ "$(user_version "$W/v3/kiln.db")" = 4 ] || fail "a writable schema 3 store was not upgraded"
$py -c 'import sqlite3, sys; r = sqlite3.connect(sys.argv[1]).execute("SELECT model, scope, streak FROM monitor_rule_state ORDER BY scope").fetchall(); assert r == [("c", "canary", 2), ("c", "main", 0)], r' \
    "$W/v3/kiln.db" || fail "the streaks were not carried over"
echo "serve alert scopes: ok"
