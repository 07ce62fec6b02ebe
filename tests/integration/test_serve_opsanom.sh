#!/bin/bash
# kiln serve --ops-interval: operational anomalies with the real server, a
# ridge regression of concrete and a real keep-alive HTTP client. Intervals
# of 0.25 s; the client sends ~150 requests/s in phases:
#   A  5 s of good requests (the baseline learns; 12 intervals of warm-up);
#   B  1.5 s with every second request bad (400): the error share jumps;
#   C  1 s of good requests;
#   D  2.5 s with no traffic: the request count drops, then flat-lines
#      (and stays flat-lined: no traffic is not learned as the baseline);
#   E  1 s of good requests (the flat-line ends).
# Checked: an error_share jump of the model and of the server within 3
# intervals of B's start and none before; a requests flatline within 5
# intervals of D's start (the first interval of D still holds C's last
# requests; a flat-line is 3 intervals of no traffic) and none before D;
# each event in /metrics (kiln_ops_events_total), in the access log as an
# "ops_anomaly" line and POSTed to the --ops-webhook receiver once; and
# kiln monitor ops on the access log afterwards finds the same events
# (intervals aligned to the clock there: within one interval). Alert rules
# on the live intervals (--alerts: ops_jump on errors, ops_flatline on
# requests) each open an incident, delivered once to a second receiver.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
"$KILN" -q train --data "$D/concrete.csv" --target compressive_strength --model ridge \
    --out "$W/c.kiln" > /dev/null
# the webhook receiver: one JSON line per POST
RPORT=$(free_port)
cat > "$W/receiver.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
$py "$W/receiver.py" "$RPORT" "$W/hook.jsonl" &
RECEIVER=$!
APORT=$(free_port)
$py "$W/receiver.py" "$APORT" "$W/alerts.jsonl" &
ARECEIVER=$!
cat > "$W/rules.yaml" <<EOF
rules:
  - {name: errors_jumped, metric: ops_jump, series: errors, condition: "> 0"}
  - {name: no_traffic, metric: ops_flatline, series: requests, condition: "> 0"}
sinks:
  - webhook: http://127.0.0.1:$APORT/alerts
EOF
trap 'kill $RECEIVER $ARECEIVER 2>/dev/null; if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi; rm -rf "$W"' EXIT
expect "ops-webhook needs --ops-interval" 2 "$KILN" serve --model c="$W/c.kiln" \
    --ops-webhook "http://127.0.0.1:$RPORT/"
expect "ops-interval 0.01" 2 "$KILN" serve --model c="$W/c.kiln" --ops-interval 0.01
start_server --model c="$W/c.kiln" --threads 2 --ops-interval 0.25 --access-log "$W/access.jsonl" \
    --ops-webhook "http://127.0.0.1:$RPORT/" --alerts "$W/rules.yaml"
$py - "$PORT" "$W/phases.json" <<'PY' || fail "the client failed"
import http.client, json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
good = json.dumps({"instances": [{"cement": 540, "blast_furnace_slag": 0, "fly_ash": 0, "water": 162,
    "superplasticizer": 2.5, "coarse_aggregate": 1040, "fine_aggregate": 676, "age": 28}]})
bad = json.dumps({"instances": [{"cement": "not a number"}]})
c = http.client.HTTPConnection("127.0.0.1", port)
def send(body):
    c.request("POST", "/v1/models/c:predict", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    return r.status
phases = {}
def run(name, secs, bad_every=0, rate=150):
    t0 = time.time()
    phases[name] = t0
    k = 0
    while time.time() - t0 < secs:
        due = t0 + k / rate
        now = time.time()
        if due > now:
            time.sleep(due - now)
        st = send(bad if bad_every and k % bad_every == 1 else good)
        assert st == (400 if bad_every and k % bad_every == 1 else 200), st
        k += 1
run("A", 5)
run("B", 1.5, bad_every=2)
run("C", 1)
phases["D"] = time.time()
time.sleep(2.5)
run("E", 1)  # traffic again: the access log then spans D
# /metrics at once: the flat-line has ended (no traffic after the client's
# end flat-lines again, three intervals later)
c.request("GET", "/metrics")
open(out.replace("phases.json", "metrics.txt"), "wb").write(c.getresponse().read())
phases["end"] = time.time()
c.close()
json.dump(phases, open(out, "w"))
PY
grep "kiln_ops" "$W/metrics.txt" | grep -v "#" || true
kill "$SERVE_PID"
rc=0; wait "$SERVE_PID" 2>/dev/null || rc=$?
SERVE_PID=
[ "$rc" = 0 ] || fail "kiln serve exited $rc on SIGTERM: $(tail -20 "$W/serve.err")"
! grep -q "Sanitizer\|runtime error" "$W/serve.err" || fail "sanitizer: $(cat "$W/serve.err")"
sleep 0.3
$py - "$W" <<'PY' || fail "the operational anomalies are wrong (server log: $(tail -5 "$W/serve.err"))"
import json, sys, datetime
w = sys.argv[1]
ph = json.load(open(f"{w}/phases.json"))
iv = 0.25
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
ev = [json.loads(l) for l in open(f"{w}/access.jsonl") if '"ops_anomaly"' in l]
for e in ev:
    print(f"{t(e['time']) - ph['A']:6.2f} s  model={e['model']!r} {e['series']} {e['kind']} value={e['value']} expected={e['expected']:.4g} z={e['z']}")
print({k: round(v - ph["A"], 2) for k, v in ph.items()})
for model in ("c", ""):
    mine = [e for e in ev if e["model"] == model]
    err = [t(e["time"]) for e in mine if e["series"] == "error_share"]
    assert err and all(x >= ph["B"] for x in err), (model, "error_share events", err)
    first = min(err)
    assert first <= ph["B"] + 3 * iv + 0.2, (model, "error jump late", first - ph["B"])
    assert [e["kind"] for e in mine if e["series"] == "error_share"][0] == "jump"
    flat = [t(e["time"]) for e in mine if e["series"] == "requests" and e["kind"] == "flatline"]
    # none before D, none during E (after the client's end, no traffic is one again)
    assert flat and all(ph["D"] <= x <= ph["E"] or x >= ph["end"] for x in flat), (model, "flatline events", flat)
    assert min(flat) <= ph["D"] + 5 * iv + 0.2, (model, "flatline late", min(flat) - ph["D"])
# /metrics: the events counted, the gauges there
m = {}
for line in open(f"{w}/metrics.txt"):
    if line.startswith("kiln_ops_"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
for model in ("c", ""):
    key = lambda s, k: f'kiln_ops_events_total{{model="{model}",series="{s}",kind="{k}"}}'
    n_jump = sum(1 for e in ev if e["model"] == model and e["series"] == "error_share" and e["kind"] == "jump")
    assert m[key("error_share", "jump")] == n_jump >= 1, (m[key("error_share", "jump")], n_jump)
    assert m[key("requests", "flatline")] >= 1
    assert f'kiln_ops_zscore{{model="{model}",series="latency_p95_seconds"}}' in m
# the flat-line ended with E's traffic
assert m['kiln_ops_anomaly{model="c",series="requests"}'] == 0
assert m["kiln_ops_interval_seconds"] == 0.25
assert 2000 < m["kiln_ops_memory_bytes"] < 16384, m["kiln_ops_memory_bytes"]  # two scopes
assert m["kiln_ops_intervals_total"] >= 30, m["kiln_ops_intervals_total"]
# the webhook got each event once, the same as the access log's
hook = [json.loads(l) for l in open(f"{w}/hook.jsonl")]
assert sorted(map(json.dumps, hook)) == sorted(map(json.dumps, ev)), (len(hook), len(ev))
# the alert rules on the live intervals: an incident each, sent once
al = [json.loads(l) for l in open(f"{w}/alerts.jsonl")]
for a in al:
    print(f"alert {a['rule']} {a['incident']} value={a['value']} series={a['series']} events={len(a['events'])}")
for rule, kind in (("errors_jumped", "jump"), ("no_traffic", "flatline")):
    mine = [a for a in al if a["rule"] == rule]
    assert mine and len({a["incident"] for a in mine}) == len(mine), (rule, mine)
    assert all(a["model"] == "(server)" and a["value"] >= 1 and any(e["kind"] == kind for e in a["events"]) for a in mine), mine
PY
# the same access log after the fact: kiln monitor ops finds the same events
rc=0; "$KILN" monitor ops --log "$W/access.jsonl" --interval 0.25 --json > "$W/ops.json" || rc=$?
[ "$rc" = 1 ] || fail "monitor ops: exit $rc, wanted 1 (events)"
"$KILN" monitor ops --log "$W/access.jsonl" --interval 0.25 --json > "$W/ops2.json" || true
cmp -s "$W/ops.json" "$W/ops2.json" || fail "monitor ops: two runs differ"
"$KILN" monitor ops --log "$W/access.jsonl" --interval 0.25 --model c > "$W/ops.txt" || true
grep -q "error_share .*jump" "$W/ops.txt" && grep -q "requests .*flatline" "$W/ops.txt" ||
    fail "monitor ops table: $(cat "$W/ops.txt")"
$py - "$W" <<'PY' || fail "monitor ops found other events"
import json, sys
w = sys.argv[1]
ph, j = json.load(open(f"{w}/phases.json")), json.load(open(f"{w}/ops.json"))
iv = 0.25
assert j["models"] == ["c"] and j["n_events"] == len(j["events"]) > 0, j
for e in j["events"]:
    print(f"{e['interval_start_s'] - ph['A']:6.2f} s  {e['model']!r} {e['series']} {e['kind']} {e['value']} z={e['z']}")
for model in ("c", ""):
    ev = [e for e in j["events"] if e["model"] == model]
    err = [e["interval_start_s"] for e in ev if e["series"] == "error_share"]
    assert err and min(err) >= ph["B"] - iv and min(err) <= ph["B"] + 3 * iv, (model, err)
    flat = [e["interval_start_s"] for e in ev if e["series"] == "requests" and e["kind"] == "flatline"]
    assert flat and ph["D"] - iv <= min(flat) <= ph["D"] + 5 * iv, (model, flat)
PY
expect "no predict request of that model" 3 "$KILN" monitor ops --log "$W/access.jsonl" \
    --interval 0.25 --model nosuch
echo 'not json' >> "$W/access.jsonl"
expect "access.jsonl:[0-9]*: not a JSON object" 3 "$KILN" monitor ops --log "$W/access.jsonl"
echo "ok"
