#!/usr/bin/env bash
# Runs the acceptance tests on each CLI of the matrix (scripts/lib/cli.sh: Terraform 1.5.7, the
# oldest this provider supports; Terraform 1.13.3; OpenTofu 1.12.6), each built from the Go
# module proxy if missing (scripts/install-cli.sh), and ends with a summary per CLI of the
# tests that ran, passed, failed and were skipped (with the reason). Every CLI runs even if
# an earlier one failed; the exit status is non-zero if any did.
#   scripts/testacc.sh [all|terraform|tofu|NAME-VERSION] [go test args...]
# `terraform` is every Terraform of the matrix, NAME-VERSION one entry (e.g. terraform-1.13.3);
# `both` is the old name of `all`. The default go test args: -run '^TestAcc' . ./internal/...
# (the root package's test serves main.go's provider to the CLI: its log lines).
# In CI (CI set) or with O365_TEST_VERBOSE=1 the full `go test -v` output is shown; otherwise
# only failures and the summary. The full output is kept in .bin/testacc/NAME-VERSION.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib/cli.sh
which=${1:-all}
shift || true
[[ $# -gt 0 ]] || set -- -run '^TestAcc' . ./internal/...
clis=$(cli_select "$which")

export TF_ACC=1 CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
unset TF_ACC_TERRAFORM_VERSION # it would download a CLI
logs=${O365_BIN_DIR:-$root/.bin}/testacc
mkdir -p "$logs"
verbose=${O365_TEST_VERBOSE:-${CI:-}}

# summarize NAME LOG: the top-level tests of a `go test -v` log by outcome. A skip's reason is
# the test's last log line before its "--- SKIP" (go test -v streams a test's log as it runs).
summarize() {
  awk -v cli="$1" '
    /^=== (RUN|CONT|NAME) / { cur = $3; next }
    /^    [^ ]+:[0-9]+: / && cur != "" { r = $0; sub(/^ +[^ ]+:[0-9]+: /, "", r); said[cur] = r; next }
    /^--- (PASS|FAIL|SKIP): / { o = $2; sub(":", "", o); t = $3; n[o]++; list[o] = list[o] " " t; if (o == "SKIP") reason[t] = said[t]; next }
    END {
      ran = n["PASS"] + n["FAIL"]
      printf "=== %s: %d ran, %d passed, %d failed, %d skipped\n", cli, ran, n["PASS"] + 0, n["FAIL"] + 0, n["SKIP"] + 0
      if (n["PASS"]) printf "    passed: %s\n", substr(list["PASS"], 2)
      if (n["FAIL"]) printf "    FAILED: %s\n", substr(list["FAIL"], 2)
      split(substr(list["SKIP"], 2), s, " ")
      for (i = 1; i in s; i++) printf "    skipped: %s (%s)\n", s[i], reason[s[i]]
    }' "$2"
}

# quiet: the -v stream without the passing and skipped tests and the tests' own lines (kept
# in the log; a failed test's are printed after the run by failures).
quiet() {
  grep --line-buffered -v -E '^(=== |\s*--- (PASS|SKIP)|PASS$|testing: warning: no tests to run|    )' || true
}

# failures LOG "TEST...": the lines of these top-level tests in a -v log. With t.Parallel the
# output interleaves; go test marks each switch with "=== CONT/NAME TestX".
failures() {
  awk -v want=" $2 " '
    /^=== (RUN|CONT|NAME|PAUSE) / { cur = $3; sub(/\/.*/, "", cur); next }
    /^--- (PASS|FAIL|SKIP): / { cur = $3 }
    /^(PASS|FAIL|ok)(\t|$)/ { cur = ""; next }
    cur != "" && index(want, " " cur " ") { print }' "$1"
}

summaries=() failed=()
for c in $clis; do
  cli=$(scripts/install-cli.sh "$c" | tail -1)
  host=registry.terraform.io
  [[ $c == tofu-* ]] && host=registry.opentofu.org
  log="$logs/$c.log"
  echo "=== acceptance tests on $c: $(TF_CLI_CONFIG_FILE=/dev/null "$cli" version | sed -n 1p) ($cli)"
  start=$SECONDS
  set +e
  if [[ -n $verbose ]]; then
    TF_ACC_TERRAFORM_PATH="$cli" TF_ACC_PROVIDER_HOST=$host go test -count=1 -timeout 30m -v "$@" 2>&1 | tee "$log"
  else
    TF_ACC_TERRAFORM_PATH="$cli" TF_ACC_PROVIDER_HOST=$host go test -count=1 -timeout 30m -v "$@" 2>&1 | tee "$log" | quiet
  fi
  rc=${PIPESTATUS[0]}
  set -e
  summary=$(summarize "$c" "$log")
  summary="${summary/ ran,/ ran in $((SECONDS - start))s,}"
  summaries+=("$summary")
  echo "$summary"
  if ((rc != 0)); then
    failed+=("$c")
    if [[ -z $verbose ]]; then
      echo "--- the output of the failed tests on $c (all of it: $log)"
      failures "$log" "$(awk '/^--- FAIL: / { print $3 }' "$log" | tr '\n' ' ')"
    fi
  fi
done

if ((${#summaries[@]} > 1)); then
  echo
  echo "=== summary of the acceptance tests (full logs in $logs/)"
  printf '%s\n' "${summaries[@]}"
fi
if ((${#failed[@]})); then
  echo "FAILED on: ${failed[*]}" >&2
  exit 1
fi
