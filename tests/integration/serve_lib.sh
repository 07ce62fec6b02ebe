# Shared by the kiln serve tests (sourced after lib.sh): a free port, a
# server started in the background and stopped on exit, and curl helpers.
# free_port: a port the kernel hands out for a bind to port 0.
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
SERVE_PID=
RECEIVER=
trap 'stop_receiver; if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi; rm -rf "$W"' EXIT
# start_server ARGS...: kiln serve on a free port ($PORT, $URL), waiting
# until /v2/health/live answers (10 s at most).
start_server() {
    PORT=$(free_port)
    URL=http://127.0.0.1:$PORT
    "$KILN" serve --port "$PORT" "$@" 2> "$W/serve.err" &
    SERVE_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "$URL/v2/health/live" && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || fail "kiln serve did not start: $(cat "$W/serve.err")"
        sleep 0.1
    done
    fail "kiln serve did not answer within 10 s: $(cat "$W/serve.err")"
}
# req METHOD PATH [BODY-FILE]: the status in $CODE, the body in $W/body;
# with $SERVE_KEY set, the request carries it as its API key.
req() {
    local data=()
    [ $# -ge 3 ] && data=(--data-binary "@$3" -H 'Content-Type: application/json')
    [ -n "${SERVE_KEY:-}" ] && data+=(-H "Authorization: Bearer $SERVE_KEY")
    CODE=$(curl -s -o "$W/body" -w '%{http_code}' -X "$1" "${data[@]}" "$URL$2") || CODE=000
}
# expect_status CODE METHOD PATH [BODY-FILE]
expect_status() {
    local want=$1; shift
    req "$@"
    [ "$CODE" = "$want" ] || fail "$1 $2: status $CODE, wanted $want: $(head -c 600 "$W/body")"
}
# body_is PYTHON-EXPR: the JSON body as j satisfies the expression.
body_is() {
    $py - "$W/body" "$1" <<'PY' || fail "body does not satisfy $1: $(head -c 600 "$W/body")"
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# metrics_after_windows FILE N: /metrics into FILE once the server's drift
# windows tested so far (summed over versions) reach N; the windows are
# tested on a thread of their own after the request that ends them (10 s
# at most).
metrics_after_windows() {
    for _ in $(seq 200); do
        curl -s "$URL/metrics" > "$1"
        [ "$(awk '/^kiln_drift_windows_total\{/ {n += $2} END {print n + 0}' "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "the server tested fewer than $2 drift windows within 10 s: $(grep '^kiln_drift_windows_total' "$1")"
}
# start_receiver PORT OUT [DELAY]: a webhook receiver on 127.0.0.1:PORT
# ($RECEIVER) appending each POST's body as one line to OUT (200); it
# starts listening only after DELAY seconds (down for a while; default 0).
start_receiver() {
    cat > "$W/receiver.py" <<'PY'
import http.server, sys, time
out = sys.argv[2]
time.sleep(float(sys.argv[3]))  # down for a while
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    $py "$W/receiver.py" "$1" "$2" "${3:-0}" &
    RECEIVER=$!
    [ "${3:-0}" != 0 ] && return 0
    for _ in $(seq 100); do
        $py -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "the webhook receiver did not start"
}
stop_receiver() { [ -z "$RECEIVER" ] || { kill "$RECEIVER"; wait "$RECEIVER" 2>/dev/null || true; RECEIVER=; }; }
# stop_server: SIGTERM, which works the monitoring queue off; it must exit 0
# with no sanitizer report.
stop_server() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID" || fail "kiln serve did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
    SERVE_PID=
    ! grep -q "Sanitizer\|runtime error" "$W/serve.err" || fail "sanitizer: $(cat "$W/serve.err")"
}
