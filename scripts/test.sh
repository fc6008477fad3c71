#!/usr/bin/env bash
# The test suite: every package's unit tests (through turbo), then the e2e tests in test/.
# Serial on purpose: tests create network namespaces, tc filters, BPF objects and the lab.
# Ends with one summary line over every runner: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "wirescope tests: must run as root (eBPF and network namespaces): sudo npm test" >&2; exit 1; }
LOG=$(mktemp /tmp/wirescope-test.XXXXXX)
trap 'rm -f "$LOG"' EXIT

# --continue: a failing package must not hide the results of the packages after it
npx turbo run test --concurrency=1 --continue --output-logs=full 2>&1 | tee "$LOG"
UNIT=${PIPESTATUS[0]}
node scripts/run-tests.mjs test 2>&1 | tee -a "$LOG"
E2E=${PIPESTATUS[0]}

sum() { grep -aE "ℹ $1 [0-9]+\$" "$LOG" | awk '{s += $NF} END {print s + 0}'; }
PASSED=$(sum pass); FAILED=$(sum fail); SKIPPED=$(sum skipped)
if [ "$UNIT" != 0 ] || [ "$E2E" != 0 ]; then
  [ "$FAILED" -gt 0 ] || FAILED=1 # a runner that died before reporting still counts as a failure
fi
echo "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$UNIT" = 0 ] && [ "$E2E" = 0 ]
