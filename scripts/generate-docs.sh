#!/usr/bin/env bash
# Generates docs/ from templates/, examples/ and the provider's schema with tfplugindocs.
# The schema comes from OpenTofu's `providers schema -json` (so write-only attributes are
# documented), keyed by the short name tfplugindocs looks up.
#   scripts/generate-docs.sh           regenerate docs/
#   scripts/generate-docs.sh --check  fail when docs/ is stale or invalid
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -f ${TF_CLI_CONFIG_FILE:-} ]] || export TF_CLI_CONFIG_FILE="$root/scripts/test.tfrc"
bin=${O365_BIN_DIR:-$root/.bin} # where the tools go (scripts/install-cli.sh: O365_BIN_DIR)
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
[[ -x $bin/tfplugindocs ]] || GOBIN="$bin" go install github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v0.25.0
tofu=$(scripts/install-cli.sh tofu | tail -1)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rc=$(scripts/tf-mirror.sh "$work" | tail -1)
mkdir -p "$work/cfg"
cat >"$work/cfg/main.tf" <<'TF'
terraform {
  required_providers {
    o365 = { source = "o365-terraform/o365" }
  }
}
TF
(cd "$work/cfg" && TF_CLI_CONFIG_FILE="$rc" "$tofu" init -input=false -no-color >/dev/null && TF_CLI_CONFIG_FILE="$rc" "$tofu" providers schema -json) >"$work/schema-full.json"
# The configuration has this one provider, so its address occurs once, as the key of
# provider_schemas; tfplugindocs looks the schema up by the short name.
addr='"registry.opentofu.org/o365-terraform/o365":'
[[ $(grep -o -F "$addr" "$work/schema-full.json" | wc -l) -eq 1 ]] || { echo "generate-docs: expected $addr once in the schema" >&2; exit 1; }
sed "s#$addr#\"o365\":#" "$work/schema-full.json" >"$work/schema.json"

if [[ ${1:-} == --check ]]; then
  cp -r docs "$work/docs-before"
  "$bin/tfplugindocs" generate --provider-name o365 --rendered-provider-name "Office 365 (o365)" --providers-schema "$work/schema.json" >/dev/null
  "$bin/tfplugindocs" validate --provider-name o365 >/dev/null
  if ! diff -r "$work/docs-before" docs; then
    echo "docs/ is stale: run 'make generate' and commit the result" >&2
    exit 1
  fi
  echo "docs/ is up to date"
else
  "$bin/tfplugindocs" generate --provider-name o365 --rendered-provider-name "Office 365 (o365)" --providers-schema "$work/schema.json"
fi
