# Shared by the integration tests (sourced): Debian's python3 as $py, a
# scratch folder $W removed on exit, fail(), and require_sklearn, which skips
# the test (exit 77) when python3-sklearn is absent, except in CI, where that
# is a failure.
py=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
require_sklearn() {
    if ! $py -c 'import sklearn' 2>/dev/null; then
        if [ "${CI:-}" = true ]; then echo "FAIL: python3-sklearn is missing in CI" >&2; exit 1; fi
        echo "SKIP: python3-sklearn not installed (scripts/bootstrap installs it)"; exit 77
    fi
}
