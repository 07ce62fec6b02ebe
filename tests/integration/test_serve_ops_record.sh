#!/bin/bash
# kiln serve --ops-interval --record-windows: the server's own operational
# intervals in the store's monitor_checks, written by the same code as
# kiln monitor ops --record (kiln/opsanom.h's record), so kiln monitor
# report draws them. A ridge regression of concrete served from a file,
# intervals of 0.2 s, a real keep-alive HTTP client at ~100 requests/s:
#   A  3.2 s of good requests (16 intervals; the baseline learns from 12);
#   B  0.8 s with every second request bad (400): the error share jumps;
#   C  0.8 s of good requests, then a pause of 3 intervals before SIGTERM.
# Checked: per interval one row under the model's name (c) and one under
# (server), data "kiln serve --ops-interval", every request of the client
# counted once; each row's series (values, baselines, z-scores, states) and
# its events; an error_share jump of c within 3 intervals of B and none
# before (the server's row carries the model's event too); the keys of a
# record are those kiln monitor ops --record writes for the same access
# log; kiln monitor report of c and of (server) draws the three series with
# their baselines and marks the events (headless Chromium renders them).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
"$KILN" -q train --data "$D/concrete.csv" --target compressive_strength --model ridge \
    --out "$W/c.kiln" > /dev/null
start_server --model c="$W/c.kiln" --threads 2 --ops-interval 0.2 --record-windows \
    --store "$W/store" --access-log "$W/access.jsonl"
$py - "$PORT" "$W/phases.json" <<'PY' || fail "the client failed"
import http.client, json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
good = json.dumps({"instances": [{"cement": 540, "blast_furnace_slag": 0, "fly_ash": 0, "water": 162,
    "superplasticizer": 2.5, "coarse_aggregate": 1040, "fine_aggregate": 676, "age": 28}]})
bad = json.dumps({"instances": [{"cement": "not a number"}]})
c = http.client.HTTPConnection("127.0.0.1", port)
phases, sent = {}, [0, 0]
def run(name, secs, bad_every=0, rate=100):
    t0 = time.time()
    phases[name] = t0
    k = 0
    while time.time() - t0 < secs:
        due = t0 + k / rate
        if due > time.time():
            time.sleep(due - time.time())
        is_bad = bad_every and k % bad_every == 1
        c.request("POST", "/v1/models/c:predict", bad if is_bad else good, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == (400 if is_bad else 200), r.status
        sent[0] += 1
        sent[1] += bool(is_bad)
        k += 1
run("A", 3.2)
run("B", 0.8, bad_every=2)
run("C", 0.8)
phases["end"] = time.time()
phases["sent"], phases["bad"] = sent
c.close()
time.sleep(0.6)  # three more intervals: the last requests are scored
json.dump(phases, open(out, "w"))
PY
stop_server
$py - "$W" <<'PY' || fail "the recorded intervals are wrong (server log: $(tail -5 "$W/serve.err"))"
import json, sqlite3, sys
w = sys.argv[1]
ph = json.load(open(f"{w}/phases.json"))
db = sqlite3.connect(f"file:{w}/store/kiln.db?mode=ro", uri=True)
rows = {m: [(d, n, drift, json.loads(r)) for d, n, drift, r in db.execute(
    "SELECT data, rows, drift, result FROM monitor_checks WHERE model = ? ORDER BY id", (m,))]
    for m in ("c", "(server)")}
assert db.execute("SELECT count(*) FROM monitor_checks WHERE model NOT IN ('c', '(server)')").fetchone()[0] == 0
c, srv = rows["c"], rows["(server)"]
print(f"{len(c)} intervals of c, {len(srv)} of the server; {ph['sent']} requests sent, {ph['bad']} bad")
assert len(c) == len(srv) >= 20, (len(c), len(srv))
names = ("requests", "error_share", "latency_p95_seconds")
for (d, n, drift, r), (d2, n2, drift2, r2) in zip(c, srv):
    assert d == d2 == "kiln serve --ops-interval", d
    assert r["interval"] == r2["interval"] and r["interval_start"] == r2["interval_start"], (r, r2)
    assert n == n2 == r["requests"] == r2["requests"] == r2["series"]["requests"], (n, r, r2)
    s = r["series"]
    assert s["scope"] == "c" and r2["series"]["scope"] == "", (s, r2["series"])
    assert set(s) == set(names) | {"scope", "expected", "z", "event"}, sorted(s)
    for k in ("expected", "z", "event"):
        assert set(s[k]) == set(names), s[k]
    assert all(s["event"][k] in ("none", "jump", "drop", "flatline") for k in names), s["event"]
    assert drift == (len(r["events"]) > 0) and drift2 == (len(r2["events"]) > 0), (drift, r)
    assert all(e["model"] == "c" for e in r["events"]), r["events"]
    # the server's row holds the model's events too
    assert all(e in r2["events"] for e in r["events"]), (r["events"], r2["events"])
    assert all(e["kind"] == s["event"][e["series"]] for e in r["events"]), (r["events"], s["event"])
starts = [r["interval_start_s"] for _, _, _, r in c]
assert [r["interval"] for _, _, _, r in c] == list(range(c[0][3]["interval"], c[0][3]["interval"] + len(c)))
assert all(0.1 < b - a < 0.4 for a, b in zip(starts, starts[1:])), starts
# every request counted once; the bad ones as errors
assert sum(r["series"]["requests"] for _, _, _, r in c) == ph["sent"], ph["sent"]
errors = sum(round(r["series"]["requests"] * r["series"]["error_share"]) for _, _, _, r in c
             if r["series"]["error_share"] is not None)
assert errors == ph["bad"], (errors, ph["bad"])
# the jump of the error share: within 3 intervals of B's start, none before
jumps = [r["interval_start_s"] + 0.2 for _, _, _, r in c if r["series"]["event"]["error_share"] == "jump"]
assert jumps and min(jumps) >= ph["B"] and min(jumps) <= ph["B"] + 3 * 0.2 + 0.2, (jumps, ph["B"])
assert any(e["series"] == "error_share" and e["kind"] == "jump" for _, _, _, r in srv for e in r["events"])
# the baselines: learned once the warm-up is over (12 intervals)
late = [r for _, _, _, r in c if r["interval_start_s"] < ph["B"] - 0.4][12:]
assert late and all(r["series"]["expected"]["requests"] > 0 and r["series"]["z"]["requests"] is not None for r in late), late[:2]
print("error_share jumps at", [round(j - ph["B"], 2) for j in jumps], "s after B")
PY
# one format: kiln monitor ops --record of the same access log writes records
# with the same keys
rc=0; "$KILN" -q monitor ops --log "$W/access.jsonl" --interval 0.2 --model c --record \
    --store "$W/replay" > /dev/null || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "monitor ops --record: exit $rc"
$py - "$W" <<'PY' || fail "kiln monitor ops --record and the server write different records"
import json, sqlite3, sys
w = sys.argv[1]
def keys(j, at=""):
    out = set()
    for k, v in j.items():
        out.add(at + k)
        if isinstance(v, dict):
            out |= keys(v, at + k + ".")
    return out
served = json.loads(sqlite3.connect(f"{w}/store/kiln.db").execute(
    "SELECT result FROM monitor_checks WHERE model = 'c' ORDER BY id DESC LIMIT 1").fetchone()[0])
replayed = json.loads(sqlite3.connect(f"{w}/replay/kiln.db").execute(
    "SELECT result FROM monitor_checks WHERE model = 'c' ORDER BY id DESC LIMIT 1").fetchone()[0])
assert keys(served) == keys(replayed), keys(served) ^ keys(replayed)
PY
for m in c "(server)"; do
    "$KILN" -q monitor report --model "$m" --store "$W/store" --out "$W/report.html" ||
        fail "kiln monitor report --model $m failed"
    $py - "$W/report.html" <<'PY' || fail "the report of $m does not draw the server's intervals"
import re, sys
html = open(sys.argv[1]).read()
assert 'id="ops"' in html and re.search(r"\d+ recorded intervals \(kiln monitor ops --record, kiln serve", html)
figs = re.findall(r'<svg .*?</svg>', html, re.S)
ops = [f for f in figs if 'aria-label="requests per interval"' in f or 'aria-label="share of requests answered with an error"' in f
       or 'aria-label="95th percentile latency (seconds)"' in f]
assert len(ops) == 3 and all(">baseline<" in f for f in ops), len(ops)
err = [f for f in ops if "answered with an error" in f]
assert ">event<" in err[0], "the error share's jump is not marked"
PY
done
chrome_figures "$W/report.html"
echo ok
