#!/usr/bin/env bash
# make demo: build the provider, find a CLI (a Terraform >= 1.5 or an OpenTofu already on
# PATH or in TF_ACC_TERRAFORM_PATH; one is built only when none is found), start the emulated
# tenant, apply examples/demo, show what was assigned, remove a role behind Terraform's back,
# show the drift in `plan`, repair it with `apply`, and stop the tenant.
# O365_BIN_DIR (default .bin/) is where the provider, and a CLI if one must be built, go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib/emulator.sh
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
bin=${O365_BIN_DIR:-$root/.bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
bold() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

bold "Building the provider"
go build -o "$bin/terraform-provider-o365" .
tf=$(scripts/install-cli.sh any | tail -1)
cli_name=$(TF_CLI_CONFIG_FILE=/dev/null "$tf" version | sed -n 1p)
echo "CLI: $cli_name ($tf)"
cmd=$(basename "$tf")
cmd=${cmd%%-[0-9]*} # terraform or tofu, as the user would type it

work=$(mktemp -d)
cleanup() {
  emulator_stop
  rm -rf "$work"
}
trap cleanup EXIT

bold "Starting the emulated tenant (examples/demo/tenant.json)"
emulator_start "$work" examples/demo/tenant.json
echo "Emulated tenant at $EMULATOR_URL (tenant $EMULATOR_TENANT_ID)"

# The provider comes from the bin directory through dev_overrides: no registry, no init.
cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/o365-terraform/o365" = "$bin"
    "registry.opentofu.org/o365-terraform/o365" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export TF_VAR_endpoint="$EMULATOR_URL" TF_VAR_ca_certificate_file="$EMULATOR_CA_FILE"
# The demo accounts' secrets (examples/demo/tenant.json); in real use they come from a vault.
export TF_VAR_admin_password='Adm1n-Passw0rd!' TF_VAR_mfa_admin_app_password='qwertyuiopasdfgh' TF_VAR_global_admin_app_password='zxcvbnmlkjhgfdsa'
mkdir -p "$work/config"
cp examples/demo/main.tf "$work/config/"
run() { (cd "$work/config" && "$tf" "$@" 2> >(grep -v -e 'Provider development overrides are in effect' -e 'The following provider development overrides' -e 'o365-terraform/o365 in' -e 'Warning: Provider development overrides' -e 'applying changes may cause the state' -e 'incompatible with published releases' -e '^ *$' -e '^│ *$' -e '^╵' -e '^╷' >&2)); }

bold "$cmd apply: verify both connections and assign the missing roles"
run apply -auto-approve -compact-warnings
bold "What each connection holds ($cmd output)"
run output connections

bold "Someone removes 'Mail Recipients' from admin@contoso.onmicrosoft.com in the admin center"
emulator_ctl DELETE "/_emulator/users/admin@contoso.onmicrosoft.com/exchange-roles/Mail%20Recipients" >/dev/null
echo "removed behind Terraform's back"

bold "$cmd plan: the drift check finds it"
set +e
run plan -detailed-exitcode -compact-warnings
code=$?
set -e
if [[ $code -ne 2 ]]; then echo "expected the plan to show the drift (exit 2), got $code" >&2; exit 1; fi

bold "$cmd apply: repair the drift"
run apply -auto-approve -compact-warnings

bold "$cmd plan: nothing left to do"
run plan -detailed-exitcode -compact-warnings

bold "Done. The emulated tenant stops now."
