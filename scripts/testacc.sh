#!/usr/bin/env bash
# Runs the acceptance tests on Terraform 1.5.7 and on OpenTofu 1.12, each CLI built from
# the Go module proxy if missing (scripts/install-cli.sh).
#   scripts/testacc.sh [terraform|tofu|both] [go test args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
which=${1:-both}; shift || true
[[ $# -gt 0 ]] || set -- -run '^TestAcc' ./internal/...

export TF_ACC=1 CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
unset TF_ACC_TERRAFORM_VERSION # it would download a CLI

run() { # name cli [env...]
  local name=$1 cli=$2; shift 2
  echo "=== acceptance tests on $("$cli" version | head -1) ($cli)"
  env TF_ACC_TERRAFORM_PATH="$cli" "$@" go test -count=1 -timeout 30m "${GO_TEST_FLAGS[@]}" "${ARGS[@]}"
}
GO_TEST_FLAGS=()
# In CI (and with O365_TEST_VERBOSE) list every test with its outcome, so the log shows what
# ran, and what was skipped, on each CLI.
[[ -n "${O365_TEST_VERBOSE:-}${CI:-}" ]] && GO_TEST_FLAGS+=(-v)
ARGS=("$@")
if [[ $which == terraform || $which == both ]]; then
  tf=$(scripts/install-cli.sh terraform | tail -1)
  run terraform "$tf" TF_ACC_PROVIDER_HOST=registry.terraform.io
fi
if [[ $which == tofu || $which == both ]]; then
  tofu=$(scripts/install-cli.sh tofu | tail -1)
  run tofu "$tofu" TF_ACC_PROVIDER_HOST=registry.opentofu.org
fi
