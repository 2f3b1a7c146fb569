#!/usr/bin/env bash
# make demo: build the provider (and a CLI if none is found), start the emulated tenant,
# apply examples/demo, show what was assigned, remove a role behind Terraform's back,
# show the drift in `plan`, repair it with `apply`, and stop the tenant.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
bin="$root/.bin"
mkdir -p "$bin"
bold() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

bold "Building the provider and the emulated tenant"
go build -o "$bin/terraform-provider-o365" .
go build -o "$bin/o365-emulator" ./cmd/o365-emulator
tf=$(scripts/install-cli.sh terraform | tail -1)
echo "CLI: $("$tf" version | head -1) ($tf)"

work=$(mktemp -d)
emu_pid=""
cleanup() {
  [[ -n $emu_pid ]] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bold "Starting the emulated tenant (examples/demo/tenant.json)"
"$bin/o365-emulator" -seed examples/demo/tenant.json -addr 127.0.0.1:0 \
  -ca-file "$work/ca.pem" -info-file "$work/tenant.json" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [[ -s $work/tenant.json ]] && break; sleep 0.1; done
[[ -s $work/tenant.json ]] || { cat "$work/emulator.log"; echo "the emulated tenant did not start" >&2; exit 1; }
info() { python3 -c "import json,sys; print(json.load(open('$work/tenant.json'))['$1'])"; }
url=$(info url); token=$(info control_token)
echo "Emulated tenant at $url (tenant $(info tenant_id))"

# The provider comes from .bin/ through dev_overrides: no registry, no init.
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
export TF_VAR_endpoint="$url" TF_VAR_ca_certificate_file="$work/ca.pem"
# The demo accounts' secrets (examples/demo/tenant.json); in real use they come from a vault.
export TF_VAR_admin_password='Adm1n-Passw0rd!' TF_VAR_mfa_admin_app_password='qwertyuiopasdfgh' TF_VAR_global_admin_app_password='zxcvbnmlkjhgfdsa'
cp examples/demo/main.tf "$work/"
run() { (cd "$work" && "$tf" "$@" 2> >(grep -v -e 'Provider development overrides are in effect' -e 'The following provider development overrides' -e 'o365-terraform/o365 in' -e 'Warning: Provider development overrides' -e 'applying changes may cause the state' -e 'incompatible with published releases' -e '^ *$' -e '^│ *$' -e '^╵' -e '^╷' >&2)); }
control() { # METHOD PATH
  python3 - "$1" "$url$2" "$token" "$work/ca.pem" <<'PY'
import ssl, sys, urllib.request
m, u, t, ca = sys.argv[1:]
req = urllib.request.Request(u, method=m, headers={"Authorization": "Bearer " + t})
print(urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca)).status)
PY
}

bold "terraform apply: verify both connections and assign the missing roles"
run apply -auto-approve -compact-warnings
bold "What each connection holds (terraform output)"
run output connections

bold "Someone removes 'Mail Recipients' from admin@contoso.onmicrosoft.com in the admin center"
control DELETE "/_emulator/users/admin@contoso.onmicrosoft.com/exchange-roles/Mail%20Recipients" >/dev/null
echo "removed behind Terraform's back"

bold "terraform plan: the drift check finds it"
set +e
run plan -detailed-exitcode -compact-warnings
code=$?
set -e
if [[ $code -ne 2 ]]; then echo "expected the plan to show the drift (exit 2), got $code" >&2; exit 1; fi

bold "terraform apply: repair the drift"
run apply -auto-approve -compact-warnings

bold "terraform plan: nothing left to do"
run plan -detailed-exitcode -compact-warnings

bold "Done. The emulated tenant stops now."
