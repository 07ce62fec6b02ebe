#!/bin/bash
# kiln serve operations, with the real server on 127.0.0.1, real artifacts
# (the credit demo's registry, v1 and a v2 from kiln run; ridge regressions
# of concrete from kiln train as files) and real HTTP clients (curl, and
# python3 http.client with keep-alive for the load): reload under traffic
# with no failed request and every answer from the version it names,
# damaged and incompatible artifacts refused while the old version serves
# on, registry pick-up by polling after kiln models promote, rollback (the
# registry's too), SIGHUP, the canary split over 10,000 requests, shadow
# results logged and disagreements counted, per-version metrics, the
# header limit and slow-drip headers, and --verify-key on reload.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D=${KILN_TEST_DATA:?}

"$KILN" demo --out "$W/demo" --store "$W/store" --rows 2000 --quiet > /dev/null 2>&1 ||
    fail "kiln demo failed"
# credit v2: fewer trees, registered without a stage
sed -e 's/stage: production/stage: none/' -e 's/n_estimators: 100/n_estimators: 60/' \
    "$W/demo/credit.yaml" > "$W/demo/credit2.yaml"
"$KILN" run "$W/demo/credit2.yaml" --store "$W/store" --quiet > /dev/null 2>&1 ||
    fail "kiln run credit2 failed"
# the admin routes need an admin API key: every server below reads the
# keys of this store, and req sends the key
export KILN_STORE="$W/store"
SERVE_KEY=$("$KILN" keys create --role admin --name ops-test --store "$W/store" 2> /dev/null)
train_conc() { "$KILN" train --data "$D/concrete.csv" --target compressive_strength --model ridge \
    --quiet "$@" > /dev/null; }
train_conc --out "$W/conc1.kiln"
train_conc --param alpha=1000 --out "$W/conc2.kiln"
# another target: age is no input of it, compressive_strength is
"$KILN" train --data "$D/concrete.csv" --target age --model ridge --out "$W/conc_noage.kiln" \
    --quiet > /dev/null
"$KILN" train --data "$D/wine.csv" --target class --model gaussian_nb --out "$W/wine.kiln" \
    --quiet > /dev/null
head -c 500 "$W/conc1.kiln" > "$W/cut.kiln"
# put FILE: the served file replaced at once (a rename), as a deploy does
put() { cp "$1" "$W/live.tmp" && mv "$W/live.tmp" "$W/live.kiln"; }
put "$W/conc1.kiln"

cat > "$W/conc_row.json" << 'EOF'
{"instances": [{"cement": 540, "blast_furnace_slag": 0, "fly_ash": 0, "water": 162,
 "superplasticizer": 2.5, "coarse_aggregate": 1040, "fine_aggregate": 676, "age": 28}]}
EOF
# the load client: THREADS keep-alive connections POSTing BODY to PATH
# until STOP exists (or N requests in all); one line per answer: status,
# X-Model-Version, body
cat > "$W/load.py" << 'PY'
import http.client, json, os, sys, threading, time
port, path, body, stop, n_total, threads, out = sys.argv[1:8]
body = open(body, "rb").read()
n_total, threads = int(n_total), int(threads)
lock = threading.Lock()
done = [0]
res = []
def run():
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    mine = []
    while True:
        with lock:
            if (n_total and done[0] >= n_total) or (not n_total and os.path.exists(stop)):
                break
            done[0] += 1
        try:
            t0 = time.perf_counter()
            c.request("POST", path, body, {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read().decode()
            mine.append((r.status, r.getheader("X-Model-Version"), data,
                         time.perf_counter() - t0))
        except Exception as e:  # status 0: what failed, after how long, and when
            t = time.perf_counter() - t0
            mine.append((0, None, f"{e!r} after {t:.3f} s, at "
                         f"{time.strftime('%H:%M:%S')} (request {done[0]})", t))
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    with lock:
        res.extend(mine)
ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
with open(out, "w") as f:
    for r in res:
        f.write(json.dumps(r) + "\n")
PY

start_server --store "$W/store" --model credit@production --model conc="$W/live.kiln" \
    --poll 1 --threads 2 --access-log "$W/access.jsonl"
expect_status 200 GET /admin/models
body_is '[m["version"] for m in j["models"]] == ["1", "1"] and j["models"][1]["file"].endswith("live.kiln")'
# one credit row as a request, typed by the model's metadata
expect_status 200 GET /v2/models/credit
$py - "$W" << 'PY'
import csv, json, sys
w = sys.argv[1]
types = {i["name"]: i["datatype"] for i in json.load(open(f"{w}/body"))["inputs"]}
r = next(csv.DictReader(open(f"{w}/demo/credit.csv")))
inst = {k: None if v == "" else float(v) if types[k] == "FP64" else v
        for k, v in r.items() if k in types}
json.dump({"instances": [inst]}, open(f"{w}/credit_row.json", "w"))
PY
expect_status 405 GET /admin/models/conc/reload
expect_status 404 POST /admin/models/nope/reload
req POST /v1/models/conc:predict "$W/conc_row.json"
pred1=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["predictions"][0])' "$W/body")

# ---- reload under traffic: 4 keep-alive clients while the file flips 6 times
rm -f "$W/stop"
$py "$W/load.py" "$PORT" /v1/models/conc:predict "$W/conc_row.json" "$W/stop" 0 4 \
    "$W/load.jsonl" &
LOAD_PID=$!
sleep 0.5
for i in 1 2 3 4 5 6; do
    if [ $((i % 2)) = 1 ]; then put "$W/conc2.kiln"; want=2; else put "$W/conc1.kiln"; want=1; fi
    expect_status 200 POST /admin/models/conc/reload
    body_is "j['result'] == 'reloaded' and j['version'] == '$want' and j['previous'] == '$((3 - want))'"
    sleep 0.3
done
touch "$W/stop"
wait "$LOAD_PID" || fail "the load client failed"
req POST /v1/models/conc:predict "$W/conc_row.json"
[ "$CODE" = 200 ] || fail "predict after the swaps: $CODE"
$py - "$W/load.jsonl" "$pred1" << 'PY' || fail "reload under traffic: see above"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
pred1 = float(sys.argv[2])
bad = [r for r in rows if r[0] != 200]
assert not bad, f"{len(bad)} of {len(rows)} requests failed: {bad[:3]}"
by = {}
for s, v, d, t in rows:
    by.setdefault(v, set()).add(json.loads(d)["predictions"][0])
assert set(by) == {"1", "2"}, by.keys()
# each answer is the one of the version it names
assert by["1"] == {pred1}, by["1"]
assert len(by["2"]) == 1 and pred1 not in by["2"], by["2"]
assert len(rows) > 50, len(rows)
lat = sorted(r[3] for r in rows)
print(f"reload under traffic: {len(rows)} requests over 6 swaps, all 200, versions "
      f"{sorted(by)}; latency p50 {lat[len(lat) // 2] * 1e3:.2f} ms, "
      f"p99 {lat[len(lat) * 99 // 100] * 1e3:.2f} ms, max {lat[-1] * 1e3:.1f} ms")
PY

# the access log names the version that answered each request
$py - "$W/access.jsonl" << 'PY' || fail "access log versions"
import json, sys
vs = {json.loads(l).get("version") for l in open(sys.argv[1]) if '"conc:predict' in l or 'conc:predict' in l}
assert vs == {"1", "2"}, vs
PY

# the same bytes again: unchanged
expect_status 200 POST /admin/models/conc/reload
body_is 'j["result"] == "unchanged" and j["version"] == "1"'

# ---- refused: damaged, another task, an input column dropped; the old one serves on
put "$W/cut.kiln"
expect_status 409 POST /admin/models/conc/reload
body_is 'j["result"] == "refused" and j["version"] == "1" and "damaged" in j["error"]["message"]'
put "$W/wine.kiln"
expect_status 409 POST /admin/models/conc/reload
body_is 'j["version"] == "1" and "incompatible" in j["error"]["message"] and "classifier" in j["error"]["message"]'
put "$W/conc_noage.kiln"
expect_status 409 POST /admin/models/conc/reload
body_is '"age" in j["error"]["message"] and "does not take" in j["error"]["message"]'
rm "$W/live.kiln"
expect_status 409 POST /admin/models/conc/reload
body_is 'j["version"] == "1"'
curl -s -D "$W/head" -o "$W/body" -d @"$W/conc_row.json" "$URL/v1/models/conc:predict"
grep -qi '^X-Model-Version: 1' "$W/head" || fail "after refused reloads: $(cat "$W/head")"
body_is "j['predictions'][0] == $pred1"
grep -q "keeps serving" "$W/serve.err" || fail "no log line for a refused reload"

# ---- SIGHUP reloads every model
put "$W/conc2.kiln"
kill -HUP "$SERVE_PID"
for _ in $(seq 50); do
    req GET /admin/models/conc
    $py -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["version"] != "2")' \
        "$W/body" && break
    sleep 0.1
done
body_is 'j["version"] == "2" and j["previous"] == "1"'
kill -0 "$SERVE_PID" || fail "kiln serve died on SIGHUP"
grep -q 'SIGHUP' "$W/serve.err" || fail "SIGHUP said nothing: $(cat "$W/serve.err")"

# ---- rollback of a file: back to the version before; pinned until a reload
expect_status 200 POST /admin/models/conc/rollback
body_is 'j == {"model": "conc", "result": "rolled_back", "version": "1", "previous": "2"}'
expect_status 200 GET /admin/models/conc
body_is 'j["pinned"] is True and j["version"] == "1"'
curl -s -D "$W/head" -o /dev/null -d @"$W/conc_row.json" "$URL/v1/models/conc:predict"
grep -qi '^X-Model-Version: 1' "$W/head" || fail "after rollback: $(cat "$W/head")"

# ---- the registry: promote v2, the poller picks it up
expect_status 409 POST /admin/models/credit/rollback # v1 is the first in production
body_is '"first version" in j["error"]["message"] and j["version"] == "1"'
"$KILN" models promote credit 2 --stage production --force --reason "test" --store "$W/store" \
    --quiet > /dev/null
for _ in $(seq 80); do
    req GET /admin/models/credit
    $py -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["version"] != "2")' \
        "$W/body" && break
    sleep 0.1
done
body_is 'j["version"] == "2" and j["previous"] == "1"'
curl -s -D "$W/head" -o "$W/body" -d @"$W/credit_row.json" "$URL/v1/models/credit:predict"
grep -qi '^X-Model-Version: 2' "$W/head" || fail "after promote: $(cat "$W/head")"
# rollback moves the registry too, so the poller does not undo it
expect_status 200 POST /admin/models/credit/rollback
body_is 'j["result"] == "rolled_back" and j["version"] == "1" and j["previous"] == "2"'
"$KILN" models list --store "$W/store" --json > "$W/models.json"
$py -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["models"][0]["production"] != 1)' \
    "$W/models.json" || fail "the registry did not roll back: $(cat "$W/models.json")"
sleep 2.5 # two poll rounds
expect_status 200 GET /admin/models/credit
body_is 'j["version"] == "1"'

# ---- metrics: per version, reloads, rollbacks
sleep 0.2
expect_status 200 GET /metrics
$py - "$W/body" << 'PY' || fail "metrics: $(grep -v '^#' "$W/body" | grep -v _bucket | head -c 3000)"
import sys
m = {}
for line in open(sys.argv[1]).read().splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
get = lambda k: m.get(k, 0)
for v in ("1", "2"):
    assert get(f'kiln_serve_requests_total{{route="v1_predict",model="conc",version="{v}",status="200"}}') > 10, v
    assert get(f'kiln_serve_model_request_duration_seconds_count{{model="conc",version="{v}"}}') > 10, v
    assert get(f'kiln_serve_rows_predicted_total{{model="conc",version="{v}"}}') > 10, v
    assert get(f'kiln_serve_model_load_seconds{{model="credit",version="{v}"}}') > 0, v
assert get('kiln_serve_reloads_total{model="conc",result="reloaded"}') == 7
assert get('kiln_serve_reloads_total{model="conc",result="refused"}') == 4
assert get('kiln_serve_reloads_total{model="conc",result="unchanged"}') == 1
assert get('kiln_serve_reloads_total{model="credit",result="reloaded"}') >= 1
assert get('kiln_serve_rollbacks_total{model="credit",result="rolled_back"}') == 1
assert get('kiln_serve_rollbacks_total{model="credit",result="refused"}') == 1
assert get('kiln_serve_rollbacks_total{model="conc",result="rolled_back"}') == 1
PY

# ---- the header limit, and slow-drip headers do not hold the 2 threads
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/v2/health/live")
[ "$code" = 431 ] || fail "a 40 kB header: status $code, wanted 431"
$py - "$PORT" "$W/conc_row.json" << 'PY' || fail "slow-drip headers held the server"
import http.client, socket, sys, threading, time
port, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
socks = []
for i in range(8):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Drip: ")
    socks.append(s)
stop = [False]
def drip():
    while not stop[0]:
        for s in socks:
            try: s.sendall(b"a")
            except OSError: pass
        time.sleep(0.2)
t = threading.Thread(target=drip); t.start()
try:
    worst = 0
    for i in range(20):
        t0 = time.time()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/v1/models/conc:predict", body)
        r = c.getresponse(); r.read(); c.close()
        assert r.status == 200, r.status
        worst = max(worst, time.time() - t0)
        time.sleep(0.05)
    assert worst < 2, worst
    print(f"slow drip: 8 dripping connections, 20 predicts answered, slowest {worst*1000:.0f} ms")
finally:
    stop[0] = True; t.join()
    for s in socks: s.close()
PY

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=

# ---- canary and shadow
expect "share" 1 "$KILN" serve --store "$W/store" --model credit@v1 --canary credit@v2=150% --port 0
expect "share" 1 "$KILN" serve --store "$W/store" --model credit@v1 --canary credit@v2 --port 0
expect "the one it serves\|already" 1 "$KILN" serve --store "$W/store" --model credit@v1 \
    --canary credit@v1=10% --port 0
expect "incompatible\|classifier" 1 "$KILN" serve --model conc="$W/conc1.kiln" \
    --shadow conc="$W/wine.kiln" --port 0
start_server --store "$W/store" --model credit@v1 --canary credit@v2=10% \
    --model conc="$W/conc1.kiln" --shadow conc="$W/conc2.kiln" --shadow-log "$W/shadow.jsonl" \
    --threads 2 --poll 0
$py "$W/load.py" "$PORT" /v1/models/credit:predict "$W/credit_row.json" "$W/none" 10000 4 \
    "$W/canary.jsonl"
$py - "$W/canary.jsonl" << 'PY' || fail "canary split; the server's log ends: $(tail -n 20 "$W/serve.err")"
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if r[0] != 200]
# a failed request shows the client's error (status 0) or the server's answer
assert len(rows) == 10000 and not bad, (collections.Counter(r[0] for r in rows),
                                        [(r[0], r[2][:300]) for r in bad[:10]])
c = collections.Counter(r[1] for r in rows)
assert set(c) == {"1", "2"}, c
share = c["2"] / len(rows)
assert abs(share - 0.10) <= 0.03, share
print(f"canary: {c['2']} of {len(rows)} requests to v2 ({share:.2%})")
PY
# v2 names its version in the body too; a request naming a version gets it
$py - "$W/credit_row.json" "$W/v2.json" << 'PY'
import json, sys
inst = json.load(open(sys.argv[1]))["instances"][0]
t = lambda v: "FP64" if isinstance(v, float) else "BYTES"
json.dump({"inputs": [{"name": k, "datatype": t(v), "shape": [1], "data": [v]}
                      for k, v in inst.items() if v is not None]}, open(sys.argv[2], "w"))
PY
for _ in $(seq 20); do
    curl -s -D "$W/head" -o "$W/body" -d @"$W/v2.json" "$URL/v2/models/credit/infer"
    v=$(grep -i '^X-Model-Version:' "$W/head" | tr -d '\r' | cut -d' ' -f2)
    body_is "j['model_version'] == '$v'"
done
for _ in 1 2 3; do
    expect_status 200 POST /v2/models/credit/versions/2/infer "$W/v2.json"
    body_is 'j["model_version"] == "2"'
done
expect_status 404 POST /v2/models/credit/versions/3/infer "$W/v2.json"
body_is '"canary 2" in j["error"]["message"]'

# shadow: 20 requests to conc, each scored by v2 in the background
for _ in $(seq 20); do expect_status 200 POST /v1/models/conc:predict "$W/conc_row.json"; done
for _ in $(seq 100); do
    [ "$(wc -l < "$W/shadow.jsonl" 2> /dev/null || echo 0)" -ge 20 ] && break
    sleep 0.1
done
expect_status 200 GET /metrics
grep -q '^kiln_serve_shadow_requests_total{model="conc",result="disagree"} 20$' "$W/body" ||
    fail "shadow disagreements: $(grep shadow "$W/body")"
$py - "$W/shadow.jsonl" "$pred1" << 'PY' || fail "shadow log: $(head -c 1000 "$W/shadow.jsonl")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 20, len(rows)
ids = set()
for r in rows:
    assert r["model"] == "conc" and r["version"] == "1" and r["shadow_version"] == "2", r
    assert r["agree"] is False, r
    assert r["output"]["predictions"][0] == float(sys.argv[2]), r
    assert r["shadow_output"]["predictions"][0] != r["output"]["predictions"][0], r
    ids.add(r["request_id"])
assert len(ids) == 20
PY
expect_status 200 GET /metrics
$py - "$W/body" << 'PY' || fail "canary metrics: $(grep credit "$W/body" | grep -v _bucket | head -c 2000)"
import sys
m = {}
for line in open(sys.argv[1]).read().splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
v1 = m['kiln_serve_requests_total{route="v1_predict",model="credit",version="1",status="200"}']
v2 = m['kiln_serve_requests_total{route="v1_predict",model="credit",version="2",status="200"}']
assert v1 + v2 == 10000 and abs(v2 - 1000) <= 300, (v1, v2)
assert m['kiln_serve_model_version_info{model="credit",version="2",role="canary"}'] == 1
assert m['kiln_serve_model_version_info{model="conc",version="2",role="shadow"}'] == 1
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=

# ---- --verify-key: an unsigned version is refused at start and on reload
"$KILN" keygen --out "$W/team" --quiet
for a in 1 1000; do
    train_conc --param alpha=$a --sign-key "$W/team.key" --out "$W/signed$a.kiln"
done
expect "not signed" 1 "$KILN" serve --model conc="$W/conc1.kiln" --verify-key "$W/team.pub" \
    --port 0
put "$W/signed1.kiln"
start_server --model conc="$W/live.kiln" --verify-key "$W/team.pub" --threads 2
put "$W/conc2.kiln"
expect_status 409 POST /admin/models/conc/reload
body_is '"not signed" in j["error"]["message"] and j["version"] == "1"'
put "$W/signed1000.kiln"
expect_status 200 POST /admin/models/conc/reload
body_is 'j["result"] == "reloaded" and j["version"] == "2"'
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=
echo "ok"
