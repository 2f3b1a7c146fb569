#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a short while (CI smoke fuzzing).
#   scripts/fuzz.sh [fuzztime]        default 5s per target; FUZZ_PKGS limits the packages
# A target that finds a crash fails the run; Go writes the input to
# <pkg>/testdata/fuzz/<Target>/ so it replays as a regular test afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzztime=${1:-5s}
pkgs=${FUZZ_PKGS:-./internal/...}
failed=()
n=0
for pkg in $(go list $pkgs); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  for target in $targets; do
    n=$((n + 1))
    echo "=== fuzz $pkg $target ($fuzztime)"
    if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"; then
      failed+=("$pkg $target")
    fi
  done
done
echo "fuzzed $n targets"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
