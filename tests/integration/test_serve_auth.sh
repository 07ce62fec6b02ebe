#!/bin/bash
# Who may call kiln serve: API keys (kiln keys create|list|revoke) kept as
# salted hashes in the store (checked in the SQLite file), a store of
# schema 1 read as it is when read-only and upgraded when writable, the
# real server on 127.0.0.1 with the credit demo's model and curl: /admin/
# paths always keyed (401 without a key, 403 with a predict key), model
# routes open or keyed (--require-key), malformed Authorization headers,
# a revocation reaching a running server, 429 with Retry-After, HTTPS with
# a self-signed certificate made here (plain HTTP refused), bad TLS files.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
command -v openssl > /dev/null || fail "openssl is missing (scripts/bootstrap installs it)"

"$KILN" demo --out "$W/demo" --store "$W/store" --rows 2000 --quiet > /dev/null 2>&1 ||
    fail "kiln demo failed"
S=(--store "$W/store")

# ---- keys in the store ----
ADMIN=$("$KILN" keys create --role admin --name ops "${S[@]}" 2> "$W/create.err") ||
    fail "kiln keys create: $(cat "$W/create.err")"
grep -q "shown only now" "$W/create.err" || fail "no warning that the key is shown once"
PRED=$("$KILN" keys create --role predict --name web "${S[@]}" --quiet)
SLOW=$("$KILN" keys create --role predict --name slow --rate 2 "${S[@]}" --json |
    $py -c 'import json, sys; j = json.load(sys.stdin); assert j["id"] == 3 and j["rate"] == 2; print(j["key"])')
for k in "$ADMIN" "$PRED" "$SLOW"; do
    [[ $k =~ ^kiln_[0-9]+_[0-9a-f]{64}$ ]] || fail "key '$k' is not kiln_<id>_<64 hex>"
done
[ "${ADMIN%%_*}" = kiln ] && [ "$(cut -d_ -f2 <<< "$ADMIN")" = 1 ] || fail "admin key id: $ADMIN"
expect "predict,admin" 2 "$KILN" keys create --role root "${S[@]}"
expect "role" 2 "$KILN" keys create "${S[@]}"
"$KILN" keys list "${S[@]}" > "$W/list.txt"
grep -q "ops" "$W/list.txt" && grep -q "slow" "$W/list.txt" || fail "keys list: $(cat "$W/list.txt")"
"$KILN" keys list "${S[@]}" --json > "$W/list.json"
for k in "$ADMIN" "$PRED" "$SLOW"; do
    ! grep -q "${k##*_}" "$W/list.txt" "$W/list.json" || fail "keys list shows a secret"
done
$py - "$W/list.json" <<'PY' || fail "keys list --json: $(cat "$W/list.json")"
import json, sys
k = json.load(open(sys.argv[1]))["keys"]
assert [(x["id"], x["name"], x["role"], x["rate"], x["revoked"]) for x in k] == \
    [(1, "ops", "admin", None, None), (2, "web", "predict", None, None), (3, "slow", "predict", 2.0, None)], k
PY
# the file holds BLAKE2b-256(secret, salt, person "kiln api key"), never the key
$py - "$W/store/kiln.db" "$ADMIN" "$PRED" "$SLOW" <<'PY' || fail "the store does not hold only hashes"
import glob, hashlib, sqlite3, sys
db, keys = sys.argv[1], sys.argv[2:]
con = sqlite3.connect(db)
assert con.execute("PRAGMA user_version").fetchone()[0] >= 2
rows = {i: (s, h) for i, s, h in con.execute("SELECT id, salt, hash FROM api_keys")}
for key in keys:
    _, kid, secret = key.split("_")
    salt, h = rows[int(kid)]
    assert len(salt) == 16 and len(h) == 32
    assert h == hashlib.blake2b(bytes.fromhex(secret), digest_size=32, salt=salt, person=b"kiln api key").digest()
    for f in glob.glob(db + "*"):  # kiln.db and its WAL
        data = open(f, "rb").read()
        assert secret.encode() not in data and bytes.fromhex(secret) not in data, f
assert [a for a, in con.execute("SELECT action FROM audit WHERE action LIKE 'key%' ORDER BY id")] == ["key create"] * 3
PY

# ---- a store of schema 1 (before keys) ----
cp -r "$W/store" "$W/v1"
$py - "$W/v1/kiln.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DROP TABLE api_keys"); con.execute("DELETE FROM audit WHERE action LIKE 'key%'")
for t in ("monitor_checks", "monitor_rule_state", "monitor_alerts"):  # schema 3
    con.execute(f"DROP TABLE IF EXISTS {t}")
con.execute("PRAGMA user_version = 1"); con.commit()
con.execute("PRAGMA wal_checkpoint(TRUNCATE)"); con.close()
PY
user_version() { $py -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$1"; }
# read-only (another user, since root writes anywhere): read at version 1
chmod -R a-w "$W/v1"
as_reader=()
[ "$(id -u)" = 0 ] && chmod 755 "$W" && as_reader=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_reader[@]}" "$KILN" keys list --store "$W/v1" > "$W/v1_list.txt" 2> "$W/err" ||
    fail "keys list on a read-only v1 store: $(cat "$W/err")"
[ "$(wc -l < "$W/v1_list.txt")" = 1 ] || fail "read-only v1 store lists keys: $(cat "$W/v1_list.txt")"
"${as_reader[@]}" "$KILN" models list --store "$W/v1" | grep -q credit || fail "models list on a read-only v1 store"
expect "predates API keys\|read-only" 1 "${as_reader[@]}" "$KILN" keys create --role admin --store "$W/v1"
[ "$(user_version "$W/v1/kiln.db")" = 1 ] || fail "a read-only store was upgraded"
# writable: upgraded on open, runs and models kept
chmod -R u+w "$W/v1"
"$KILN" models list --store "$W/v1" | grep -q credit || fail "models list after the upgrade"
[ "$(user_version "$W/v1/kiln.db")" -ge 2 ] || fail "a writable v1 store was not upgraded"
"$KILN" keys create --role predict --store "$W/v1" --quiet | grep -q '^kiln_1_' || fail "a key in the upgraded store"

# ---- a server with open model routes ----
start_server "${S[@]}" --model credit@production --access-log "$W/access.jsonl"
# one row of the demo's data as a v1 request, typed by the model's metadata
curl -s -o "$W/meta.json" "$URL/v2/models/credit" || fail "no metadata"
$py - "$W" <<'PY'
import csv, json, sys
w = sys.argv[1]
types = {i["name"]: i["datatype"] for i in json.load(open(f"{w}/meta.json"))["inputs"]}
row = next(r for r in csv.DictReader(open(f"{w}/demo/credit.csv")) if r["age"] and float(r["age"]) <= 100)
inst = {k: None if v == "" else float(v) if types[k] == "FP64" else v for k, v in row.items() if k in types}
json.dump({"instances": [inst]}, open(f"{w}/one.json", "w"))
PY
# hreq HEADER METHOD PATH [BODY]: like req, with one request header ("" for none)
hreq() {
    local h=$1 data=()
    shift
    [ $# -ge 3 ] && data=(--data-binary "@$3" -H 'Content-Type: application/json')
    CODE=$(curl -s -D "$W/headers" -o "$W/body" -w '%{http_code}' -X "$1" ${h:+-H "$h"} \
        "${data[@]}" "$URL$2") || CODE=000
}
expect_h() {
    local want=$1
    shift
    hreq "$@"
    [ "$CODE" = "$want" ] || fail "$2 $3 with '$1': status $CODE, wanted $want: $(head -c 600 "$W/body")"
}
bearer() { echo "Authorization: Bearer $1"; }
expect_h 200 "" GET /v2/models/credit
expect_h 200 "" POST /v1/models/credit:predict "$W/one.json"
body_is 'len(j["predictions"]) == 1'
expect_h 200 "$(bearer "$PRED")" POST /v1/models/credit:predict "$W/one.json"
# any path under /admin/: 401 without a key (with the challenge), 403 with a
# predict key, past auth with an admin key (whatever the route then says)
for p in /admin/anything /admin/models/credit/reload /admin/models/credit/rollback /admin; do
    for m in GET POST; do
        expect_h 401 "" $m "$p"
        grep -qi '^WWW-Authenticate: Bearer' "$W/headers" || fail "$m $p: no WWW-Authenticate"
        body_is 'j["error"]["code"] == "unauthorized"'
        expect_h 403 "$(bearer "$PRED")" $m "$p"
        body_is 'j["error"]["code"] == "forbidden"'
        hreq "$(bearer "$ADMIN")" $m "$p"
        [ "$CODE" != 401 ] && [ "$CODE" != 403 ] && [ "$CODE" != 000 ] ||
            fail "$m $p with the admin key: $CODE"
    done
done
# a body sent without a key is refused, not read into a handler
head -c 300000 /dev/zero > "$W/zeros"
expect_h 401 "" POST /admin/models/credit/reload "$W/zeros"
# malformed or wrong Authorization headers: 401, never a crash
long=$(head -c 6000 /dev/zero | tr '\0' a)
secret=${ADMIN##*_}
for h in "Authorization: Bearer" "Authorization: Bearer " "Authorization: Basic YWRtaW46YWRtaW4=" \
    "Authorization: bearer" "Authorization: Bearer kiln_" "Authorization: Bearer kiln__$secret" \
    "Authorization: Bearer kiln_1_" "Authorization: Bearer kiln_1_${secret:0:63}" \
    "Authorization: Bearer kiln_1_${secret}0" "Authorization: Bearer kiln_1_${secret:0:63}g" \
    "Authorization: Bearer kiln_99999999999999999999_$secret" "Authorization: Bearer kiln_-1_$secret" \
    "Authorization: Bearer kiln_0_$secret" "Authorization: Bearer kiln_42_$secret" \
    "Authorization: Bearer kiln_2_$secret" "Authorization: Bearer $ADMIN extra" \
    "Authorization: Bearer $long" "Authorization: $ADMIN" "Authorization: Bearer%20$ADMIN"; do
    expect_h 401 "$h" GET /admin/x
    expect_h 401 "$h" GET /v2/models/credit # a key that is sent is checked
done
hreq "Authorization: Bearer $long$long$long$long$long$long$long" GET /admin/x
[ "$CODE" = 431 ] || [ "$CODE" = 401 ] || fail "a 42 KB Authorization header: $CODE"
# bytes curl would not send: NUL, invalid UTF-8, control bytes, empty
$py - "$PORT" <<'PY' || fail "raw Authorization headers"
import socket, sys
port = int(sys.argv[1])
for h in [b"Bearer kiln_1_\x00" + b"0" * 63, b"Bearer \xff\xfe", b"Bearer\tkiln_1_" + b"0" * 64,
          b"\x01\x02", b"", b"Bearer kiln_1_" + b"0" * 64 + b"\x7f"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /admin/x HTTP/1.1\r\nHost: x\r\nAuthorization: " + h + b"\r\nConnection: close\r\n\r\n")
    status = s.recv(4096).split(b" ")[1]
    assert status in (b"400", b"401"), (h, status)
    s.close()
PY
expect_h 404 "Authorization:   Bearer   $ADMIN  " GET /admin/x # spaces around are fine
expect_h 404 "authorization: BEARER $ADMIN" GET /admin/x       # names and scheme in any case
expect_h 200 "" GET /v2/health/live
expect_h 200 "" POST /v1/models/credit:predict "$W/one.json"
# the access log names the key, never its secret
grep -q '"key":1' "$W/access.jsonl" || fail "access log has no key id"
! grep -q "$secret" "$W/access.jsonl" || fail "access log holds a secret"

# per-key rate (key 3: 2 requests/s, a burst of 2): 429 with Retry-After.
# burst KEY N PATH: N requests at once on one connection; their statuses,
# a 429 as 429:<Retry-After> (its body checked)
burst() {
    $py - "$PORT" "$@" <<'PY'
import http.client, sys
port, key, n, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
out = []
for _ in range(n):
    c.request("GET", path, headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    body = r.read()
    if r.status == 429:
        assert b'"rate_limited"' in body, body
        out.append(f"429:{r.getheader('Retry-After')}")
    else:
        out.append(str(r.status))
print(" ".join(out))
PY
}
codes=$(burst "$SLOW" 6 /v2/models/credit)
[[ $codes == "200 200 429:1"* ]] || fail "rate 2/s: statuses $codes"
sleep 1.2
expect_h 200 "$(bearer "$SLOW")" GET /v2/models/credit
expect_h 200 "$(bearer "$PRED")" GET /v2/models/credit # other keys are not slowed

# a revocation reaches the running server
expect_h 404 "$(bearer "$ADMIN")" GET /admin/x
"$KILN" keys revoke 1 "${S[@]}" --quiet
ok=0
for _ in $(seq 50); do
    hreq "$(bearer "$ADMIN")" GET /admin/x
    [ "$CODE" = 401 ] && { ok=1; break; }
    sleep 0.1
done
[ $ok = 1 ] || fail "a revoked admin key still passes after 5 s ($CODE)"
grep -q revoked "$W/body" || fail "revoked key: $(cat "$W/body")"
expect "already revoked" 1 "$KILN" keys revoke 1 "${S[@]}"
expect "no key 77" 1 "$KILN" keys revoke 77 "${S[@]}"
"$KILN" keys list "${S[@]}" --json | $py -c 'import json, sys; k = json.load(sys.stdin)["keys"]; assert k[0]["revoked"] and not k[1]["revoked"]' ||
    fail "keys list does not show the revocation"
"$KILN" models audit "${S[@]}" --json | $py -c 'import json, sys; a = [e["action"] for e in json.load(sys.stdin)["audit"]]; assert a.count("key revoke") == 1 and a.count("key create") == 3, a' ||
    fail "the audit trail lacks the key changes"
# a key made while the server runs is taken up
NEW=$("$KILN" keys create --role admin "${S[@]}" --quiet)
ok=0
for _ in $(seq 50); do
    hreq "$(bearer "$NEW")" GET /admin/x
    [ "$CODE" = 404 ] && { ok=1; break; }
    sleep 0.1
done
[ $ok = 1 ] || fail "a new admin key is not accepted after 5 s ($CODE)"
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=

# ---- --require-key, --rate-limit ----
start_server "${S[@]}" --model credit@production --require-key --rate-limit 3
expect_h 200 "" GET /v2/health/live
expect_h 200 "" GET /v2/health/ready
for p in /v2/models/credit /v2/models/credit/ready /metrics /v2/models/nope /nowhere; do
    expect_h 401 "" GET $p
done
expect_h 401 "" POST /v1/models/credit:predict "$W/one.json"
expect_h 200 "$(bearer "$PRED")" POST /v1/models/credit:predict "$W/one.json"
expect_h 200 "$(bearer "$NEW")" GET /metrics
grep -q 'route="v2_model_metadata".*status="401"} [1-9]' "$W/body" ||
    fail "/metrics does not count the 401s: $(grep 401 "$W/body")"
# key 2 has no rate of its own: --rate-limit 3 (a burst of 3)
codes=$(burst "$PRED" 6 /v2/models/credit)
[[ $codes == "200 200"*"429:1" ]] || fail "--rate-limit 3: statuses $codes"
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=
expect "no store at $W/none" 1 "$KILN" serve --model c="$W/demo/credit.kiln" --require-key \
    --store "$W/none" --port 0

# ---- TLS ----
mkcert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$3" -addext "subjectAltName=IP:127.0.0.1" -keyout "$W/$2" -out "$W/$1" \
        2> "$W/openssl.err" || fail "openssl: $(cat "$W/openssl.err")"
}
mkcert cert.pem key.pem 127.0.0.1
mkcert other_cert.pem other_key.pem other
expect "missing.pem" 1 "$KILN" serve "${S[@]}" --model credit --port 0 --tls-cert "$W/missing.pem" \
    --tls-key "$W/key.pem"
expect "key.pem.*not a PEM CERTIFICATE" 1 "$KILN" serve "${S[@]}" --model credit --port 0 \
    --tls-cert "$W/key.pem" --tls-key "$W/key.pem"
expect "cert.pem.*not a PEM PRIVATE KEY" 1 "$KILN" serve "${S[@]}" --model credit --port 0 \
    --tls-cert "$W/cert.pem" --tls-key "$W/cert.pem"
expect "other_key.pem.*do not match" 1 "$KILN" serve "${S[@]}" --model credit --port 0 \
    --tls-cert "$W/cert.pem" --tls-key "$W/other_key.pem"
expect "both --tls-cert" 1 "$KILN" serve "${S[@]}" --model credit --port 0 --tls-cert "$W/cert.pem"

PORT=$(free_port)
URL=https://127.0.0.1:$PORT
"$KILN" serve "${S[@]}" --model credit@production --port "$PORT" --require-key \
    --tls-cert "$W/cert.pem" --tls-key "$W/key.pem" 2> "$W/serve.err" &
SERVE_PID=$!
for _ in $(seq 100); do
    curl -s --cacert "$W/cert.pem" -o /dev/null "$URL/v2/health/live" && break
    kill -0 "$SERVE_PID" 2> /dev/null || fail "kiln serve with TLS did not start: $(cat "$W/serve.err")"
    sleep 0.1
done
grep -q "https://127.0.0.1:$PORT" "$W/serve.err" || fail "start line: $(cat "$W/serve.err")"
curl() { command curl --cacert "$W/cert.pem" "$@"; }
expect_h 200 "" GET /v2/health/live
expect_h 401 "" POST /v1/models/credit:predict "$W/one.json"
expect_h 200 "$(bearer "$PRED")" POST /v1/models/credit:predict "$W/one.json"
body_is 'len(j["predictions"]) == 1'
expect_h 403 "$(bearer "$PRED")" POST /admin/models/credit/reload
unset -f curl
# plain HTTP on the TLS port gets no HTTP answer; an unknown CA is refused
rc=0
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/health/live") || rc=$?
[ $rc != 0 ] && [ "$code" = 000 ] || fail "plain HTTP on the TLS port answered $code (rc $rc)"
rc=0
curl -s -o /dev/null "$URL/v2/health/live" || rc=$?
[ $rc != 0 ] || fail "HTTPS with an unknown certificate authority was accepted"
rc=0
curl -s -o /dev/null --cacert "$W/other_cert.pem" "$URL/v2/health/live" || rc=$?
[ $rc != 0 ] || fail "HTTPS checked against another certificate was accepted"
# still serving after that
curl -s --cacert "$W/cert.pem" -o /dev/null "$URL/v2/health/live" || fail "the TLS server stopped"
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve with TLS did not exit 0"
SERVE_PID=
echo "ok"
