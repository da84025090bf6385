#!/usr/bin/env bash
# `npm test`: everything CI runs, on a fresh machine as on a warm one. Builds or reuses the local
# tools (cached by version), then lint, typecheck and every jest tier: unit, workflow
# (time-skipping), integration (real local services), e2e (the whole local stack), cluster (the
# production shape: Temporal server on PostgreSQL, two workers, kills and restarts).
# Ends with one line "tests: N passed, N failed" and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/lib.sh

t0=$(date +%s)
progress "preparing local tools (cached in $SHIPWATCH_CACHE; the first run builds them and takes longest)…"
bash tools/setup.sh || die "setting up the local tools failed (see above)"
progress "tools ready after $(elapsed "$t0")"

results_dir=$(mktemp -d)
failed_steps=()
run_step() {
  local name=$1; shift
  local s0; s0=$(date +%s)
  progress "── $name"
  if "$@"; then progress "── $name passed in $(elapsed "$s0")"; else progress "── $name FAILED after $(elapsed "$s0")"; failed_steps+=("$name"); fi
}

run_step lint npx eslint .
run_step typecheck npx tsc -p tsconfig.json --noEmit
# The e2e tier runs the compiled worker and sample service, as a deployment would.
run_step build npm run build
for tier in unit workflow integration e2e cluster; do
  args=(--selectProjects "$tier" --json --outputFile "$results_dir/$tier.json")
  [[ $tier != unit ]] && args+=(--runInBand)
  run_step "$tier tests" npx jest "${args[@]}"
done

passed=0; failed=0
for f in "$results_dir"/*.json; do
  [[ -f $f ]] || continue
  read -r p q < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)' "$f")
  passed=$((passed + p)); failed=$((failed + q))
done
rm -rf "$results_dir"

progress "total time $(elapsed "$t0")"
if [[ ${#failed_steps[@]} -gt 0 ]]; then
  progress "failed: ${failed_steps[*]}"
  # Lint or typecheck failures count as failures too, so the closing line never reads as all-green.
  [[ $failed -eq 0 ]] && failed=${#failed_steps[@]}
fi
echo "tests: $passed passed, $failed failed"
[[ ${#failed_steps[@]} -eq 0 ]]
