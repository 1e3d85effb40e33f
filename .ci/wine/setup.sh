#!/usr/bin/env bash
# Prepares wine to run the Windows build of quiesce and its tests (see
# README.md here). Idempotent and safe to run concurrently: it builds the
# bcryptprimitives.dll replacement with mingw, creates the wine prefix,
# installs the DLL into its system32, writes the go -overlay that lets
# os.RemoveAll work under wine, and keeps wineserver warm.
#
#   WINEPREFIX   the prefix (default /tmp/quiesce-wine/prefix)
#
# Prints nothing on success but the path of the overlay file, for
# `go test -overlay "$(.ci/wine/setup.sh)"`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export WINEPREFIX="${WINEPREFIX:-/tmp/quiesce-wine/prefix}" WINEARCH=win64 WINEDEBUG=-all
work=$(dirname "$WINEPREFIX")
mkdir -p "$work"

for tool in wine wineserver x86_64-w64-mingw32-gcc go; do
  command -v "$tool" >/dev/null || { echo "setup.sh: $tool not found (apt-get install wine wine64 gcc-mingw-w64-x86-64)" >&2; exit 1; }
done

# The lock is fd 9; every wine command below closes it (9>&-), or the
# wineserver it starts, which outlives this script by 10 minutes, would
# hold the lock and hang the next run.
exec 9>"$work/setup.lock"
flock 9

# 1. Go >= 1.22 needs ProcessPrng from bcryptprimitives.dll, which wine 8 lacks.
dll="$work/bcryptprimitives.dll"
if [ ! -s "$dll" ] || [ "$here/bcryptprimitives.c" -nt "$dll" ] || [ "$here/bcryptprimitives.def" -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -nostdlib -Wl,-e,DllMain -o "$dll.tmp" \
    "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
  mv "$dll.tmp" "$dll"
fi

# 2. The prefix (about 15 s the first time). A half-made one is redone.
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$WINEPREFIX/.quiesce-ready" ]; then
  rm -rf "$WINEPREFIX"
  wine wineboot --init >/dev/null 2>&1 9>&-
  wineserver -w >/dev/null 2>&1 9>&-
  [ -d "$sys32" ] || { echo "setup.sh: wineboot did not create $sys32" >&2; exit 1; }
  touch "$WINEPREFIX/.quiesce-ready"
fi
cmp -s "$dll" "$sys32/bcryptprimitives.dll" || cp "$dll" "$sys32/bcryptprimitives.dll"

# 3. os.RemoveAll (and so every t.TempDir cleanup) fails under wine: it
# lacks FileDispositionInformationEx and answers STATUS_NOT_IMPLEMENTED,
# which Go does not treat as "use the fallback". The overlay adds it to
# the fallback case of a copy of the runtime's file, for test builds only.
goroot=$(go env GOROOT)
orig="$goroot/src/internal/syscall/windows/at_windows.go"
patched="$work/at_windows.go"
overlay="$work/overlay.json"
if ! grep -qs FileDispositionInformationEx "$orig"; then
  # A Go older than the call (1.23, Debian 12's backports) deletes
  # without it: nothing to patch.
  printf '{"Replace": {}}\n' > "$overlay"
elif [ ! -s "$overlay" ] || [ "$orig" -nt "$patched" ] || ! grep -q "$orig" "$overlay"; then
  sed 's/^\(\s*\)STATUS_NOT_SUPPORTED:\(.*\)$/\1STATUS_NOT_SUPPORTED, NTStatus(0xC0000002):\2/' "$orig" > "$patched.tmp"
  if [ "$(grep -c 'NTStatus(0xC0000002)' "$patched.tmp")" != 1 ]; then
    echo "setup.sh: cannot patch $orig (Go changed it?): look at the fallback case of Deleteat" >&2
    exit 1
  fi
  mv "$patched.tmp" "$patched"
  printf '{"Replace": {"%s": "%s"}}\n' "$orig" "$patched" > "$overlay.tmp"
  mv "$overlay.tmp" "$overlay"
fi

# 4. A warm wineserver makes each run 0.1-0.5 s instead of 1-3.5 s. It
# exits by itself 10 minutes after its last client.
wineserver -p600 >/dev/null 2>&1 9>&- || true

echo "$overlay"
