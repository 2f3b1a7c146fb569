#!/usr/bin/env bash
# Runs the copy-paste session of the guide "Develop and test locally"
# (templates/guides/develop-and-test-locally.md.tmpl): its ```sh session blocks, in order, as
# written, in one bash from the repository root, with the CLI named `terraform` on PATH. After the
# block that applies, it checks Terraform's state and the emulated tenant's. Fails when a command
# of the guide fails, or when the session no longer reaches an apply against the emulated tenant.
#   scripts/guide-session-test.sh [CLI]   CLI: a path or a name for scripts/install-cli.sh (default any)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
guide=templates/guides/develop-and-test-locally.md.tmpl
cli=${1:-any}
[[ -x $cli ]] || cli=$(scripts/install-cli.sh "$cli" | tail -1)
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/path"
ln -s "$cli" "$tmp/path/terraform"

# The session, block by block; after_block runs between blocks in the session's own shell.
awk '
  /^```sh session[[:space:]]*$/ { inblock = 1; n++; next }
  inblock && /^```[[:space:]]*$/ { inblock = 0; print "after_block " n; next }
  inblock { print }
  END { if (inblock) { print "echo unterminated session block >&2; exit 1" } }
' "$guide" >"$tmp/session.sh"
blocks=$(grep -c '^after_block ' "$tmp/session.sh" || true)
[[ $blocks -ge 1 ]] || { echo "FAIL: no \`\`\`sh session blocks in $guide" >&2; exit 1; }
grep -q 'terraform apply' "$tmp/session.sh" || { echo "FAIL: the guide's session does not apply" >&2; exit 1; }

cat >"$tmp/run.sh" <<'SH'
set -euo pipefail
applied=""
# After each block: once the configuration is applied, check both states while the
# emulated tenant still runs.
after_block() {
  if [[ -z $applied && -f terraform.tfstate ]]; then
    applied=$1
    local resources
    resources=$(terraform state list)
    grep -qx 'o365_target_connection.main' <<<"$resources" ||
      { echo "FAIL: o365_target_connection.main is not in Terraform's state: $resources" >&2; exit 1; }
    # The seed gives admin@ no management role: after the apply the tenant must hold them.
    "$work/bin/o365-emulator" ctl -info-file "$work/emulator.json" GET /_emulator/state >"$work/state.json"
    grep -q 'ApplicationImpersonation' "$work/state.json" ||
      { echo "FAIL: the emulated tenant holds no ApplicationImpersonation assignment after the apply" >&2; exit 1; }
    "$work/bin/o365-emulator" ctl -info-file "$work/emulator.json" GET /_emulator/counters >"$work/counters.json"
    grep -q 'New-ManagementRoleAssignment' "$work/counters.json" ||
      { echo "FAIL: the apply assigned no role in the emulated tenant" >&2; exit 1; }
    echo "guide session: applied (block $1); Terraform's state and the tenant's agree"
  fi
}
guide_cleanup() {
  if [[ -n ${EMULATOR_PID:-} ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then kill "$EMULATOR_PID"; fi
  if [[ -n ${work:-} ]]; then rm -rf "$work"; fi
}
trap guide_cleanup EXIT
SH
cat "$tmp/session.sh" >>"$tmp/run.sh"
# shellcheck disable=SC2016 # expanded by the session's shell, not this one
echo '[[ -n $applied ]] || { echo "FAIL: the session never reached an apply" >&2; exit 1; }' >>"$tmp/run.sh"

# A clean environment: no CLI configuration or provider variables of the caller's.
unset_args=(-u TF_CLI_CONFIG_FILE -u TF_CLI_ARGS -u TF_DATA_DIR -u TF_LOG)
while read -r name; do unset_args+=(-u "$name"); done < <(compgen -e | grep -E '^(O365_|TF_VAR_)' || true)
env "${unset_args[@]}" PATH="$tmp/path:$PATH" TF_IN_AUTOMATION=1 bash "$tmp/run.sh"
echo "ok: the guide's session ($blocks blocks) with $(TF_CLI_CONFIG_FILE=/dev/null "$cli" version | sed -n 1p)"
