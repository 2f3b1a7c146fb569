#!/usr/bin/env bash
# Puts a Terraform-compatible CLI into .bin/ without HashiCorp's download site:
# both CLIs are built from source fetched through the Go module proxy.
#   scripts/install-cli.sh terraform   -> .bin/terraform (1.5.7, go install)
#   scripts/install-cli.sh tofu        -> .bin/tofu      (OpenTofu 1.12.x, go build ./cmd/tofu)
# A binary already in .bin/ is reused. For terraform, an existing TF_ACC_TERRAFORM_PATH or a
# `terraform` on PATH of the right version is respected (set O365_FORCE_LOCAL_CLI=1 to skip).
# Prints the binary's path as the last line of stdout; progress goes to stderr.
set -euo pipefail
TERRAFORM_VERSION=${TERRAFORM_VERSION:-1.5.7}
TOFU_VERSION=${TOFU_VERSION:-1.12.6}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.bin"
mkdir -p "$bin"
# These machines may export a TF_CLI_CONFIG_FILE that does not exist, and OpenTofu then
# prints warnings on stdout: use the project's own (empty) CLI configuration instead.
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"

log() { printf '[install-cli] %s\n' "$*" >&2; }

elapsed() { # runs a command, reporting every 30 s so a cold build is visibly alive
  local start=$SECONDS pid
  "$@" & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if kill -0 "$pid" 2>/dev/null && (( (SECONDS - start) % 30 < 5 )); then
      log "  ... still building ($(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s)"
    fi
  done
  wait "$pid"
  log "  done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

case "${1:-}" in
terraform)
  want="Terraform v$TERRAFORM_VERSION"
  if [[ -x "$bin/terraform" ]]; then echo "$bin/terraform"; exit 0; fi
  if [[ -z "${O365_FORCE_LOCAL_CLI:-}" ]]; then
    for c in "${TF_ACC_TERRAFORM_PATH:-}" "$(command -v terraform || true)"; do
      if [[ -n "$c" && -x "$c" ]] && TF_CLI_CONFIG_FILE=/dev/null "$c" version 2>/dev/null | head -1 | grep -qx "$want"; then
        log "using existing $c ($want)"; echo "$c"; exit 0
      fi
    done
  fi
  log "building Terraform $TERRAFORM_VERSION from the Go module proxy (about 4-5 minutes cold)"
  tmp=$(mktemp -d)
  elapsed env GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
  mv "$tmp/terraform" "$bin/terraform"; rmdir "$tmp"
  echo "$bin/terraform"
  ;;
tofu)
  if [[ -x "$bin/tofu" ]]; then echo "$bin/tofu"; exit 0; fi
  log "building OpenTofu $TOFU_VERSION from the Go module proxy (about 6-7 minutes cold)"
  dir=$(cd "$bin" && GOFLAGS=-mod=mod go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  src=$(mktemp -d)
  cp -r "$dir/." "$src/"; chmod -R u+w "$src"
  # The module's own go.mod carries replace directives, so it must be built in place;
  # -trimpath keeps the build cache valid across the temporary directories.
  (cd "$src" && elapsed env GOFLAGS=-mod=mod go build -trimpath -o "$bin/tofu" -ldflags "-X github.com/opentofu/opentofu/version.dev=no" ./cmd/tofu)
  rm -rf "$src"
  echo "$bin/tofu"
  ;;
*) echo "usage: $0 terraform|tofu" >&2; exit 2 ;;
esac
