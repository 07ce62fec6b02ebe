#!/bin/bash
# How the kiln binary starts (src/cli/main.c): libgomp and OpenBLAS read
# their settings when they load, before main. Unless the user chose them,
# kiln starts once with idle OpenMP threads spinning KILN_GOMP_SPINCOUNT
# times and OpenBLAS on one thread (no spinning BLAS server thread), and
# its environment is the user's again by main. With an empty environment
# it runs itself again with the settings (one extra start). A choice the
# user made stands, and results do not depend on the way it started.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
spin=$(sed -n 's/^#define KILN_GOMP_SPINCOUNT "\([0-9]*\)"$/\1/p' \
    "$(dirname "$0")/../../src/cli/main.c")
[ -n "$spin" ] || fail "no KILN_GOMP_SPINCOUNT in src/cli/main.c"
unset GOMP_SPINCOUNT OMP_WAIT_POLICY OPENBLAS_NUM_THREADS

# libgomp prints its settings once per start with OMP_DISPLAY_ENV=verbose
starts() { grep -c 'OPENMP DISPLAY ENVIRONMENT BEGIN' "$1" || true; }
setting() { sed -n "s/^  $2 = '\(.*\)'\$/\1/p" "$1" | tail -n 1; }

# as a shell runs it: one start, the short spin
OMP_DISPLAY_ENV=verbose "$KILN" --version > "$W/o1" 2>&1
[ "$(starts "$W/o1")" = 1 ] || fail "kiln started $(starts "$W/o1") times, not once: $(cat "$W/o1")"
[ "$(setting "$W/o1" GOMP_SPINCOUNT)" = "$spin" ] || fail "spin count $(setting "$W/o1" GOMP_SPINCOUNT), not $spin"
grep -q '^kiln ' "$W/o1" || fail "no version line: $(cat "$W/o1")"

# an empty environment (no entry to lend): kiln runs itself again, once
env -i OMP_DISPLAY_ENV=verbose "$KILN" --version > "$W/o2" 2>&1
[ "$(starts "$W/o2")" = 2 ] || fail "with env -i kiln started $(starts "$W/o2") times, not twice"
[ "$(setting "$W/o2" GOMP_SPINCOUNT)" = "$spin" ] || fail "env -i: spin count $(setting "$W/o2" GOMP_SPINCOUNT)"
# ...except for a command with no parallel region
env -i OMP_DISPLAY_ENV=verbose "$KILN" version > "$W/o3" 2>&1
[ "$(starts "$W/o3")" = 1 ] || fail "kiln version started $(starts "$W/o3") times"

# the user's choices stand, and kiln starts once
GOMP_SPINCOUNT=7 OMP_DISPLAY_ENV=verbose "$KILN" --version > "$W/o4" 2>&1
[ "$(starts "$W/o4")" = 1 ] && [ "$(setting "$W/o4" GOMP_SPINCOUNT)" = 7 ] ||
    fail "GOMP_SPINCOUNT=7 not kept: $(cat "$W/o4")"
OMP_WAIT_POLICY=passive OMP_DISPLAY_ENV=verbose "$KILN" --version > "$W/o5" 2>&1
[ "$(starts "$W/o5")" = 1 ] && [ "$(setting "$W/o5" OMP_WAIT_POLICY)" = PASSIVE ] ||
    fail "OMP_WAIT_POLICY=passive not kept: $(cat "$W/o5")"

# the same artifact bytes however kiln started, on 1 and 2 threads
cp "$DATA/wine.csv" "$W/"
cat > "$W/spec.yaml" <<'Y'
sources:
  rows: {file: wine.csv}
target: class
steps:
  - standard_scaler: {}
model:
  logistic_regression: {C: 1.0}
seed: 3
Y
"$KILN" -q --threads 2 run "$W/spec.yaml" --no-store --out "$W/a.kiln" > /dev/null
"$KILN" -q --threads 1 run "$W/spec.yaml" --no-store --out "$W/b.kiln" > /dev/null
# (OpenBLAS picks its kernels by OPENBLAS_CORETYPE, which changes last bits: kept)
blasenv=()
for v in $(compgen -e | grep '^OPENBLAS_' || true); do blasenv+=("$v=${!v}"); done
env -i "${blasenv[@]}" "$KILN" -q --threads 2 run "$W/spec.yaml" --no-store --out "$W/c.kiln" > /dev/null
OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1 "$KILN" -q run "$W/spec.yaml" --no-store \
    --out "$W/d.kiln" > /dev/null
for f in b c d; do
    cmp -s "$W/a.kiln" "$W/$f.kiln" || fail "artifact $f.kiln differs from a.kiln"
done
echo "ok"
