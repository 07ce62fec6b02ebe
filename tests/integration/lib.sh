# Shared by the integration tests (sourced): Debian's python3 as $py, a
# scratch folder $W removed on exit, fail(), require_sklearn, which skips
# the test (exit 77) when python3-sklearn is absent, except in CI, where that
# is a failure, and shuffled_quality_data for the model-quality tests.
# The reference tools run on one OpenMP thread, spinning passively: ctest runs
# two tests at once on two cores, and scikit-learn's HistGradientBoosting on
# two spinning threads beside another busy process runs up to 30x slower
# (measured: 0.3 s a fit alone, 9-14 s oversubscribed). Scores do not change.
# Under ctest, a $py script that imports numpy, pandas, scipy or
# scikit-learn is answered by a warm python that imported them once
# (tests/tools/pyref_server.py, started by the ctest fixture pyref; each
# script still runs in a process of its own); other scripts, and every
# script of a test run by hand, by a plain python3 (tests/tools/py decides).
py="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)/py"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# KILN_TEST_PROFILE=FILE: every $KILN and $py call appends its wall and CPU
# seconds to FILE (tests/tools/profile_call.sh; where a slow test's time goes)
if [ -n "${KILN_TEST_PROFILE:-}" ]; then
    py="$(dirname "$py")/profile_call.sh py $py"
    if [ -n "${KILN:-}" ]; then
        printf '#!/bin/bash\nexec %q kiln %q "$@"\n' "${py%% py *}" "$KILN" > "$W/kiln-profiled"
        chmod +x "$W/kiln-profiled"
        KILN=$W/kiln-profiled
    fi
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
# Unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, kiln starts twice: it runs
# itself again with GOMP_SPINCOUNT=KILN_GOMP_SPINCOUNT (src/cli/main.c). The
# tests set that same value, so each call starts once (the second start was
# a third of a short call's CPU time, 0.12 s of 0.32 s under ASan, over
# ~2,000 calls a run); test_cli.sh unsets it: the second start stays tested.
if [ -z "${OMP_WAIT_POLICY:-}${GOMP_SPINCOUNT:-}" ]; then
    GOMP_SPINCOUNT=$(sed -n 's/^#define KILN_GOMP_SPINCOUNT "\([0-9]*\)"$/\1/p' \
        "$(dirname "${BASH_SOURCE[0]}")/../../src/cli/main.c")
    [ -n "$GOMP_SPINCOUNT" ] || fail "lib.sh: no KILN_GOMP_SPINCOUNT in src/cli/main.c"
    export GOMP_SPINCOUNT
fi
# Reference comparisons in the sanitizer build (KILN_SANITIZED=1): a quality
# test runs Kiln's side only there (memory errors are what that build looks
# for; the release build's run judges the numbers), so the reference fits,
# most of such a test's time, are not repeated. ref_py is $py, except there:
# it reads and drops its script (`ref_py - ARGS <<'PY'`) and succeeds.
sanitized() { [ "${KILN_SANITIZED:-0}" = 1 ]; }
ref_py() {
    if sanitized; then
        if [ "${1:-}" = - ]; then cat > /dev/null; fi
        return 0
    fi
    $py "$@"
}
# ref_cached INPUT... <<'PY' ... PY: a reference script (scikit-learn,
# XGBoost or imbalanced-learn fits) whose standard output depends only on
# its text, its arguments (a file named there: the file's bytes) and the
# Python libraries. It runs as `$py - INPUT...` once; its output is kept in
# KILN_REF_CACHE (default ~/.cache/kiln-ref: like ccache and the fuzz corpus,
# on the machine, not in the clone) under the SHA-256 of all of those, and
# given back from there while none of them changes: the same figures, without
# refitting the reference in every run (the bulk of the release build's
# quality tests). The libraries are named by the versions and paths Python
# reports, Debian's package database and the CPU model. A folder as an
# argument is refused (its files would be out of the key); the script reads
# no other file and writes none. KILN_REF_CACHE=off keeps nothing past the
# test (a script run twice with the same inputs in one test still runs once).
ref_cached() {
    local script key arg out tmp dir=${KILN_REF_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kiln-ref}
    script=$(cat)
    if [ "$dir" = off ]; then dir=$W/ref-cache; fi
    if [ ! -s "$W/ref-cache.libs" ]; then
        $py - > "$W/ref-cache.libs" <<'LIBS' || fail "ref_cached: cannot read the Python libraries' versions"
import importlib, sys
print(sys.version)
for name in ("numpy", "scipy", "pandas", "sklearn", "joblib", "threadpoolctl", "xgboost", "imblearn"):
    try:
        m = importlib.import_module(name)
    except ImportError:
        print(name, "absent")
        continue
    print(name, getattr(m, "__version__", "?"), m.__file__)
LIBS
        { sha256sum /var/lib/dpkg/status 2> /dev/null || true; grep -m1 '^model name' /proc/cpuinfo || true; } >> "$W/ref-cache.libs"
    fi
    key=$({
        printf 'script %s\n' "$(printf '%s' "$script" | sha256sum)"
        printf 'libs %s\n' "$(sha256sum < "$W/ref-cache.libs")"
        for arg in "$@"; do
            if [ -d "$arg" ]; then
                fail "ref_cached: argument '$arg' is a folder: pass the files the script reads"
            elif [ -f "$arg" ]; then
                printf 'file %s\n' "$(sha256sum < "$arg")"
            else
                printf 'arg %s\n' "$arg"
            fi
        done
    } | sha256sum | cut -c1-64) || exit 1
    out=$dir/$key.out
    if [ -f "$out" ]; then
        echo "ref_cached: reference output kept in $out (KILN_REF_CACHE=off: recomputed)" >&2
        cat "$out"
        return 0
    fi
    mkdir -p "$dir" || fail "ref_cached: cannot create $dir (set KILN_REF_CACHE to a folder, or to off)"
    tmp=$W/ref-cache.$BASHPID # per process: calls from two subshells at once do not mix
    $py - "$@" <<< "$script" > "$tmp.out" || return
    cp "$tmp.out" "$out.$BASHPID.new" && mv "$out.$BASHPID.new" "$out" || rm -f "$out.$BASHPID.new"
    cat "$tmp.out"
}
require_sklearn() {
    if ! $py -c 'import sklearn' 2>/dev/null; then
        if [ "${CI:-}" = true ]; then echo "FAIL: python3-sklearn is missing in CI" >&2; exit 1; fi
        echo "SKIP: python3-sklearn not installed (scripts/bootstrap installs it)"; exit 77
    fi
}

# The model-quality tests' data in $W, each file shuffled once (seed 0) so
# that contiguous folds are the same in Kiln and the reference:
# lending_club.csv (its numeric columns), lending_club_cat.csv (all),
# vehicle.csv, concrete.csv.
shuffled_quality_data() {
    $py - "$1" "$W" <<'PY'
import sys, numpy as np, pandas as pd
src, w = sys.argv[1:]
def shuffled(name):
    d = pd.read_csv(f"{src}/{name}.csv")
    return d.iloc[np.random.RandomState(0).permutation(len(d))].reset_index(drop=True)
lc = shuffled("lending_club")
lc.to_csv(f"{w}/lending_club_cat.csv", index=False)  # with its 5 text columns
lc[[c for c in lc.columns if lc[c].dtype != object] + ["Class"]].to_csv(f"{w}/lending_club.csv", index=False)
shuffled("vehicle").to_csv(f"{w}/vehicle.csv", index=False)
shuffled("concrete").to_csv(f"{w}/concrete.csv", index=False)
PY
}

# expect MESSAGE CODE COMMAND...: the command exits with CODE and its
# standard error holds MESSAGE (a grep pattern).
expect() {
    local msg=$1 want=$2; shift 2
    local rc=0
    "$@" > /dev/null 2> "$W/err" || rc=$?
    [ "$rc" = "$want" ] && grep -q -- "$msg" "$W/err" || fail "$*: rc $rc, $(cat "$W/err")"
}

# without_reference_rows IN OUT: artifact IN as written before artifacts kept
# a sample of their training rows: the same file without section 9
# (KN_ART_REFERENCE_ROWS; sections: u32 id, u32 flags, u64 stored, u64 raw,
# bytes; then BLAKE2b-256 of all before it, a signed flag and the end marker).
without_reference_rows() {
    $py - "$1" "$2" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", b, 12)[0]
at, keep = 16, []
for _ in range(n):
    sid, flags, stored, raw = struct.unpack_from("<IIQQ", b, at)
    if sid != 9:
        keep.append(b[at:at + 24 + stored])
    at += 24 + stored
assert len(keep) == n - 1 and b[-8:] == b"KILNEND1" and b[at + 32] == 0
body = b[:8] + struct.pack("<II", struct.unpack_from("<I", b, 8)[0], n - 1) + b"".join(keep)
open(sys.argv[2], "wb").write(body + hashlib.blake2b(body, digest_size=32).digest() + b"\0KILNEND1")
PY
}

# chrome_figures PAGE.html: the page loads in headless Chromium without a
# console message, and every <svg> figure renders as a box that is not
# empty (a test-only script in a copy of the page writes the sizes). The
# copy's DOM, as Chromium built it, is left in $W/sized.dom for more checks.
# Without chromium it says so and checks nothing, except in CI (a failure).
chrome_figures() {
    local page=$1 chrome sizes n_svg s
    chrome=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$chrome" ]; then
        if [ "${CI:-}" = true ]; then fail "chromium is missing in CI (scripts/bootstrap installs it)"; fi
        echo "chromium not installed: $page not checked in a browser"
        return 0
    fi
    sed 's|</body>|<script>var o=[];document.querySelectorAll("svg").forEach(function(s){var r=s.getBoundingClientRect();o.push(r.width+"x"+r.height)});var p=document.createElement("pre");p.id="kiln-sizes";p.textContent=o.join(" ");document.body.appendChild(p);</script></body>|' \
        "$page" > "$W/sized.html"
    timeout 120 "$chrome" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --enable-logging=stderr --v=0 --user-data-dir="$W/profile" \
        --dump-dom "file://$W/sized.html" > "$W/sized.dom" 2> "$W/chrome.err" ||
        fail "chromium could not load $page: $(tail -5 "$W/chrome.err")"
    if grep -q "CONSOLE" "$W/chrome.err"; then fail "console messages on $page: $(grep CONSOLE "$W/chrome.err")"; fi
    sizes=$(sed -n 's|.*<pre id="kiln-sizes">\([^<]*\)</pre>.*|\1|p' "$W/sized.dom")
    n_svg=$(grep -o "<svg " "$page" | wc -l)
    [ "$(echo "$sizes" | wc -w)" = "$n_svg" ] || fail "$page: $n_svg figures, sizes '$sizes'"
    for s in $sizes; do
        case $s in 0x* | *x0) fail "$page: a figure rendered as $s" ;; esac
    done
    echo "chromium: $n_svg figures of $page rendered ($sizes)"
}
