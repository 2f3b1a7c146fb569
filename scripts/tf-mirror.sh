#!/usr/bin/env bash
# Builds the provider into a local filesystem mirror and writes a CLI configuration that
# installs o365-terraform/o365 from it (for Terraform and OpenTofu), so `init` works offline.
#   scripts/tf-mirror.sh DIR   -> DIR/mirror/..., DIR/cli.tfrc ; prints DIR/cli.tfrc
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: tf-mirror.sh DIR}
version=0.0.1
os_arch="$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$dir"
for host in registry.terraform.io registry.opentofu.org; do
  d="$dir/mirror/$host/o365-terraform/o365/$version/$os_arch"
  mkdir -p "$d"
  (cd "$root" && go build -o "$d/terraform-provider-o365_v$version" -ldflags "-X main.version=$version" .)
done
cat >"$dir/cli.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$dir/mirror"
    include = ["registry.terraform.io/o365-terraform/o365", "registry.opentofu.org/o365-terraform/o365"]
  }
}
RC
echo "$dir/cli.tfrc"
