#!/usr/bin/env bash
# `make test-windows`: runs the Windows tests of core/, vendors/ and cmd/
# as real Windows binaries under wine, then prints how many tests ran,
# passed and were skipped. With CI=true a skipped test fails the tier.
#   GOTEST_FLAGS  extra flags for go test (e.g. -run X)
set -uo pipefail
cd "$(dirname "$0")/../.."
began=$(date +%s)
export WINEPREFIX="${WINEPREFIX:-/tmp/quiesce-wine/prefix}"
overlay=$(.ci/wine/setup.sh) || exit 1
work=$(dirname "$WINEPREFIX")

# Binaries the tests run (simtest.Binary): a test under wine cannot build them.
bin=$(mktemp -d "$work/bin.XXXXXX")
log="$work/test-windows.log"
trap 'rm -rf "$bin"' EXIT
if ! GOOS=windows go build -overlay "$overlay" -o "$bin/" ./cmd/quiesce ./cmd/simdomino; then
  echo "test-windows: the Windows build failed" >&2
  exit 1
fi
# Seen from wine, / is drive Z:.
export QUIESCE_TEST_BIN="Z:${bin//\//\\}"

# shellcheck disable=SC2086
GOOS=windows go test -count=1 -v -timeout 15m -overlay "$overlay" \
  -exec "$PWD/.ci/wine/exec.sh" ${GOTEST_FLAGS:-} ./core/... ./vendors/... ./cmd/... >"$log" 2>&1
rc=$?

count() { grep -cE "^ *--- $1: " "$log"; }
passed=$(count PASS) failed=$(count FAIL) skipped=$(count SKIP)
ran=$((passed + failed + skipped))
if [ "$rc" != 0 ]; then
  grep -vE '^ *(=== (RUN|PAUSE|CONT|NAME)|--- PASS: )' "$log" >&2
fi
grep -E '^(ok|FAIL|---|\?) ' "$log" | grep -vE '^--- ' | grep -v 'no test files' || true
if [ "$skipped" != 0 ]; then
  echo "skipped under wine:" >&2
  grep -E -A1 '^ *--- SKIP: ' "$log" >&2
fi
echo "test-windows: $ran tests ran under wine: $passed passed, $failed failed, $skipped skipped ($(($(date +%s) - began)) s; log $log)"
if [ "$rc" != 0 ]; then
  exit "$rc"
fi
if [ "${CI:-}" = true ] && [ "$skipped" != 0 ]; then
  echo "test-windows: under CI nothing in the Windows tier may skip" >&2
  exit 1
fi
if [ "$ran" = 0 ]; then
  echo "test-windows: no test ran" >&2
  exit 1
fi
