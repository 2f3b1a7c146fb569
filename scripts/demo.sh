#!/usr/bin/env bash
# make demo: both worlds, in three parts, each against an emulated tenant.
#  1. The seed's world (examples/demo/tenant.json): apply examples/demo, show what was
#     assigned, remove a role behind Terraform's back, show the drift in `plan`, repair it.
#  2. Exchange Online in 2026 (examples/demo/tenant-2026.json: ApplicationImpersonation retired,
#     EWS off for one mailbox): the same configuration; its plan says why it cannot work.
#  3. The way forward (examples/demo/app): o365_migration_application for Graph's mailbox import
#     API (protocol = "graph_import"), scoped to Sales, feeding o365_target_app_connection; an
#     Exchange application role removed behind Terraform's back; the plan that shows it; the
#     apply that repairs it.
# The CLI is a Terraform >= 1.5 or an OpenTofu already on PATH or in TF_ACC_TERRAFORM_PATH
# (one is built only when none is found). O365_BIN_DIR (default .bin/) is where the provider,
# and a CLI if one must be built, go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib/emulator.sh
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
bin=${O365_BIN_DIR:-$root/.bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
bold() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
part() { printf '\n\033[1;36m━━━ %s\033[0m\n' "$*"; }

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

part "Part 1 of 3: the seed's world — an admin account, EWS and ApplicationImpersonation"
bold "Starting the emulated tenant (examples/demo/tenant.json)"
emulator_start "$work/seed" examples/demo/tenant.json
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
config="$work/config"
run() { (cd "$config" && "$tf" "$@" 2> >(grep -v -e 'Provider development overrides are in effect' -e 'The following provider development overrides' -e 'o365-terraform/o365 in' -e 'Warning: Provider development overrides' -e 'applying changes may cause the state' -e 'incompatible with published releases' -e '^ *$' -e '^│ *$' -e '^╵' -e '^╷' >&2)); }

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

emulator_stop

part "Part 2 of 3: the same configuration against Exchange Online in 2026"
bold "Starting the emulated tenant (examples/demo/tenant-2026.json: ApplicationImpersonation retired, EWS off for mfa.admin's mailbox)"
emulator_start "$work/2026" examples/demo/tenant-2026.json
export TF_VAR_endpoint="$EMULATOR_URL" TF_VAR_ca_certificate_file="$EMULATOR_CA_FILE"
config="$work/config-2026"
mkdir -p "$config"
cp examples/demo/main.tf "$config/"
bold "$cmd plan: the plan says why the seed's connection cannot work here, and what replaces it"
set +e
run plan -compact-warnings >"$work/plan-2026.txt" 2>&1
code=$?
set -e
sed -e '/^$/N;/^\n$/D' "$work/plan-2026.txt"
if [[ $code -eq 0 ]] || ! grep -q 'ApplicationImpersonation no longer exists' "$work/plan-2026.txt" || ! grep -q 'EWS is turned off for the mailbox' "$work/plan-2026.txt"; then
  echo "expected the plan to fail with both diagnoses (exit $code)" >&2
  exit 1
fi
if emulator_ctl GET /_emulator/counters | grep -q -e 'New-ManagementRoleAssignment' -e 'roleAssignments.create'; then
  echo "the failed plan assigned something" >&2
  exit 1
fi
echo "(the plan failed as it should, and nothing was assigned in the tenant)"

part "Part 3 of 3: the way forward — an Entra application importing through Microsoft Graph (graph_import)"
config="$work/app"
mkdir -p "$config"
cp examples/demo/app/main.tf "$config/"
# The management identity's secret (examples/demo/tenant-2026.json); in CI, a federated token.
export TF_VAR_management_client_secret='Mgmt~Secret.0123456789abcdefghijklmno'
if ! run validate -no-color >"$work/validate-app.txt" 2>&1; then
  cat "$work/validate-app.txt" >&2
  exit 1
fi

bold "$cmd apply: register the application (Sales mailboxes only) and verify its connection"
run apply -auto-approve -compact-warnings

client_id=$(cd "$config" && "$tf" output -raw client_id 2>/dev/null)
bold "Someone removes the Exchange application role 'Application MailboxItem.ImportExport' (Remove-ManagementRoleAssignment)"
emulator_ctl DELETE "/_emulator/applications/$client_id/exchange-roles/Application%20MailboxItem.ImportExport" >/dev/null
echo "removed behind Terraform's back"

bold "$cmd plan: the drift check finds the missing role (and the mailboxes the application can no longer import into)"
set +e
run plan -detailed-exitcode -compact-warnings >"$work/plan-app.txt" 2>&1
code=$?
set -e
sed -e '/^$/N;/^\n$/D' "$work/plan-app.txt"
if [[ $code -ne 2 ]] || ! grep -q 'Application MailboxItem.ImportExport' "$work/plan-app.txt"; then
  echo "expected the plan to show the missing role (exit 2), got exit $code" >&2
  exit 1
fi

bold "$cmd apply: assign the role again, limited to the scope"
run apply -auto-approve -compact-warnings

bold "$cmd plan: nothing left to do (its refresh finds both mailboxes reachable again)"
run plan -detailed-exitcode -compact-warnings

bold "Done. The emulated tenant stops now."
