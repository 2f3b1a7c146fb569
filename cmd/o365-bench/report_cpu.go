package main

import (
	"fmt"
	"sort"
	"strings"
)

// renderCPU: the provider's CPU time per connection on the no-change plan, beside the CLI's
// own and the baseline (the same CLI planning as many built-in terraform_data resources).
func (r *report) renderCPU(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	found := false
	for k, x := range r.runs {
		if k.cmd == "plan" && x.ProviderCPUS > 0 {
			found = true
		}
	}
	if !found {
		return
	}
	p("## CPU time of a no-change plan\n\n")
	p("*provider CPU* is the user + system time of the provider processes the plan started (`getrusage` as each exits);\n")
	p("*CLI CPU* the plan's whole CPU time minus the provider's; both the least of the repeated plans. *Baseline*: the\n")
	p("same CLI's whole CPU time for a no-change plan of as many built-in `terraform_data` resources (no provider at all),\n")
	p("the least of %s plans, at the largest size. *Loggers off*: the same plans at 0 ms with `TF_LOG_SDK`,\n", orDash(r.meta["plan_runs"]))
	p("`TF_LOG_SDK_FRAMEWORK`, `TF_LOG_SDK_PROTO` and `TF_LOG_PROVIDER` set to `off` (see the profile below), at the largest size;\n")
	p("the provider already builds no log line when the CLI shows none, so these equal the plans beside them within the noise.\n\n")
	p("| CLI | connections | latency (ms) | provider CPU (s) | provider CPU per connection (ms) | CLI CPU (s) | baseline: plan of as many `terraform_data` (s) | loggers off: provider CPU per connection (ms) | loggers off: CLI CPU (s) |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.clis {
		for _, n := range r.ns {
			base := "—"
			if x, ok := r.get(c, n, 0, "plan-builtin"); ok && x.CLICPUS > 0 {
				base = fmt.Sprintf("%.2f", x.CLICPUS)
			}
			for _, l := range r.lats {
				x, ok := r.get(c, n, l, "plan")
				if !ok || x.ProviderCPUS == 0 {
					continue
				}
				cli := "—"
				if x.CLICPUS > 0 {
					cli = fmt.Sprintf("%.2f", x.CLICPUS-x.ProviderCPUS)
				}
				offProv, offCLI := "—", "—"
				if o, ok := r.get(c, n, l, "plan-logoff"); ok && o.ProviderCPUS > 0 {
					offProv = fmt.Sprintf("%.1f", 1000*o.ProviderCPUS/float64(n))
					offCLI = fmt.Sprintf("%.2f", o.CLICPUS-o.ProviderCPUS)
				}
				p("| %s | %d | %d | %.2f | %.1f | %s | %s | %s | %s |\n", c, n, l, x.ProviderCPUS, 1000*x.ProviderCPUS/float64(n), cli, base, offProv, offCLI)
			}
		}
	}
	p("\n")
}

// renderProfile: how the provider's CPU time splits, from the CPU profiles.
func (r *report) renderProfile(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	for _, rec := range r.profiles {
		s := rec.Profile
		if s == nil || s.CPUS == 0 {
			continue
		}
		p("## Where the provider's CPU time goes (CPU profile)\n\n")
		p("From `runtime/pprof` CPU profiles of every provider process of %d no-change plans of %d connections at 0 ms on\n", rec.Runs, rec.N)
		p("`%s` (%d processes, %d samples, %.2f s of CPU, %.1f ms per connection and plan). The provider the CLI runs for\n", rec.CLI, s.Files, s.Samples, s.CPUS, 1000*s.CPUS/float64(max(rec.N*rec.Runs, 1)))
		p("these plans is `cmd/o365-provider-pprof`: the same `provider.New` served the same way as the release binary,\n")
		p("plus `pprof.StartCPUProfile` around it; the provider has no profiling code path. The profiles stay in\n")
		p("`.bin/bench/profile/` (`go tool pprof -top -cum .bin/bench/profile/*.pprof`).\n\n")
		p("*Attributed*: each sample goes to the innermost frame on its stack outside Go's runtime and standard library, so\n")
		p("the JSON encoding inside a logger counts as logging and the TLS under this project's HTTP call as this project;\n")
		p("a sample with no such frame goes to the goroutine's entry point (a GC worker: the runtime; net/http's connection\n")
		p("loops: the standard library). *Flat*: each sample to the frame where the CPU actually ran.\n\n")
		p("| part | attributed (s) | attributed share | flat (s) | flat share |\n|---|---:|---:|---:|---:|\n")
		names := map[string]bool{}
		for k := range s.ByGroup {
			names[k] = true
		}
		for k := range s.FlatByGroup {
			names[k] = true
		}
		var order []string
		for k := range names {
			order = append(order, k)
		}
		sort.Slice(order, func(i, j int) bool {
			if s.ByGroup[order[i]] != s.ByGroup[order[j]] {
				return s.ByGroup[order[i]] > s.ByGroup[order[j]]
			}
			return order[i] < order[j]
		})
		for _, k := range order {
			p("| %s | %.2f | %.0f%% | %.2f | %.0f%% |\n", k, s.ByGroup[k], 100*s.ByGroup[k]/s.CPUS, s.FlatByGroup[k], 100*s.FlatByGroup[k]/s.CPUS)
		}
		p("\n")
		p("No `TF_LOG` is set, so the CLI shows no provider log line, and the provider builds none: it sets the plugin SDK's\n")
		p("loggers (`TF_LOG_SDK`, `TF_LOG_SDK_PROTO`, `TF_LOG_SDK_FRAMEWORK`, `TF_LOG_PROVIDER_O365`) to `OFF` and gives its API\n")
		p("clients no logger (`main.go`, `internal/clilog`). What logging remains is terraform-plugin-go's per-request logger\n")
		p("set-up (a root logger and its fields for every request) and the framework's per-attribute logger fields, which\n")
		p("neither can switch off.\n\n")
		p("Most of the rest is the plugin framework's own work per resource, which this provider cannot change: for a plan it\n")
		p("rewrites the whole planned object once per top-level attribute (`SchemaModifyPlan` calls `SetAttribute` for each,\n")
		p("each a `tftypes.Transform` of the object), and a refresh compares every attribute for semantic equality; the\n")
		p("garbage this leaves is what the Go runtime's share collects. The provider collects it a quarter as often as Go's\n")
		p("default (`GOGC` 400 with a 64 MiB soft memory limit, `main.go`; a `GOGC` or `GOMEMLIMIT` in the environment wins).\n\n")
		if len(s.ProjectLeafGroups) > 0 {
			p("Of the time attributed to this project, where the CPU ran: ")
			var parts []string
			for _, k := range sortedKeys(s.ProjectLeafGroups) {
				parts = append(parts, fmt.Sprintf("%s %.2f s", k, s.ProjectLeafGroups[k]))
			}
			p("%s.\n\n", strings.Join(parts, ", "))
		}
		fnTable := func(title string, rows []fnTime) {
			if len(rows) == 0 {
				return
			}
			p("%s\n\n| function | s | share of the provider's CPU |\n|---|---:|---:|\n", title)
			for _, f := range rows {
				p("| `%s` | %.2f | %.1f%% |\n", strings.TrimPrefix(f.Func, "github.com/o365-terraform/terraform-provider-o365/"), f.S, 100*f.S/s.CPUS)
			}
			p("\n")
		}
		fnTable("This project's functions by cumulative time (on the stack of the sample at all; paths below the module):", s.ProjectCum)
		fnTable("This project's functions by attributed time (the innermost project frame of the samples attributed to it):", s.ProjectSelf)
		fnTable("Who calls the logger (the first frame outside logging, the runtime and the standard library, for the samples attributed to logging):", s.LoggingCallers)
	}
}

func sortedKeys(m map[string]float64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

// renderCPUTarget: the provider's CPU time per connection of the no-change plan at size n, the
// target row; the verdict is on the largest over the latencies run (the CPU does not depend on
// the latency, so the larger one is the noisier, not the truer).
func (r *report) renderCPUTarget(b *strings.Builder, c string, n int) {
	var parts []string
	worst := -1.0
	for _, l := range r.lats {
		x, ok := r.get(c, n, l, "plan")
		if !ok || x.ProviderCPUS == 0 {
			continue
		}
		ms := 1000 * x.ProviderCPUS / float64(n)
		parts = append(parts, fmt.Sprintf("%.1f ms at %d ms latency", ms, l))
		worst = max(worst, ms)
	}
	if worst < 0 {
		return
	}
	fmt.Fprintf(b, "| %s | provider CPU ≤ %.0f ms per connection (no-change plan, %d connections) | %s | %s |\n",
		c, targetCPUMsPerConn, n, strings.Join(parts, "; "), verdict(worst <= targetCPUMsPerConn, fmt.Sprintf("missed by %.1f ms", worst-targetCPUMsPerConn)))
}
