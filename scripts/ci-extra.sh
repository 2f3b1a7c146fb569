#!/usr/bin/env bash
# CI checks beyond the tests: docs/ up to date, a short fuzz run, every example formatted and
# valid on each CLI of the matrix (scripts/lib/cli.sh), the module example applied against
# the emulated tenant (then destroyed), and the copy-paste session of the guide "Develop and test
# locally" run as written (scripts/guide-session-test.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib/cli.sh
. scripts/lib/emulator.sh
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
declare -A cli
for c in "${CLI_MATRIX[@]}"; do cli[$c]=$(scripts/install-cli.sh "$c" | tail -1); done
tf=${cli[${CLI_MATRIX[0]}]} # the oldest Terraform: the module example
# The newest Terraform of the matrix formats: the examples of provider functions do not
# parse on Terraform before 1.8.
for c in "${CLI_MATRIX[@]}"; do [[ $c != terraform-* ]] || fmt_tf=${cli[$c]}; done
work=$(mktemp -d)
cleanup() {
  emulator_stop
  rm -rf "$work"
}
trap cleanup EXIT

echo "--- docs/ generated from templates/, examples/ and the schema"
scripts/generate-docs.sh --check

echo "--- short fuzz run of every fuzz target (no panics)"
# A fixed number of executions, not a duration: a time limit that ends mid-input makes Go's
# fuzzer report "context deadline exceeded" on a slow, busy machine.
scripts/fuzz.sh 1000x

echo "--- the guide's session from a clean directory, on each CLI of the matrix"
for c in "${CLI_MATRIX[@]}"; do scripts/guide-session-test.sh "${cli[$c]}" | tail -1; done

echo "--- terraform fmt -check"
"$fmt_tf" fmt -check -recursive -diff examples

rc=$(scripts/tf-mirror.sh "$work" | tail -1)
export TF_CLI_CONFIG_FILE="$rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
for dir in $(find examples -name '*.tf' -exec dirname {} \; | sort -u); do
  for c in "${CLI_MATRIX[@]}"; do
    # Provider-defined functions (provider::o365::…) parse on Terraform 1.8+ only (OpenTofu
    # 1.7+, older than any tofu of the matrix): their examples are not validated on older ones.
    if [[ $dir == examples/functions/* && $c == terraform-* && $(printf '%s\n' "${c#terraform-}" 1.8.0 | sort -V | head -1) != 1.8.0 ]]; then
      echo "skip: $dir ($c has no provider functions)"
      continue
    fi
    d="$work/validate/$c/$dir"
    mkdir -p "$d"
    cp -r "$dir"/. "$d"/
    # Snippets for the docs carry no required_providers block: add one to validate them.
    if ! grep -q required_providers "$d"/*.tf; then
      printf 'terraform {\n  required_providers {\n    o365 = { source = "o365-terraform/o365" }\n  }\n}\n' >"$d/zz_providers.tf"
    fi
    # modules referenced by relative path must resolve as in the repository
    if [[ $dir == examples/modules/migration-target/example ]]; then cp examples/modules/migration-target/main.tf "$d/../main.tf" 2>/dev/null || true; fi
    (cd "$d" && "${cli[$c]}" init -backend=false -input=false -no-color >/dev/null && "${cli[$c]}" validate -no-color >/dev/null) ||
      { echo "FAIL: $dir does not validate with $c"; (cd "$d" && "${cli[$c]}" validate -no-color); exit 1; }
    echo "ok: $dir ($c)"
  done
done

echo "--- the module example against the emulated tenant"
emulator_start "$work/emulator" examples/demo/tenant.json
m="$work/module"
mkdir -p "$m/example"
cp examples/modules/migration-target/main.tf "$m/main.tf"
cp examples/modules/migration-target/example/main.tf "$m/example/main.tf"
export TF_VAR_endpoint="$EMULATOR_URL" TF_VAR_ca_certificate_file="$EMULATOR_CA_FILE"
export TF_VAR_admin_password='Adm1n-Passw0rd!' TF_VAR_mfa_admin_app_password='qwertyuiopasdfgh' TF_VAR_global_admin_app_password='zxcvbnmlkjhgfdsa'
cd "$m/example"
"$tf" init -input=false -no-color >/dev/null
"$tf" apply -auto-approve -no-color -compact-warnings | tail -3
# The outputs, checked with the CLI's own expressions (`console` reads one expression).
got=$("$tf" console <<<'format("%s, %d missing", join(" ", sort(keys(module.target.connections))), length(flatten([for c in module.target.connections : c.missing_roles])))')
[[ $got == '"main mfa, 0 missing"' ]] || { echo "expected the connections main and mfa, none missing a role; got $got"; exit 1; }
"$tf" console <<<'join("\n", [for k, c in module.target.connections : "${k} holds ${join(", ", sort(c.assigned_roles))}"])' | grep holds
set +e
"$tf" plan -detailed-exitcode -no-color >/dev/null
code=$?
set -e
[[ $code -eq 0 ]] || { echo "the plan after apply is not empty (exit $code)"; exit 1; }
"$tf" destroy -auto-approve -no-color -compact-warnings | tail -1
