#!/usr/bin/env bash
# Puts a Terraform-compatible CLI of exactly the asked version into .bin/, without HashiCorp's
# download site: every CLI is built from source fetched through the Go module proxy.
#   scripts/install-cli.sh terraform [VERSION]   -> .bin/terraform-VERSION (default: the oldest
#   scripts/install-cli.sh tofu [VERSION]        -> .bin/tofu-VERSION       of scripts/lib/cli.sh)
#   scripts/install-cli.sh terraform-1.13.3      (the same, as one word; so is tofu-X.Y.Z)
#   scripts/install-cli.sh any                   a supported CLI already on this machine (for
#                                                make demo); builds the default terraform if none
#   scripts/install-cli.sh all                   every CLI of the matrix (scripts/lib/cli.sh), one path a line
# Prints the binary's path as the last line of stdout; progress goes to stderr.
#
# Before building, it uses (in this order) .bin/NAME-VERSION, a `terraform`/`tofu` at
# TF_ACC_TERRAFORM_PATH or on PATH that reports exactly VERSION (O365_FORCE_LOCAL_CLI=1 skips
# those two), and an unversioned .bin/terraform or .bin/tofu left by earlier versions of this
# script if it reports VERSION (linked as .bin/NAME-VERSION). A candidate of another version is
# never returned. Concurrent calls for the same CLI (worktrees may share .bin/) wait for one build.
#
# Terraform from 1.9 on cannot be built with `go install` (its go.mod replaces nine remote-state
# backends and internal/legacy with nested modules that the module proxy does not carry): the
# build drops those modules and their entries in internal/backend/init/init.go. Such a binary
# lacks those state backends; it is for this project's tests only, never to be handed to users.
#
# Environment: O365_BIN_DIR (default .bin/), TERRAFORM_VERSION, TOFU_VERSION (the defaults).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib/cli.sh"
bin=${O365_BIN_DIR:-$root/.bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
# These machines may export a TF_CLI_CONFIG_FILE that does not exist, and OpenTofu then
# prints warnings on stdout: use the project's own (empty) CLI configuration instead.
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
export CHECKPOINT_DISABLE=1

log() { printf '[install-cli] %s\n' "$*" >&2; }
usage() { echo "usage: $0 terraform|tofu [VERSION] | terraform-X.Y.Z | tofu-X.Y.Z | any | all" >&2; exit 2; }
found() { echo "$1"; exit 0; }
product_of() { case $1 in terraform) echo Terraform ;; tofu) echo OpenTofu ;; esac; }

version_of() { # BINARY: the first line of its `version` ("Terraform v1.5.7", "OpenTofu v1.12.6")
  [[ -n $1 && -x $1 && ! -d $1 ]] || return 1
  # sed reads to the end: with head, the CLI may die of SIGPIPE and pipefail fail the check.
  TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null | sed -n 1p
}

if [[ ${1:-} == all ]]; then
  for c in "${CLI_MATRIX[@]}"; do "$0" "$c" | tail -1; done
  exit 0
fi

if [[ ${1:-} == any ]]; then
  for c in "${TF_ACC_TERRAFORM_PATH:-}" "$(command -v terraform || true)" "$(command -v tofu || true)"; do
    v=$(version_of "$c") || continue
    case $v in
    "Terraform v"*) min=$CLI_MIN_TERRAFORM ;;
    "OpenTofu v"*) min=$CLI_MIN_TOFU ;;
    *) continue ;;
    esac
    n=${v#* v}
    if [[ $(printf '%s\n' "$min" "${n%%-*}" | sort -V | sed -n 1p) == "$min" ]]; then
      log "using $c ($v, found on this machine)"
      found "$c"
    fi
    log "not using $c: $v is older than the oldest supported ($min)"
  done
  for c in "${CLI_MATRIX[@]}"; do
    v=$(version_of "$bin/$c") || continue
    [[ $v == "$(product_of "${c%%-*}") v${c#*-}" ]] || continue
    log "using $bin/$c ($v, built earlier by this script)"
    found "$bin/$c"
  done
  log "no Terraform >= $CLI_MIN_TERRAFORM or OpenTofu >= $CLI_MIN_TOFU on PATH or in TF_ACC_TERRAFORM_PATH: building one"
  exec "$0" terraform
fi

name=${1:-}
version=${2:-}
if [[ $name =~ ^(terraform|tofu)-([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
  name=${BASH_REMATCH[1]} version=${BASH_REMATCH[2]}
fi
case $name in
terraform) version=${version:-${TERRAFORM_VERSION:-$(cli_default terraform)}} module=github.com/hashicorp/terraform pkg=. ;;
tofu) version=${version:-${TOFU_VERSION:-$(cli_default tofu)}} module=github.com/opentofu/opentofu pkg=./cmd/tofu ;;
*) usage ;;
esac
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || usage
want="$(product_of "$name") v$version"
target="$bin/$name-$version"

reports() { # BINARY: true when its `version` says exactly "$want"
  [[ $(version_of "$1") == "$want" ]]
}
# The one binary this script names by the version: trusted only if it says so.
if [[ -e $target ]]; then
  reports "$target" && found "$target"
  log "$target does not report $want: rebuilding it"
fi
if [[ -z ${O365_FORCE_LOCAL_CLI:-} ]]; then
  for c in "${TF_ACC_TERRAFORM_PATH:-}" "$(command -v "$name" || true)"; do
    if reports "$c"; then log "using $c ($want)"; found "$c"; fi
  done
fi

# One build at a time per CLI, across every worktree sharing .bin/.
if command -v flock >/dev/null; then
  exec 9>"$bin/.install-$name-$version.lock"
  if ! flock -n 9; then
    log "waiting for another install of $want to finish"
    flock 9
  fi
  reports "$target" && found "$target" # the other install built it
fi

# Migration: earlier versions of this script left .bin/terraform (1.5.7) and .bin/tofu.
legacy="$bin/$name"
if reports "$legacy"; then
  ln -sfn "$name" "$target"
  log "adopted $legacy ($want) as $target"
  found "$target"
fi

elapsed() { # runs a command, reporting every 30 s so that a cold build is visibly alive
  local start=$SECONDS pid
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if kill -0 "$pid" 2>/dev/null && (((SECONDS - start) % 30 < 5)); then
      log "  ... still building $want ($(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s)"
    fi
  done
  wait "$pid"
  log "  compiled in $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s"
}

start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/o365-cli.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
log "building $want from the Go module proxy into $target (a few minutes on a cold cache)"
log "  downloading $module@v$version"
# Outside any module, so that the project's go.mod and go.sum stay untouched.
dir=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download "$module@v$version" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "$module@v$version")
[[ -n $dir && -f $dir/go.mod ]] || { log "go mod download gave no module directory for $module@v$version"; exit 1; }
src="$tmp/src"
cp -r "$dir/." "$src/"
chmod -R u+w "$src"
# The module's go.mod may carry replace directives, so it is built in place (not `go install`);
# -trimpath keeps the build cache valid across the temporary directories.
nested=$(sed -n "s#^replace \($module/[^ ]*\) => \./.*#\1#p" "$src/go.mod")
if [[ -n $nested ]]; then
  log "  dropping the nested modules the module proxy does not carry: $(echo ${nested//$module\//})"
  for m in $nested; do
    (cd "$src" && go mod edit -droprequire="$m" -dropreplace="$m")
  done
  init="$src/internal/backend/init/init.go"
  # Their only importer: the table of built-in state backends. Import aliases and table
  # entries name the backend alike (backendS3 "…/remote-state/s3", "s3": … backendS3.New()).
  aliases=$(sed -n 's#^\s*\(backend[A-Za-z0-9]*\) "'"$module"'/internal/backend/remote-state/\([^"]*\)"#\1 \2#p' "$init" |
    while read -r alias path; do
      if grep -qx "$module/internal/backend/remote-state/$path" <<<"$nested"; then echo "$alias"; fi
    done)
  for a in $aliases; do sed -i "/\b$a\b/d" "$init"; done
  for m in $nested; do
    if grep -rqF --include="*.go" --exclude="*_test.go" "\"$m" "$src"; then
      log "  $m is still imported after the patch: Terraform $version needs a new recipe"
      exit 1
    fi
  done
fi
log "  compiling $pkg"
(cd "$src" && elapsed env GOFLAGS=-mod=mod go build -trimpath -o "$tmp/out" \
  -ldflags "-X $module/version.dev=no" "$pkg")
reports "$tmp/out" || { log "the build reports '$("$tmp/out" version 2>&1 | sed -n 1p)', not $want"; exit 1; }
mv -f "$tmp/out" "$target"
log "built $target in $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s"
echo "$target"
