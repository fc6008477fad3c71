#!/usr/bin/env bash
# The test suite: every package's unit tests (through turbo), then the e2e tests in test/.
# Serial on purpose: tests create network namespaces, tc filters and BPF objects.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "wirescope tests: must run as root (eBPF and network namespaces): sudo npm test" >&2; exit 1; }
npx turbo run test --concurrency=1 --output-logs=full
node scripts/run-tests.mjs test
