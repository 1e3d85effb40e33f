#!/usr/bin/env bash
# go test -exec wrapper: runs a Windows test binary (or any .exe) under the
# wine prefix that .ci/wine/setup.sh prepared, and exits with its code:
#   GOOS=windows go test -exec "$PWD/.ci/wine/exec.sh" ./core/...
#
# The program's output goes through a file: the processes wine starts on
# demand (services.exe, winedevice.exe, ...) outlive the program and would
# hold go test's pipe open, which go test reports as "Test I/O incomplete".
set -u
export WINEPREFIX="${WINEPREFIX:-/tmp/quiesce-wine/prefix}" WINEARCH=win64 WINEDEBUG="${WINEDEBUG:--all}"
if [ ! -f "$WINEPREFIX/.quiesce-ready" ]; then
  echo "exec.sh: no wine prefix at $WINEPREFIX: run .ci/wine/setup.sh first" >&2
  exit 127
fi
out=$(mktemp "${TMPDIR:-/tmp}/quiesce-wine-out.XXXXXX")
trap 'rm -f "$out"' EXIT
wine "$@" >"$out" 2>&1 </dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null' INT TERM
tail -s 0.1 -n +1 -f --pid="$pid" "$out" &
tailpid=$!
wait "$pid"
rc=$?
wait "$tailpid"
exit "$rc"
