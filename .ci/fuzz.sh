#!/usr/bin/env bash
# make fuzz: every Fuzz target of quiesce (the fuzz_test.go files of core/,
# vendors/ and cmd/), one at a time, for FUZZTIME each. Their seeds and the
# corpora in testdata/fuzz/ already run with every "go test"; this looks
# for new inputs. A failing input is written to the package's
# testdata/fuzz/FuzzNAME/: keep it, with the fix.
# Environment (the Makefile sets them): GO; FUZZTIME (-fuzztime: 5m, 1h,
# or a count like 100000x); FUZZPARALLEL (-parallel: workers; 1 leaves the
# other cores alone); FUZZMINIMIZE (-fuzzminimizetime: minimizing each
# new input may otherwise hold the only worker for a minute); FUZZ (a
# regexp: only the targets it matches).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${GO:=go}" "${FUZZTIME:=5m}" "${FUZZPARALLEL:=1}" "${FUZZMINIMIZE:=5s}" "${FUZZ:=^Fuzz}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ran=0
for pkg in $(ls core/*/fuzz_test.go vendors/*/fuzz_test.go cmd/*/fuzz_test.go 2>/dev/null | xargs -n1 dirname | sort -u); do
  for t in $("$GO" test -list "$FUZZ" "./$pkg" | grep '^Fuzz'); do
    echo "make fuzz: ./$pkg $t for $FUZZTIME, -parallel $FUZZPARALLEL"
    nice -n 10 "$GO" test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" \
      -parallel "$FUZZPARALLEL" "./$pkg" 2>&1 | tee "$log"
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
      # Go before 1.27 may fail a target at the end of -fuzztime with a
      # bare "context deadline exceeded" (go.dev/issue/75804): no input
      # failed then, and none was written.
      if grep -q 'Failing input written to' "$log" || ! grep -qx '    context deadline exceeded' "$log"; then
        echo "make fuzz: $t failed (a failing input is kept in $pkg/testdata/fuzz/$t/)" >&2
        exit 1
      fi
      echo "make fuzz: $t: Go's fuzzing ended with \"context deadline exceeded\" (go.dev/issue/75804, fixed in Go 1.27); no input failed"
    fi
    ran=$((ran + 1))
  done
done
if [ "$ran" -eq 0 ]; then
  echo "make fuzz: no target matches $FUZZ" >&2
  exit 1
fi
echo "make fuzz: $ran targets, $FUZZTIME each: no failing input"
