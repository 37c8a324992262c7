#!/usr/bin/env bash
# Conventions that lint cannot see: only the event store's append module writes
# the events table (STYLE.md G15), and renderer file names (G9).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
if [ -d renderer/src ]; then
  hits=$(grep -rnE 'events\.(put|bulkPut|update|delete|bulkDelete|modify|clear)\(' renderer/src --include='*.ts' --include='*.svelte' | grep -v 'renderer/src/lib/db/append-event.ts' | grep -v 'renderer/src/lib/db/migrations' | grep -v '\.test\.ts' || true)
  if [ -n "$hits" ]; then echo "only append-event.ts may write events:"; echo "$hits"; bad=1; fi
  while IFS= read -r f; do
    b=$(basename "$f")
    case "$b" in
      *.svelte) [[ $b =~ ^[A-Z][A-Za-z0-9]*\.svelte$ ]] || { echo "component names are PascalCase: $f"; bad=1; } ;;
      # A component's test takes the component's name (G9); machine files take G11's suffixes.
      [A-Z]*.svelte.test.ts) [ -f "$(dirname "$f")/${b%.test.ts}" ] || { echo "component test without its component: $f"; bad=1; } ;;
      *.ts) [[ $b =~ ^[a-z0-9]+(-[a-z0-9]+)*(\.(machine|types|actors|model))?(\.svelte)?(\.test)?(\.d)?\.ts$ ]] || { echo "module names are kebab-case: $f"; bad=1; } ;;
    esac
  done < <(find renderer/src -type f \( -name '*.ts' -o -name '*.svelte' \))
fi
exit $bad
