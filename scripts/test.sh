#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint and types, the TypeScript tests
# (unit, real-peer integration), the native helper's tests, and the end-to-end
# tests in Chromium. Stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint and types"
npx eslint .
npx tsc --noEmit -p tsconfig.json
for extra in test/store-chromium/tsconfig.json renderer/tsconfig.json; do
  if [ -f "$extra" ]; then npx tsc --noEmit -p "$extra"; fi
done
bash scripts/check-names.sh

echo "== TypeScript tests"
npx vitest run

if [ -f renderer/vitest.config.ts ]; then
  echo "== renderer (components, store on fake-indexeddb)"
  npx vitest run --config renderer/vitest.config.ts
fi

if [ -f native/Makefile ]; then
  echo "== native helper"
  make -s -C native check
fi

echo "== load and soak (one at a time)"
npx vitest run --config test/pressure.vitest.config.ts

if [ -d test/e2e ] && ls test/e2e/*.test.ts >/dev/null 2>&1; then
  echo "== end-to-end (Chromium)"
  npx vitest run --config test/e2e/vitest.config.ts
fi
