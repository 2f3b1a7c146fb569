#!/usr/bin/env bash
# CI checks beyond the tests: docs/ up to date, every example formatted and valid on both
# CLIs, and the module example applied against the emulated tenant (then destroyed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
tf=$(scripts/install-cli.sh terraform | tail -1)
tofu=$(scripts/install-cli.sh tofu | tail -1)
work=$(mktemp -d)
emu_pid=""
cleanup() { [[ -n $emu_pid ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "--- docs/ generated from templates/, examples/ and the schema"
scripts/generate-docs.sh --check

echo "--- short fuzz run of every fuzz target (no panics)"
# A fixed number of executions, not a duration: a time limit that ends mid-input makes Go's
# fuzzer report "context deadline exceeded" on a slow, busy machine.
scripts/fuzz.sh 1000x

echo "--- terraform fmt -check"
"$tf" fmt -check -recursive -diff examples

rc=$(scripts/tf-mirror.sh "$work" | tail -1)
export TF_CLI_CONFIG_FILE="$rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
for dir in $(find examples -name '*.tf' -exec dirname {} \; | sort -u); do
  for cli in "$tf" "$tofu"; do
    d="$work/validate/$(basename "$cli")/$dir"
    mkdir -p "$d"
    cp -r "$dir"/. "$d"/
    # Snippets for the docs carry no required_providers block: add one to validate them.
    if ! grep -q required_providers "$d"/*.tf; then
      printf 'terraform {\n  required_providers {\n    o365 = { source = "o365-terraform/o365" }\n  }\n}\n' >"$d/zz_providers.tf"
    fi
    # modules referenced by relative path must resolve as in the repository
    if [[ $dir == examples/modules/migration-target/example ]]; then cp examples/modules/migration-target/main.tf "$d/../main.tf" 2>/dev/null || true; fi
    (cd "$d" && "$cli" init -backend=false -input=false -no-color >/dev/null && "$cli" validate -no-color >/dev/null) \
      || { echo "FAIL: $dir does not validate with $cli"; (cd "$d" && "$cli" validate -no-color); exit 1; }
    echo "ok: $dir ($("$cli" version | head -1))"
  done
done

echo "--- the module example against the emulated tenant"
go build -o "$work/o365-emulator" ./cmd/o365-emulator
"$work/o365-emulator" -seed examples/demo/tenant.json -ca-file "$work/ca.pem" -info-file "$work/tenant.json" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [[ -s $work/tenant.json ]] && break; sleep 0.1; done
url=$(python3 -c "import json; print(json.load(open('$work/tenant.json'))['url'])")
m="$work/module"
mkdir -p "$m/example"
cp examples/modules/migration-target/main.tf "$m/main.tf"
cp examples/modules/migration-target/example/main.tf "$m/example/main.tf"
export TF_VAR_endpoint="$url" TF_VAR_ca_certificate_file="$work/ca.pem"
export TF_VAR_admin_password='Adm1n-Passw0rd!' TF_VAR_mfa_admin_app_password='qwertyuiopasdfgh' TF_VAR_global_admin_app_password='zxcvbnmlkjhgfdsa'
cd "$m/example"
"$tf" init -input=false -no-color >/dev/null
"$tf" apply -auto-approve -no-color -compact-warnings | tail -3
"$tf" output -no-color -json connections | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert set(c) == {"main", "mfa"}, c
for k, v in c.items():
    assert v["missing_roles"] == [], (k, v)
    print(k, "holds", sorted(v["assigned_roles"]))
'
set +e; "$tf" plan -detailed-exitcode -no-color >/dev/null; code=$?; set -e
[[ $code -eq 0 ]] || { echo "the plan after apply is not empty (exit $code)"; exit 1; }
"$tf" destroy -auto-approve -no-color -compact-warnings | tail -1
