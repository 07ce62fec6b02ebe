#!/bin/bash
# kiln serve: the real server on 127.0.0.1 with real artifacts (the credit
# demo's GBDT from the store, a ridge regression from kiln train as a
# file), talked to with curl: every route, every error status, predictions
# equal to kiln predict's on the same rows, /metrics, the access log, and
# SIGTERM during a request (answered, then exit 0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D=${KILN_TEST_DATA:?}

"$KILN" demo --out "$W/demo" --store "$W/store" --rows 2000 --quiet > /dev/null 2>&1 ||
    fail "kiln demo failed"
"$KILN" train --data "$D/concrete.csv" --target compressive_strength --model ridge \
    --out "$W/conc.kiln" --quiet > /dev/null
"$KILN" predict --model credit@production --store "$W/store" --data "$W/demo/credit.csv" --proba \
    --out "$W/credit_pred.csv" --quiet 2> /dev/null
"$KILN" predict --model "$W/conc.kiln" --data "$D/concrete.csv" --out "$W/conc_pred.csv" --quiet

# a model that cannot load stops the start with the reason
head -c 300 "$W/conc.kiln" > "$W/cut.kiln"
expect "cut.kiln" 1 "$KILN" serve --model bad="$W/cut.kiln" --port 0
expect "no such file\|cannot\|not found" 1 "$KILN" serve --model bad="$W/missing.kiln" --port 0
expect "nope" 1 "$KILN" serve --store "$W/store" --model nope@production --port 0

start_server --store "$W/store" --model credit@production --model conc="$W/conc.kiln" \
    --max-body 262144 --access-log "$W/access.jsonl" --threads 2
n_req=1 # the start probe
# a second server cannot take the port
expect "in use" 1 timeout 10 "$KILN" serve --model conc="$W/conc.kiln" --port "$PORT"
n() { n_req=$((n_req + 1)); }

# health, metadata, readiness
expect_status 200 GET /v2/health/live; n; body_is 'j == {"live": True}'
expect_status 200 GET /v2/health/ready; n; body_is 'j == {"ready": True}'
expect_status 200 GET /v2/models/credit; n
body_is 'j["name"] == "credit" and j["versions"] == ["1"] and len(j["inputs"]) == 16 and {"name": "age", "datatype": "FP64", "shape": [-1]} in j["inputs"] and {"name": "region", "datatype": "BYTES", "shape": [-1]} in j["inputs"] and [o["name"] for o in j["outputs"]] == ["prediction", "proba_0", "proba_1"] and j["outputs"][0]["datatype"] == "BYTES"'
cp "$W/body" "$W/credit_meta.json"
expect_status 200 GET /v2/models/credit/versions/1; n
expect_status 200 GET /v2/models/conc; n
body_is 'j["outputs"] == [{"name": "prediction", "datatype": "FP64", "shape": [-1]}] and len(j["inputs"]) == 8'
expect_status 200 GET /v2/models/credit/ready; n; body_is 'j == {"name": "credit", "ready": True}'
expect_status 200 GET /v2/models/credit/versions/1/ready; n

# request bodies from the demo's rows (all 2000 for predictions to compare;
# row 1168 breaks the schema: age 150)
$py - "$W" <<'PY'
import csv, json, sys
w = sys.argv[1]
meta = json.load(open(f"{w}/credit_meta.json"))
types = {i["name"]: i["datatype"] for i in meta["inputs"]}
rows = list(csv.DictReader(open(f"{w}/demo/credit.csv")))
def val(name, s):
    if s == "": return None
    return float(s) if types[name] == "FP64" else s
inst = [{k: val(k, v) for k, v in r.items() if k in types} for r in rows]
ok = [i for i, r in enumerate(inst) if r["age"] is None or r["age"] <= 100]
assert len(ok) == len(inst) - 1
batch = [inst[i] for i in ok[:300]]
json.dump({"rows": ok[:300]}, open(f"{w}/rows.json", "w"))
json.dump({"instances": batch}, open(f"{w}/v1.json", "w"))
json.dump({"instances": batch[:1]}, open(f"{w}/v1_one.json", "w"))
json.dump({"inputs": {k: [r[k] for r in batch] for k in types}}, open(f"{w}/v1_cols.json", "w"))
json.dump({"id": "req-7", "inputs": [{"name": k, "datatype": t, "shape": [len(batch)], "data": [r[k] for r in batch]} for k, t in types.items()]}, open(f"{w}/v2.json", "w"))
bad = [i for i, r in enumerate(inst) if r["age"] is not None and r["age"] > 100][0]
json.dump({"instances": [inst[0], inst[bad]]}, open(f"{w}/v1_range.json", "w"))
e = dict(inst[0]); e["age"] = "forty"
json.dump({"instances": [inst[1], e]}, open(f"{w}/v1_type.json", "w"))
e = dict(inst[0]); del e["credit_score"]
json.dump({"instances": [inst[1], inst[2], e]}, open(f"{w}/v1_required.json", "w"))
e = dict(inst[0]); e["region"] = "atlantis"
json.dump({"instances": [e]}, open(f"{w}/v1_category.json", "w"))
e = dict(inst[0]); e["colour"] = "red"
json.dump({"instances": [e]}, open(f"{w}/v1_unknown.json", "w"))
e = dict(inst[0]); e["employment_type"] = None
json.dump({"instances": [e]}, open(f"{w}/v1_null.json", "w"))
v2 = json.load(open(f"{w}/v2.json")); v2["inputs"][2]["datatype"] = "BYTES"
json.dump(v2, open(f"{w}/v2_dtype.json", "w"))
v2 = json.load(open(f"{w}/v2.json")); v2["inputs"] = [t for t in v2["inputs"] if t["name"] != "term"]
json.dump(v2, open(f"{w}/v2_required.json", "w"))
open(f"{w}/truncated.json", "w").write('{"instances": [{"age": 41, "region": "north"')
open(f"{w}/big.json", "w").write(json.dumps({"instances": [inst[0]] * 1000}))
PY
$py - "$D/concrete.csv" "$W/conc.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
json.dump({"instances": [{k: float(v) for k, v in r.items() if k != "compressive_strength"} for r in rows]}, open(sys.argv[2], "w"))
PY

# predictions: v1 rows, v1 columns and v2 tensors give kiln predict's labels and probabilities
check_credit() { # FILE FORM
    $py - "$W" "$1" "$2" <<'PY' || fail "$2: predictions differ from kiln predict's"
import csv, json, sys
w, path, form = sys.argv[1:]
rows = json.load(open(f"{w}/rows.json"))["rows"]
ref = {int(r["row"]): r for r in csv.DictReader(open(f"{w}/credit_pred.csv"))}
j = json.load(open(path))
if form == "v2":
    out = {o["name"]: o for o in j["outputs"]}
    assert j["model_name"] == "credit" and j["model_version"] == "1" and j["id"] == "req-7", j.keys()
    assert out["prediction"]["datatype"] == "BYTES" and out["prediction"]["shape"] == [len(rows)]
    got = [(out["prediction"]["data"][i], out["proba_0"]["data"][i], out["proba_1"]["data"][i]) for i in range(len(rows))]
else:
    p = j["predictions"]
    got = [(x["label"], x["probabilities"]["0"], x["probabilities"]["1"]) for x in p]
assert len(got) == len(rows), (len(got), len(rows))
bad = 0
for (label, p0, p1), r in zip(got, rows):
    want = ref[r + 1]  # data rows are 1-based
    if label != want["prediction"] or p0 != float(want["proba_0"]) or p1 != float(want["proba_1"]):
        bad += 1
        if bad < 4: print("row", r + 1, (label, p0, p1), dict(want), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
expect_status 200 POST /v1/models/credit:predict "$W/v1.json"; n; check_credit "$W/body" v1
expect_status 200 POST /v1/models/credit:predict "$W/v1_cols.json"; n; check_credit "$W/body" v1
expect_status 200 POST /v2/models/credit/infer "$W/v2.json"; n; check_credit "$W/body" v2
expect_status 200 POST /v2/models/credit/versions/1/infer "$W/v2.json"; n
cp "$W/body" "$W/v2_all.json"
# "outputs" names the tensors to return (all of them, or one row); an unknown name is refused
$py - "$W" <<'PY'
import json, sys
w = sys.argv[1]
body = json.load(open(f"{w}/v2.json"))
json.dump(dict(body, outputs=[{"name": "proba_1"}]), open(f"{w}/v2_outputs.json", "w"))
one = dict(body, inputs=[dict(t, shape=[1], data=t["data"][:1]) for t in body["inputs"]])
json.dump(dict(one, outputs=[{"name": "prediction"}, {"name": "proba_1"}]), open(f"{w}/v2_outputs1.json", "w"))
json.dump(dict(body, outputs=[{"name": "proba_1"}, {"name": "nope"}]), open(f"{w}/v2_nope.json", "w"))
json.dump(dict(body, outputs={"name": "proba_1"}), open(f"{w}/v2_outobj.json", "w"))
PY
expect_status 200 POST /v2/models/credit/infer "$W/v2_outputs.json"; n
body_is '[o["name"] for o in j["outputs"]] == ["proba_1"] and j["outputs"][0]["data"] == [o for o in json.load(open("'"$W"'/v2_all.json"))["outputs"] if o["name"] == "proba_1"][0]["data"]'
expect_status 200 POST /v2/models/credit/infer "$W/v2_outputs1.json"; n
body_is '[o["name"] for o in j["outputs"]] == ["prediction", "proba_1"] and j["outputs"][1]["shape"] == [1]'
expect_status 400 POST /v2/models/credit/infer "$W/v2_nope.json"; n
body_is 'j["error"]["field"] == "outputs" and "nope" in j["error"]["message"] and "proba_1" in j["error"]["message"]'
expect_status 400 POST /v2/models/credit/infer "$W/v2_outobj.json"; n
body_is 'j["error"]["field"] == "outputs" and "array" in j["error"]["message"]'
expect_status 200 POST /v1/models/credit:predict "$W/v1_one.json"; n
body_is 'len(j["predictions"]) == 1 and set(j["predictions"][0]) == {"label", "probabilities"}'
expect_status 200 POST /v1/models/conc:predict "$W/conc.json"; n
$py - "$W/body" "$W/conc_pred.csv" <<'PY' || fail "conc: predictions differ from kiln predict's"
import csv, json, sys
got = json.load(open(sys.argv[1]))["predictions"]
want = [float(r["prediction"]) for r in csv.DictReader(open(sys.argv[2]))]
assert len(got) == len(want) == 1030 and got == want, (len(got), len(want))
PY
# home_ownership may be missing (max_missing 0.1), employment_type may not
e=$W/v1_null.json
expect_status 400 POST /v1/models/credit:predict "$e"; n
body_is 'j["error"]["field"] == "employment_type" and j["error"]["row"] == 0 and "missing" in j["error"]["message"]'

# errors: 400 (naming the field and the row), 404, 405, 413
expect_status 400 POST /v1/models/credit:predict "$W/v1_range.json"; n
body_is 'j["error"]["code"] == "invalid_input" and j["error"]["field"] == "age" and j["error"]["row"] == 1 and "max" in j["error"]["message"]'
expect_status 400 POST /v1/models/credit:predict "$W/v1_type.json"; n
body_is 'j["error"]["field"] == "age" and j["error"]["row"] == 1 and "string" in j["error"]["message"]'
expect_status 400 POST /v1/models/credit:predict "$W/v1_required.json"; n
body_is 'j["error"]["field"] == "credit_score" and j["error"]["row"] == 2'
expect_status 400 POST /v1/models/credit:predict "$W/v1_category.json"; n
body_is 'j["error"]["field"] == "region" and j["error"]["row"] == 0 and "categor" in j["error"]["message"]'
expect_status 400 POST /v1/models/credit:predict "$W/v1_unknown.json"; n
body_is 'j["error"]["field"] == "colour" and "unknown input" in j["error"]["message"]'
expect_status 400 POST /v2/models/credit/infer "$W/v2_dtype.json"; n
body_is 'j["error"]["field"] == "age" and "BYTES" in j["error"]["message"]'
expect_status 400 POST /v2/models/credit/infer "$W/v2_required.json"; n
body_is 'j["error"]["field"] == "term"'
expect_status 400 POST /v1/models/credit:predict "$W/truncated.json"; n
body_is 'j["error"]["code"] == "bad_json" and j["error"]["offset"] == 44 and "44" in j["error"]["message"]'
printf '{"instances": [{"age": 4x1}]}' > "$W/garbage.json"
expect_status 400 POST /v1/models/credit:predict "$W/garbage.json"; n
body_is 'j["error"]["code"] == "bad_json" and j["error"]["offset"] == 25'
# an error that quotes bytes which are not UTF-8 is still JSON
printf '{"instances": [{"region": "\\\xde\x93"}]}' > "$W/latin.json"
expect_status 400 POST /v1/models/credit:predict "$W/latin.json"; n
body_is 'j["error"]["code"] == "bad_json" and "\ufffd" in j["error"]["message"]'
printf '[1, 2]' > "$W/array.json"
expect_status 400 POST /v2/models/credit/infer "$W/array.json"; n
expect_status 404 POST /v1/models/nope:predict "$W/v1_one.json"; n
body_is '"nope" in j["error"]["message"] and "credit" in j["error"]["message"] and j["error"]["code"] == "not_found"'
expect_status 404 GET /v2/models/nope; n
expect_status 404 GET /v2/models/nope/ready; n
expect_status 404 POST /v2/models/credit/versions/7/infer "$W/v2.json"; n
body_is '"7" in j["error"]["message"]'
expect_status 404 GET /v2/models/credit/versions/2; n
expect_status 404 GET /nowhere; n
expect_status 405 GET /v2/models/credit/infer; n
expect_status 405 GET /v1/models/credit:predict; n
expect_status 405 POST /v2/health/live "$W/v1_one.json"; n
expect_status 413 POST /v1/models/credit:predict "$W/big.json"; n
body_is 'j["error"]["code"] == "too_large" and "262144" in j["error"]["message"]'
# a body over the limit without a length (chunked) is refused too
CODE=$(curl -s -o "$W/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$W/big.json" "$URL/v1/models/credit:predict"); n
[ "$CODE" = 413 ] || fail "chunked body over the limit: $CODE"
expect_status 200 GET /v2/health/ready; n
# keep-alive: GETs, and a POST answered with an error, reuse their connection
conns=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects} ' "$URL/v2/health/live" \
    "$URL/v2/models/credit" "$URL/metrics")
[ "$conns" = "1 0 0 " ] || fail "GETs opened connections $conns, wanted 1 0 0 (keep-alive)"
conns=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' -d '{}' "$URL/v1/models/nope:predict" \
    "$URL/v1/models/credit:predict")
[ "$conns" = "1 0 " ] || fail "POSTs opened connections $conns, wanted 1 0 (keep-alive after a 404)"
n_req=$((n_req + 5))

# /metrics: counts by route, model and status; rows; errors; latency; in flight
sleep 0.2
expect_status 200 GET /metrics
$py - "$W/body" "$n_req" <<'PY' || fail "metrics: $(head -c 3000 "$W/body")"
import re, sys
text, n_req = open(sys.argv[1]).read(), int(sys.argv[2])
m = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
def get(k): return m.get(k, 0)
assert get('kiln_serve_requests_total{route="v1_predict",model="credit",version="1",status="200"}') == 3, "v1 200"
assert get('kiln_serve_requests_total{route="v2_infer",model="credit",version="1",status="200"}') == 4, "v2 200"
assert get('kiln_serve_requests_total{route="v1_predict",model="credit",version="1",status="400"}') == 10, "v1 400"
assert get('kiln_serve_requests_total{route="v1_predict",model="conc",version="1",status="200"}') == 1, "conc"
assert get('kiln_serve_errors_total{route="v1_predict",model="credit",version="1",status="413"}') == 2, "413"
assert get('kiln_serve_errors_total{route="v1_predict",model="",version="",status="404"}') == 2, "404"
assert get('kiln_serve_requests_total{route="v2_health_live",model="",version="",status="405"}') == 1, "405"
assert get('kiln_serve_rows_predicted_total{model="credit",version="1"}') == 300 * 5 + 2, "rows credit"
assert get('kiln_serve_rows_predicted_total{model="conc",version="1"}') == 1030, "rows conc"
assert get('kiln_serve_request_duration_seconds_count') == n_req, ("count", n_req)
assert get('kiln_serve_request_duration_seconds_bucket{le="+Inf"}') == n_req
assert get('kiln_serve_in_flight_requests') == 1
assert get('kiln_serve_model_load_seconds{model="credit",version="1"}') > 0
assert sum(v for k, v in m.items() if k.startswith("kiln_serve_requests_total")) == n_req
PY
n

# the access log: one JSON line per request
$py - "$W/access.jsonl" "$n_req" <<'PY' || fail "access log: $(tail -n 3 "$W/access.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == int(sys.argv[2]), (len(lines), sys.argv[2])
for l in lines:
    assert set(l) >= {"time", "request_id", "method", "path", "status", "latency_us", "rows"}, l
    assert l["time"].endswith("Z") and l["latency_us"] >= 0
assert len({l["request_id"] for l in lines}) == len(lines)
p = [l for l in lines if l["path"] == "/v2/models/credit/infer" and l["status"] == 200]
assert [x["rows"] for x in p] == [300, 300, 1], p
assert all(x["model"] == "credit" and x["version"] == "1" for x in p), p
assert sum(1 for l in lines if l["status"] == 413) == 2
assert [l for l in lines if l["path"] == "/nowhere"][0]["status"] == 404
PY

# SIGTERM while a request is in flight: the request is answered, then exit 0
$py - "$PORT" "$W/v1_one.json" "$W/sent" "$W/answer" <<'PY' &
import socket, sys, time, os
port, body_file, sent, answer = sys.argv[1:]
body = open(body_file, "rb").read()
s = socket.create_connection(("127.0.0.1", int(port)))
s.sendall(b"POST /v1/models/credit:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
time.sleep(0.3)
open(sent, "w").close()
time.sleep(0.7)
s.sendall(body[10:])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
    if b"\r\n\r\n" in data and b"predictions" in data: break
open(answer, "wb").write(data)
PY
client=$!
for _ in $(seq 50); do [ -e "$W/sent" ] && break; sleep 0.1; done
[ -e "$W/sent" ] || fail "the slow client did not start"
kill -TERM "$SERVE_PID"
rc=0
wait "$client" || fail "the slow client failed"
wait "$SERVE_PID" || rc=$?
SERVE_PID=
[ "$rc" = 0 ] || fail "kiln serve exited $rc after SIGTERM: $(cat "$W/serve.err")"
head -n 1 "$W/answer" | grep -q "200" || fail "the request in flight at SIGTERM: $(head -c 400 "$W/answer")"
grep -q '"predictions"' "$W/answer" || fail "no predictions in the answer: $(head -c 400 "$W/answer")"
grep -qi '^Connection: close' "$W/answer" || fail "an answer while draining keeps the connection: $(head -c 400 "$W/answer")"
curl -s -o /dev/null "$URL/v2/health/live" && fail "the server still answers after SIGTERM"
echo "serve: ok ($n_req requests)"
