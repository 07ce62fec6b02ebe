#!/bin/bash
# libpq, libcurl, libmicrohttpd and GnuTLS are loaded on first use
# (src/core/lazylib-impl.h): the kiln binary does not link them, runs
# without them, and the command that needs one, when it is missing, fails
# naming the library and the Debian package to install. A library is made
# missing in a mount namespace of the test's own (`unshare -m`, root: as CI
# runs), with /dev/null mounted over its file.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"

needed=$(readelf -d "$KILN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf lists no NEEDED library of $KILN"
for lib in libpq libcurl libmicrohttpd libgnutls; do
    if grep -q "^$lib[.-]" <<< "$needed"; then fail "kiln links $lib: $(tr '\n' ' ' <<< "$needed")"; fi
done
"$KILN" --version > /dev/null || fail "kiln --version"

if ! unshare -m true 2> /dev/null; then
    [ "${CI:-}" = true ] && fail "unshare -m is refused in CI (the test runs as root there)"
    echo "skip: unshare -m needs root; the linking check above ran"
    exit 77
fi
# without LIB (its sonames' files covered): run the rest of the arguments
without() {
    local lib=$1 files=() f
    shift
    while read -r f; do files+=("$(readlink -f "$f")"); done < <(ldconfig -p |
        sed -n "s/^[[:space:]]*\($lib[^ ]*\.so\.[0-9]*\) .*=> \(.*\)$/\2/p")
    [ ${#files[@]} -gt 0 ] || fail "ldconfig -p lists no $lib"
    unshare -m bash -c 'lib=$1; shift; n=$1; shift
        for f in "${@:1:$n}"; do mount --bind /dev/null "$f" || exit 90; done
        shift "$n"; exec "$@"' _ "$lib" ${#files[@]} "${files[@]}" "$@"
}
# expect_missing LIB PACKAGE-PATTERN COMMAND...: fails with exit 1, naming both
expect_missing() {
    local lib=$1 pkg=$2 rc=0
    shift 2
    without "$lib" "$@" > "$W/out" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "without $lib: exit $rc, wanted 1: $(cat "$W/out")"
    grep -q "$lib.* is needed here but cannot be loaded" "$W/out" &&
        grep -q "install Debian's package $pkg" "$W/out" ||
        fail "without $lib, the message does not name it and its package: $(cat "$W/out")"
}

cat > "$W/pg.yaml" << 'Y'
sources:
  rows: {postgres: "SELECT 1 AS x, 2 AS y"}
target: y
model:
  logistic_regression: {}
Y
KILN_PG_URI=postgresql://nobody@127.0.0.1:1/none expect_missing libpq 'libpq[0-9]' \
    "$KILN" -q run "$W/pg.yaml" --no-store --out "$W/a.kiln"
sed 's/{postgres: "SELECT 1 AS x, 2 AS y"}/{url: "http:\/\/127.0.0.1:1\/rows.csv"}/' "$W/pg.yaml" > "$W/http.yaml"
expect_missing libcurl 'libcurl' "$KILN" -q run "$W/http.yaml" --no-store --out "$W/a.kiln"
# (the server is made, and the library loaded, before any model is read)
expect_missing libmicrohttpd 'libmicrohttpd' "$KILN" serve --model c="$W/none.kiln" --port 0
# and with every one of them present, the same commands get past loading
KILN_PG_URI=postgresql://nobody@127.0.0.1:1/none "$KILN" -q run "$W/pg.yaml" --no-store \
    --out "$W/a.kiln" > "$W/out" 2>&1 && fail "a postgres source on port 1 worked"
grep -q "cannot connect" "$W/out" || fail "postgres source with libpq: $(cat "$W/out")"
"$KILN" serve --model c="$W/none.kiln" --port 0 > "$W/out" 2>&1 && fail "serving no model worked"
grep -q "none.kiln" "$W/out" && ! grep -q "cannot be loaded" "$W/out" ||
    fail "kiln serve with libmicrohttpd: $(cat "$W/out")"
echo "kiln links none of libpq, libcurl, libmicrohttpd, GnuTLS; a missing one is named"
