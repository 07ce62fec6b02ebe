#!/bin/bash
# kiln serve, observed: the real server with the credit demo's model, fed
# real rows over HTTP (v1 batches, v1 single rows on a keep-alive
# connection, a v2 batch, a rejected request); then
#  - /metrics' kiln_feature_* match the rows predicted: counts and missing
#    exact, means within 1e-9 (relative), standard deviations within 1e-9,
#    each quantile's rank among the sent values within 1 % of the asked one
#    (the KLL sketch at k=200; its unit test bounds the error), category
#    counts exact (credit's text columns have at most 20 values); with a
#    second model (a GBDT on lending_club, 51 states, 35 sub-grades) the 20
#    most frequent values exact and the rest in kiln_feature_category_other;
#  - the prediction log (sample 1) has one JSON line per predicted row,
#    matching the response (output) and the request (inputs) by request id
#    and row;
#  - --sample 0.5 over 2,000 rows keeps 1,000 +- 100 (about 4.5 standard
#    deviations of a fair coin);
#  - --no-live-stats leaves the kiln_feature_* families out;
#  - a log that cannot be written (/dev/full) stops no answer and is
#    reported when the server stops.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D=${KILN_TEST_DATA:?}

"$KILN" demo --out "$W/demo" --store "$W/store" --rows 2000 --quiet > /dev/null 2>&1 ||
    fail "kiln demo failed"
"$KILN" train --data "$D/lending_club.csv" --target Class --model gbdt --out "$W/lc.kiln" \
    --quiet > /dev/null || fail "kiln train failed"
expect "sample" 2 "$KILN" serve --store "$W/store" --model credit@production --port 0 \
    --prediction-log "$W/x.jsonl" --sample 1.5

stop_server() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID" || fail "kiln serve exited $? on SIGTERM: $(cat "$W/serve.err")"
    SERVE_PID=
}

# the client: sends the demo's rows (row 1168, age 150, breaks the schema
# and is left out) and keeps what was sent and answered in $W/sent.json
client() { # URL FIRST N PLAN
    $py - "$W" "$@" <<'PY'
import csv, http.client, json, sys, urllib.parse
w, url, first, n, plan = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = urllib.parse.urlparse(url)
con = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
def call(method, path, body=None):
    con.request(method, path, body=json.dumps(body) if body is not None else None,
                headers={"Content-Type": "application/json"})
    r = con.getresponse()
    return r.status, r.getheader("X-Request-Id"), r.read()
status, _, meta = call("GET", "/v2/models/credit")
types = {i["name"]: i["datatype"] for i in json.loads(meta)["inputs"]}
rows = list(csv.DictReader(open(f"{w}/demo/credit.csv")))
def val(k, s):
    if s == "": return None
    return float(s) if types[k] == "FP64" else s
inst = [{k: val(k, v) for k, v in r.items() if k in types} for r in rows]
inst = [r for r in inst if r["age"] is None or r["age"] <= 100]
inst = (inst * 2)[first:first + n]
sent = []  # [request id, row, instance, output]
i = 0
def v1(batch):
    status, rid, body = call("POST", "/v1/models/credit:predict", {"instances": batch})
    assert status == 200, body
    preds = json.loads(body)["predictions"]
    assert len(preds) == len(batch)
    sent.extend([int(rid), k, batch[k], preds[k]] for k in range(len(batch)))
for step in plan.split(","):
    kind, size = step[:-3], int(step[-3:])
    batch = inst[i:i + size]
    i += size
    if kind == "v1":
        v1(batch)
    elif kind == "one":
        for r in batch: v1([r])
    elif kind == "v2":
        body = {"inputs": [{"name": k, "datatype": t, "shape": [len(batch)],
                            "data": [r[k] for r in batch]} for k, t in types.items()]}
        status, rid, out = call("POST", "/v2/models/credit/infer", body)
        assert status == 200, out
        outs = {o["name"]: o["data"] for o in json.loads(out)["outputs"]}
        for k in range(len(batch)):
            want = {"label": outs["prediction"][k],
                    "probabilities": {c: outs["proba_" + c][k] for c in ("0", "1")}}
            sent.append([int(rid), k, batch[k], want])
    elif kind == "bad":  # a rejected request counts nowhere
        b = [dict(r) for r in batch]; b[0]["age"] = "forty"
        status, _, body = call("POST", "/v1/models/credit:predict", {"instances": b})
        assert status == 400, body
assert i == n, (i, n)
json.dump({"types": types, "sent": sent}, open(f"{w}/sent.json", "w"))
PY
}

# ---- live statistics and the prediction log (every row) ----
start_server --store "$W/store" --model credit@production --model lc="$W/lc.kiln" --threads 2 \
    --prediction-log "$W/pred.jsonl"
client "$URL" 0 400 "v1100,one040,v2060,bad005,v1100,one045,v1050" || fail "the client failed"
# 1,000 lending_club rows to the second model in batches of 100 (both threads)
$py - "$D" "$URL" <<'PY' || fail "the lending_club client failed"
import csv, json, sys, urllib.request
d, url = sys.argv[1:]
rows = list(csv.DictReader(open(f"{d}/lending_club.csv")))[:1000]
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items() if k != "Class"} for r in rows]
for i in range(0, 1000, 100):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 100]}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
PY
curl -s -o "$W/metrics.txt" "$URL/metrics" || fail "GET /metrics failed"
stop_server
$py - "$W" <<'PY' || fail "the live statistics do not match the rows sent"
import bisect, collections, json, math, re, sys
w = sys.argv[1]
s = json.load(open(f"{w}/sent.json"))
types, rows = s["types"], [x[2] for x in s["sent"]]
n = len(rows)
assert n == 395, n
m = collections.defaultdict(dict)
for line in open(f"{w}/metrics.txt"):
    g = re.match(r'(kiln_feature_\w+)\{model="credit",version="1",feature="([^"]*)"(?:,(\w+)="((?:[^"\\]|\\.)*)")?\} (\S+)$', line)
    if g:
        name, feat, lab, labv, v = g.groups()
        m[(name, lab and labv)][feat] = float(v)
bad = []
def check(ok, what):
    if not ok: bad.append(what)
for f, t in types.items():
    vals = [r.get(f) for r in rows]
    present = [v for v in vals if v is not None]
    check(m[("kiln_feature_count", None)].get(f) == n, f"{f}: count {m[('kiln_feature_count', None)].get(f)} != {n}")
    check(m[("kiln_feature_missing", None)].get(f) == n - len(present), f"{f}: missing")
    if t == "FP64":
        mean = math.fsum(present) / len(present)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / len(present))
        got = m[("kiln_feature_mean", None)][f]
        check(abs(got - mean) <= 1e-9 * max(1, abs(mean)), f"{f}: mean {got} != {mean}")
        got = m[("kiln_feature_stddev", None)][f]
        check(abs(got - sd) <= 1e-9 * max(1, sd), f"{f}: stddev {got} != {sd}")
        xs = sorted(present)
        for q in ("0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"):
            got = m[("kiln_feature_quantile", q)][f]
            lo, hi = bisect.bisect_left(xs, got) / len(xs), bisect.bisect_right(xs, got) / len(xs)
            err = max(lo - float(q), float(q) - hi, 0)
            check(err <= 0.01, f"{f}: quantile {q} = {got}, rank error {err:.4f} > 0.01")
    elif f == "application_date":  # a timestamp: counted, no categories
        check(f not in m[("kiln_feature_category_other", None)], f"{f}: categories of a timestamp")
    else:
        cats = {k[1]: v[f] for k, v in m.items() if k[0] == "kiln_feature_category_count" and f in v}
        other = m[("kiln_feature_category_other", None)][f]
        want = collections.Counter(present)
        check(len(want) <= 20 and cats == dict(want) and other == 0,
              f"{f}: categories {cats} != {dict(want)}")
assert not bad, "\n".join(bad)
print(f"live statistics: {len(types)} inputs over {n} rows match")
PY
$py - "$W" "$D" <<'PY' || fail "the second model's live statistics do not match"
import collections, csv, json, re, sys
w, d = sys.argv[1:]
rows = list(csv.DictReader(open(f"{d}/lending_club.csv")))[:1000]
text = open(f"{w}/metrics.txt").read()
def get(name, feat, extra=""):
    g = re.search(r'^%s\{model="lc",version="1",feature="%s"%s\} (\S+)$' % (name, feat, re.escape(extra)), text, re.M)
    return float(g.group(1)) if g else None
assert get("kiln_feature_count", "addr_state") == 1000
for f in rows[0]:
    if f != "Class":
        assert get("kiln_feature_missing", f) == sum(r[f] == "" for r in rows), f
inc = [float(r["annual_inc"]) for r in rows]
assert abs(get("kiln_feature_mean", "annual_inc") - sum(inc) / 1000) <= 1e-9 * sum(inc) / 1000
for f in ("addr_state", "sub_grade", "term"):
    want = collections.Counter(r[f] for r in rows)
    top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    got = re.findall(r'^kiln_feature_category_count\{model="lc",version="1",feature="%s",value="([^"]*)"\} (\d+)$' % f, text, re.M)
    assert [(k, int(v)) for k, v in got] == top, (f, got, top)
    other = get("kiln_feature_category_other", f)
    assert other == 1000 - sum(c for _, c in top), (f, other)
print("second model: counts, missing, mean and the top 20 categories match")
PY
$py - "$W" <<'PY' || fail "the prediction log does not match the responses"
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/sent.json"))
lines = [json.loads(l) for l in open(f"{w}/pred.jsonl")]
assert sum(l["model"] == "lc" for l in lines) == 1000
lines = [l for l in lines if l["model"] == "credit"]
assert len(lines) == len(s["sent"]), (len(lines), len(s["sent"]))
byid = {(l["request_id"], l["row"]): l for l in lines}
assert len(byid) == len(lines), "a (request id, row) logged twice"
for rid, k, inst, out in s["sent"]:
    l = byid[(rid, k)]
    assert l["model"] == "credit" and l["version"] == "1" and l["time"].endswith("Z"), l
    assert l["output"] == out, (l["output"], out)
    for col, v in inst.items():
        assert l["inputs"][col] == v, (rid, k, col, l["inputs"][col], v)
print(f"prediction log: {len(lines)} lines match the responses")
PY
grep -q '"request_id"' "$W/serve.err" && fail "the server printed log lines to stderr"

# ---- a sample of half the rows ----
start_server --store "$W/store" --model credit@production --threads 2 \
    --prediction-log "$W/half.jsonl" --sample 0.5 --no-live-stats
client "$URL" 0 2000 "v1500,v1500,v1500,v1500" || fail "the client failed"
curl -s -o "$W/metrics.txt" "$URL/metrics"
stop_server
grep -q '^kiln_serve_rows_predicted_total{model="credit",version="1"} 2000$' "$W/metrics.txt" ||
    fail "rows predicted: $(grep rows_predicted "$W/metrics.txt")"
grep -q 'kiln_feature' "$W/metrics.txt" && fail "--no-live-stats still shows kiln_feature_*"
$py - "$W" <<'PY' || fail "--sample 0.5 did not keep about half the rows"
import json, sys
w = sys.argv[1]
lines = [json.loads(l) for l in open(f"{w}/half.jsonl")]
assert 900 <= len(lines) <= 1100, len(lines)
assert len({(l["request_id"], l["row"]) for l in lines}) == len(lines)
print(f"--sample 0.5: {len(lines)} of 2000 rows logged")
PY
# ---- a log that cannot be written: answers go on, the loss is reported ----
start_server --model lc="$W/lc.kiln" --prediction-log /dev/full
head -n 4 "$D/lending_club.csv" > "$W/lc3.csv"
$py - "$W/lc3.csv" > "$W/lc3.json" <<'PY'
import csv, json, sys
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
rows = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items() if k != "Class"} for r in csv.DictReader(open(sys.argv[1]))]
print(json.dumps({"instances": rows}))
PY
for _ in 1 2 3; do expect_status 200 POST /v1/models/lc:predict "$W/lc3.json"; done
sleep 0.2
expect_status 200 GET /v2/health/live
stop_server
grep -q "prediction log /dev/full: lines were lost" "$W/serve.err" ||
    fail "a failed write to the prediction log was not reported: $(cat "$W/serve.err")"
echo "ok"
