# shellcheck shell=bash
# The Terraform-compatible CLIs the acceptance tests run on, each named NAME-VERSION as
# scripts/install-cli.sh builds it: the oldest Terraform this provider supports, the newest
# Terraform the Go module proxy serves, and OpenTofu. The supported versions are stated in
# README.md ("Supported CLI versions") and templates/index.md.tmpl; keep them in step.
CLI_MATRIX=(terraform-1.5.7 terraform-1.13.3 tofu-1.12.6)

# The oldest versions the provider supports, for a CLI found on the machine (make demo).
CLI_MIN_TERRAFORM=1.5
CLI_MIN_TOFU=1.6

# cli_select WORD: the matrix entries WORD names, one a line: all (or both, its old name),
# terraform (every Terraform of the matrix), tofu, or one NAME-VERSION of the matrix.
cli_select() {
  local c hit=""
  for c in "${CLI_MATRIX[@]}"; do
    case $1 in
    all | both) ;;
    terraform | tofu) [[ $c == "$1"-* ]] || continue ;;
    *) [[ $c == "$1" ]] || continue ;;
    esac
    echo "$c"
    hit=1
  done
  [[ -n $hit ]] || { echo "no CLI of the matrix (${CLI_MATRIX[*]}) matches '$1'" >&2; return 1; }
}

# cli_default NAME: the matrix's first version of terraform or tofu.
cli_default() {
  local c
  for c in "${CLI_MATRIX[@]}"; do
    if [[ $c == "$1"-* ]]; then
      echo "${c#"$1"-}"
      return 0
    fi
  done
  return 1
}
