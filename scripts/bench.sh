#!/usr/bin/env bash
# make bench: the plan/apply benchmark against the emulated tenant; writes BENCHMARKS.md.
#
# For each CLI (BENCH_CLIS, default "terraform tofu": scripts/install-cli.sh names), each scenario
# (BENCH_SCENARIOS, default "target app-secret app-cert app-ews graph_import outage"), each size (BENCH_SIZES, default
# "10 50 200") and each latency (BENCH_LATENCIES in ms, default "20 0"): a fresh working
# directory with N connections, then a timed `apply` and BENCH_PLAN_RUNS timed no-change
# `plan -detailed-exitcode` runs (each must exit 0; the fastest is reported). Scenario target:
# N o365_target_connection resources (default toggles) whose admin accounts already hold every
# required role. The app-* scenarios: N o365_target_app_connection resources sharing
# one application, one verified mailbox each (app-secret and app-cert: protocol graph with a
# secret or a certificate; app-ews: protocol ews with a secret). Scenario graph_import: the same with
# protocol graph_import and an application scoped with RBAC for Applications, whose Exchange roles the
# provider's management identity reads. Each no-change plan of these scenarios must also keep the
# request budget (cmd/o365-bench/budget.go), or the bench fails (after measuring the rest and writing the
# report, which shows the broken terms). Before each command the tenant's request
# counters are reset; after it they are read. The provider binary is started through a
# wrapper (o365-bench rss) that records each provider process's peak RSS and CPU time. Also
# measured: per CLI, the baseline (apply and no-change plans of as many built-in terraform_data
# resources: the CLI's cost without this provider); the provider's startup (binary size, time to
# the plugin handshake, `providers schema -json`); a CPU profile of the provider over
# BENCH_PROFILE_RUNS no-change plans of the largest size at 0 ms on the first CLI, with
# cmd/o365-provider-pprof (the same provider, served the same way, with runtime/pprof) in the
# provider's place; and the Go benchmarks of the hot parsers.
#
# Scenario outage, a managed-services fault: three benchmark tenants behind the same emulator in one
# configuration, BENCH_OUTAGE_SIZES (default "10 100") connections in the second and
# BENCH_OUTAGE_HEALTHY (default 10) in each of the others, max_retries unset (the provider's default).
# Per CLI and size: a fault-free apply, then BENCH_OUTAGE_RUNS (default 3) rounds of a fault-free
# no-change plan and the same plan while the second tenant's token endpoint answers 503, at the
# first of BENCH_LATENCIES in every tenant. Each plan must exit 0 with the healthy tenants'
# connections verified and the down tenant's warned about (o365-bench measure -scenario outage).
#
# Environment: BENCH_SIZES, BENCH_CLIS, BENCH_SCENARIOS, BENCH_LATENCIES, BENCH_PLAN_RUNS (default 4), BENCH_OUT (default BENCHMARKS.md),
# BENCH_OUTAGE_SIZES, BENCH_OUTAGE_HEALTHY, BENCH_OUTAGE_RUNS,
# BENCH_RESULTS (raw JSON lines; default .bin/bench/results.jsonl), BENCH_PROFILE_RUNS (default 3;
# 0 skips the profile; the profiles stay in .bin/bench/profile/), BENCH_SKIP_GOBENCH=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib/emulator.sh
bin=${O365_BIN_DIR:-$root/.bin} # where the tools go (scripts/install-cli.sh: O365_BIN_DIR)
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
mkdir -p "$bin/bench"

sizes=${BENCH_SIZES:-10 50 200}
clis=${BENCH_CLIS:-terraform tofu}
scenarios=${BENCH_SCENARIOS:-target app-secret app-cert app-ews graph_import outage}
latencies=${BENCH_LATENCIES:-20 0}
plan_runs=${BENCH_PLAN_RUNS:-4} # no-change plans per size and latency (the fastest is reported)
profile_runs=${BENCH_PROFILE_RUNS:-3} # profiled no-change plans (0: none)
outage_sizes=${BENCH_OUTAGE_SIZES:-10 100} # scenario outage: connections in the tenant whose sign-in fails
outage_healthy=${BENCH_OUTAGE_HEALTHY:-10} # scenario outage: connections in each healthy tenant
outage_runs=${BENCH_OUTAGE_RUNS:-3}       # scenario outage: rounds of the fault-free and the one-tenant-down plan
out=${BENCH_OUT:-$root/BENCHMARKS.md}
results=${BENCH_RESULTS:-$bin/bench/results.jsonl}
parallelism=10 # Terraform's and OpenTofu's default, passed explicitly
sizes=$(echo $sizes) clis=$(echo $clis) latencies=$(echo $latencies) scenarios=$(echo $scenarios) outage_sizes=$(echo $outage_sizes) # normalise the spacing
for v in $sizes $latencies $plan_runs $profile_runs $outage_sizes $outage_healthy $outage_runs; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "bench: sizes, latencies, BENCH_PLAN_RUNS and BENCH_OUTAGE_* must be whole numbers, got '$v'" >&2; exit 2; }
done
for c in $clis; do
  [[ $c =~ ^(terraform|tofu)(-[0-9]+\.[0-9]+\.[0-9]+)?$ ]] || { echo "bench: BENCH_CLIS takes terraform, tofu or NAME-VERSION (e.g. terraform-1.13.3), got '$c'" >&2; exit 2; }
done
for s in $scenarios; do
  [[ $s =~ ^(target|app-secret|app-cert|app-ews|graph_import|outage)$ ]] || { echo "bench: BENCH_SCENARIOS takes target, app-secret, app-cert, app-ews, graph_import, outage, got '$s'" >&2; exit 2; }
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/o365-bench.XXXXXX")
cleanup() {
  local rc=$?
  emulator_stop
  if [[ $rc -ne 0 && -d $work ]]; then
    mkdir -p "$bin/bench/failed"
    cp "$work"/*.log "$work"/emulator/*.log "$bin/bench/failed/" 2>/dev/null || true
    log "failed (exit $rc); logs copied to $bin/bench/failed/"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Always our own CLI configuration: these machines export a TF_CLI_CONFIG_FILE that may not exist.
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
unset TF_LOG TF_LOG_PATH TF_LOG_PROVIDER || true

log "building the provider and the bench helper"
go build -o "$bin/terraform-provider-o365" .
mkdir -p "$work/bin" "$work/provider"
go build -o "$work/bin/o365-bench" ./cmd/o365-bench
ob="$work/bin/o365-bench"

declare -A cli_bin schema_done
for c in $clis; do
  cli_bin[$c]=$(scripts/install-cli.sh "$c" | tail -1)
  log "CLI $c: $("${cli_bin[$c]}" version 2>/dev/null | sed -n 1p) (${cli_bin[$c]})"
done

# The CLIs find the provider through dev_overrides (no registry, no init). The directory holds
# a wrapper that runs the real binary and records its peak RSS when it exits.
rss="$work/provider-rss.txt"
cat >"$work/provider/terraform-provider-o365" <<SH
#!/bin/sh
exec "$ob" rss -o "$rss" -- "$bin/terraform-provider-o365" "\$@"
SH
chmod +x "$work/provider/terraform-provider-o365"
cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/o365-terraform/o365" = "$work/provider"
    "registry.opentofu.org/o365-terraform/o365" = "$work/provider"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"

max_n=0
for n in $sizes; do ((n > max_n)) && max_n=$n; done
# Scenario outage adds the second and third benchmark tenants to the same emulator: its
# configuration (o365-bench config -scenario outage) puts N connections in the second and
# BENCH_OUTAGE_HEALTHY in the first and third.
outage="" seed_n=$max_n extra_seeds=()
if [[ " $scenarios " == *" outage "* ]]; then
  outage=1 outage_max=0
  for n in $outage_sizes; do ((n > outage_max)) && outage_max=$n; done
  if ((outage_healthy > seed_n)); then seed_n=$outage_healthy; fi
  "$ob" seed -tenant 2 -n "$outage_max" -o "$work/seed2.json"
  "$ob" seed -tenant 3 -n "$outage_healthy" -o "$work/seed3.json"
  extra_seeds=(-seed "$work/seed2.json" -seed "$work/seed3.json")
  log "starting the emulated tenants: the first with $seed_n admin accounts (and mailboxes) and the applications, the second with $outage_max, the third with $outage_healthy"
else
  log "starting the emulated tenant with $seed_n admin accounts (and mailboxes) and the applications"
fi
cert="$work/bench-cert.pem" # the graph application's certificate and key (scenario app-cert)
"$ob" seed -n "$seed_n" -cert-out "$cert" -o "$work/seed.json"
emulator_start "$work/emulator" "$work/seed.json" "${extra_seeds[@]}"
url=$EMULATOR_URL
ctl() { emulator_ctl "$@" >/dev/null; }
log "emulated tenant at $url"

: >"$results"
"$ob" startup -results "$results" -bin "$bin/terraform-provider-o365"

outage_env="" # the outage scenario's settings, in the commands that reproduce the run
[[ -n $outage ]] && outage_env=" BENCH_OUTAGE_SIZES=\"$outage_sizes\" BENCH_OUTAGE_HEALTHY=$outage_healthy BENCH_OUTAGE_RUNS=$outage_runs"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
meta=(-meta "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  -meta "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  -meta "machine=${cpu:-unknown CPU}, $(nproc) cores, $mem RAM, Linux $(uname -r)"
  -meta "go=$(go env GOVERSION)" -meta "sizes=$sizes" -meta "clis=$clis" -meta "latencies=$latencies" -meta "scenarios=$scenarios"
  -meta "parallelism=$parallelism" -meta "plan_runs=$plan_runs" -meta "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  -meta "command=BENCH_SIZES=\"$sizes\" BENCH_CLIS=\"$clis\" BENCH_SCENARIOS=\"$scenarios\" BENCH_LATENCIES=\"$latencies\" BENCH_PLAN_RUNS=$plan_runs BENCH_PROFILE_RUNS=$profile_runs$outage_env make bench")
[[ -n $outage ]] && meta+=(-meta "outage_command=BENCH_SCENARIOS=outage BENCH_CLIS=\"$clis\" BENCH_LATENCIES=\"${latencies%% *}\"$outage_env BENCH_PROFILE_RUNS=0 BENCH_SKIP_GOBENCH=1 make bench")
if [[ " $scenarios " == *" graph_import "* ]]; then
  meta+=(-meta "import_command=BENCH_SCENARIOS=graph_import BENCH_SIZES=\"$sizes\" BENCH_CLIS=\"$clis\" BENCH_LATENCIES=\"$latencies\" BENCH_PLAN_RUNS=$plan_runs BENCH_PROFILE_RUNS=0 BENCH_SKIP_GOBENCH=1 make bench")
fi
for c in $clis; do meta+=(-meta "cli.$c=$("${cli_bin[$c]}" version 2>/dev/null | sed -n 1p)"); done

# Scenario outage for one CLI: per size, a fault-free apply, then rounds of a fault-free no-change plan and
# the same plan with the second tenant's token endpoint answering 503 (measure -down-tenant 2 injects
# the fault for the command and lifts it after), at the first latency in every tenant. The provider's
# retries are its default: max_retries is not in the configuration, O365_MAX_RETRIES not in the
# environment. Without -compact-warnings: measure counts the warned connections in the output.
bench_outage() {
  local c=$1 tf=$2 lat=${latencies%% *} n d dom
  local -a m domains
  read -ra domains <<<"$("$EMULATOR" info -info-file "$EMULATOR_INFO_FILE" -field tenant_domains)"
  for n in $outage_sizes; do
    d="$work/$c-outage-$n"
    mkdir -p "$d"
    "$ob" config -scenario outage -n "$n" -healthy "$outage_healthy" -url "$url" -ca "$EMULATOR_CA_FILE" -o "$d/main.tf"
    for dom in "${domains[@]}"; do
      ctl -tenant "$dom" POST /_emulator/reset # back to the seed: state, counters, faults, latency
      ctl -tenant "$dom" PUT /_emulator/latency "{\"latency\":\"${lat}ms\"}"
    done
    m=(-info-file "$EMULATOR_INFO_FILE" -results "$results" -scenario outage -healthy "$outage_healthy" -cli "$c" -n "$n"
      -latency-ms "$lat" -rss "$rss" -log "$work/$c-outage-$n.log")
    log "$c: outage: $n connections in ${domains[1]}, $outage_healthy in each other tenant: apply at $lat ms"
    (cd "$d" && env -u O365_MAX_RETRIES "$ob" measure "${m[@]}" -cmd apply -- "$tf" apply -auto-approve -input=false -no-color -parallelism=$parallelism)
    log "$c: outage: $outage_runs round(s) of a fault-free no-change plan and the same plan with ${domains[1]}'s token endpoint answering 503"
    for _ in $(seq "$outage_runs"); do
      (cd "$d" && env -u O365_MAX_RETRIES "$ob" measure "${m[@]}" -cmd plan -expect-exit 0 -- "$tf" plan -detailed-exitcode -input=false -no-color -parallelism=$parallelism)
      (cd "$d" && env -u O365_MAX_RETRIES "$ob" measure "${m[@]}" -cmd plan-down -down-tenant 2 -expect-exit 0 -- "$tf" plan -detailed-exitcode -input=false -no-color -parallelism=$parallelism)
    done
    rm -rf "$d"
  done
}

first_n=${sizes%% *}
rc=0 over_budget=() # plans that broke their request budget, once per CLI, scenario and size
declare -A over_seen
over_plan() { [[ -n ${over_seen[$1]:-} ]] || { over_seen[$1]=1; over_budget+=("$1"); }; }
for c in $clis; do
  tf=${cli_bin[$c]}
  for sc in $scenarios; do
    [[ $sc == outage ]] && continue # bench_outage, below
    budget=() # the app scenarios' plans must keep the request budget
    [[ $sc == app-* || $sc == graph_import ]] && budget=(-check-budget)
    for n in $sizes; do
      # One apply per latency, each on a fresh state (create: the full verification).
      for lat in $latencies; do
        d="$work/$c-$sc-$n-${lat}ms"
        mkdir -p "$d"
        "$ob" config -scenario "$sc" -n "$n" -url "$url" -ca "$EMULATOR_CA_FILE" -cert "$cert" -o "$d/main.tf"
        ctl POST /_emulator/reset # back to the seed, counters cleared (resets the latency too)
        ctl PUT /_emulator/latency "{\"latency\":\"${lat}ms\"}"
        if [[ $sc == target && $n == "$first_n" && -z ${schema_done[$c]:-} ]]; then
          schema_done[$c]=1
          log "$c: startup (providers schema -json)"
          "$ob" startup -results "$results" -cli "$c" -cli-bin "$tf" -dir "$d" -runs 5
        fi
        log "$c: $sc: $n connections: apply at ${lat} ms"
        (cd "$d" && "$ob" measure -info-file "$EMULATOR_INFO_FILE" -results "$results" -scenario "$sc" -cli "$c" -n "$n" -latency-ms "$lat" \
          -rss "$rss" -log "$work/$c-$sc-$n.log" -cmd apply -- "$tf" apply -auto-approve -input=false -no-color -compact-warnings -parallelism=$parallelism)
      done
      # No-change plans, alternating the latencies so that drift in the machine's load hits each alike.
      d="$work/$c-$sc-$n-${latencies%% *}ms"
      log "$c: $sc: $n connections: $plan_runs no-change plan(s) at each of ${latencies// /, } ms"
      for _ in $(seq "$plan_runs"); do
        for lat in $latencies; do
          ctl PUT /_emulator/latency "{\"latency\":\"${lat}ms\"}"
          (cd "$d" && "$ob" measure -info-file "$EMULATOR_INFO_FILE" -results "$results" -scenario "$sc" -cli "$c" -n "$n" -latency-ms "$lat" \
            -rss "$rss" -log "$work/$c-$sc-$n.log" -cmd plan -expect-exit 0 "${budget[@]}" -- "$tf" plan -detailed-exitcode -input=false -no-color -compact-warnings -parallelism=$parallelism) || rc=$?
          # measure exits 3 when the plan broke its request budget (recorded): measure the rest,
          # write the report, which shows the broken terms, and fail at the end.
          if ((rc == 3)); then over_plan "$c $sc, $n connections"; elif ((rc != 0)); then exit "$rc"; fi
          rc=0
        done
      done
      if [[ $sc == target && $n == "$max_n" ]]; then
        # The same plans with the plugin SDK's and the provider's loggers set off by hand. With
        # TF_LOG unset the provider already builds no line (main.go, internal/clilog), so these
        # show that nothing is left to save there.
        log "$c: $n connections: $plan_runs no-change plan(s) at 0 ms with TF_LOG_SDK*/TF_LOG_PROVIDER=off"
        ctl PUT /_emulator/latency '{"latency":"0ms"}'
        for _ in $(seq "$plan_runs"); do
          (cd "$d" && TF_LOG_SDK=off TF_LOG_SDK_FRAMEWORK=off TF_LOG_SDK_PROTO=off TF_LOG_PROVIDER=off \
            "$ob" measure -info-file "$EMULATOR_INFO_FILE" -results "$results" -cli "$c" -n "$n" -latency-ms 0 \
            -rss "$rss" -log "$work/$c-$sc-$n.log" -cmd plan-logoff -expect-exit 0 -- "$tf" plan -detailed-exitcode -input=false -no-color -compact-warnings -parallelism=$parallelism)
        done
      fi
      for lat in $latencies; do rm -rf "$work/$c-$sc-$n-${lat}ms"; done
    done
  done
  if [[ -n $outage ]]; then bench_outage "$c" "$tf"; fi

  # The baseline: the CLI's own cost without this provider, N built-in terraform_data resources.
  d="$work/$c-builtin"
  mkdir -p "$d"
  "$ob" config -builtin -n "$max_n" -o "$d/main.tf"
  log "$c: baseline: apply and $plan_runs no-change plan(s) of $max_n terraform_data resources"
  (cd "$d" && "$ob" measure -info-file "$EMULATOR_INFO_FILE" -results "$results" -cli "$c" -n "$max_n" -latency-ms 0 \
    -log "$work/$c-builtin.log" -cmd apply-builtin -- "$tf" apply -auto-approve -input=false -no-color -parallelism=$parallelism)
  for _ in $(seq "$plan_runs"); do
    (cd "$d" && "$ob" measure -info-file "$EMULATOR_INFO_FILE" -results "$results" -cli "$c" -n "$max_n" -latency-ms 0 \
      -log "$work/$c-builtin.log" -cmd plan-builtin -expect-exit 0 -- "$tf" plan -detailed-exitcode -input=false -no-color -parallelism=$parallelism)
  done
  rm -rf "$d"
done

# The CPU profile of the provider over no-change plans. The CLI runs cmd/o365-provider-pprof
# in the provider's place: the same provider served the same way, with runtime/pprof on.

if ((profile_runs > 0)) && [[ " $scenarios " == *" target "* ]]; then
  c=${clis%% *} n=$max_n
  tf=${cli_bin[$c]}
  prof="$bin/bench/profile" # kept: go tool pprof -top .bin/bench/profile/*.pprof
  rm -rf "$prof"
  mkdir -p "$prof" "$work/provider-pprof"
  go build -o "$work/bin/o365-provider-pprof" ./cmd/o365-provider-pprof
  cat >"$work/provider-pprof/terraform-provider-o365" <<SH
#!/bin/sh
exec "$work/bin/o365-provider-pprof" "\$@"
SH
  chmod +x "$work/provider-pprof/terraform-provider-o365"
  sed "s#\"$work/provider\"#\"$work/provider-pprof\"#" "$work/cli.tfrc" >"$work/cli-pprof.tfrc"
  d="$work/$c-$n-profile"
  mkdir -p "$d"
  "$ob" config -n "$n" -url "$url" -ca "$EMULATOR_CA_FILE" -o "$d/main.tf"
  ctl POST /_emulator/reset
  log "$c: CPU profile of the provider over $profile_runs no-change plan(s) of $n connections at 0 ms"
  (cd "$d" && "$tf" apply -auto-approve -input=false -no-color -parallelism=$parallelism >>"$work/$c-profile.log" 2>&1)
  for _ in $(seq "$profile_runs"); do
    (cd "$d" && TF_CLI_CONFIG_FILE="$work/cli-pprof.tfrc" O365_PPROF_DIR="$prof" \
      "$tf" plan -detailed-exitcode -input=false -no-color -parallelism=$parallelism >>"$work/$c-profile.log" 2>&1) ||
      { log "a profiled plan was not a no-change plan"; exit 1; }
  done
  "$ob" profile -results "$results" -cli "$c" -n "$n" -runs "$profile_runs" "$prof"/*.pprof
  rm -rf "$d"
fi

gobench="$bin/bench/gobench.txt" # kept beside the results: `o365-bench report -results R -gobench G` reruns the report alone
if [[ -z ${BENCH_SKIP_GOBENCH:-} ]]; then
  log "Go benchmarks of the hot parsers"
  go test -run '^$' -bench . -benchmem -count 1 ./internal/ews ./internal/exchange ./internal/graph ./internal/identity | tee "$gobench" >&2
else
  : >"$gobench"
fi

meta+=(-meta "load_end=$(cut -d' ' -f1-3 /proc/loadavg)")
"$ob" report -results "$results" -gobench "$gobench" "${meta[@]}" -o "$out"
log "wrote $out (raw results: $results)"
if ((${#over_budget[@]} > 0)); then
  log "failed: no-change plans over their request budget (the report shows the terms): $(printf '%s; ' "${over_budget[@]}")"
  exit 1
fi
