package main

import (
	"fmt"
	"sort"
	"strings"
)

// The no-change plans scripts/bench.sh measures in scenario outage (-cmd of measure).
const (
	outageCmdPlan = "plan"      // fault-free no-change plan
	outageCmdDown = "plan-down" // the same plan with the down tenant's token endpoint answering 503
)

// outageGroup is every run of scenario outage for one CLI and size.
type outageGroup struct {
	cli        string
	n          int
	plan, down []record
	latency    int
	healthy    int // connections in each healthy tenant
}

// outageGroups sorts the outage runs by CLI (the report's order) and size.
func (r *report) outageGroups() []*outageGroup {
	by := map[string]map[int]*outageGroup{}
	for _, x := range r.outage {
		if by[x.CLI] == nil {
			by[x.CLI] = map[int]*outageGroup{}
		}
		g := by[x.CLI][x.N]
		if g == nil {
			g = &outageGroup{cli: x.CLI, n: x.N, latency: x.LatencyMS}
			by[x.CLI][x.N] = g
		}
		switch x.Cmd {
		case outageCmdPlan:
			g.plan = append(g.plan, x)
		case outageCmdDown:
			g.down = append(g.down, x)
		}
		for k, t := range x.Tenants {
			if k+1 != outageDownTenant {
				g.healthy = t.Connections
				break
			}
		}
	}
	var out []*outageGroup
	for _, c := range r.clis {
		var ns []int
		for n := range by[c] {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		for _, n := range ns {
			out = append(out, by[c][n])
		}
	}
	return out
}

// walls are the runs' wall times, sorted.
func walls(rs []record) []float64 {
	var w []float64
	for _, x := range rs {
		w = append(w, x.WallS)
	}
	sort.Float64s(w)
	return w
}

// spread is "median (min–max)" of the runs' wall times, or the one time.
func spread(rs []record) string {
	w := walls(rs)
	switch len(w) {
	case 0:
		return "—"
	case 1:
		return fmt.Sprintf("%.2f", w[0])
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(w), w[0], w[len(w)-1])
}

// intRange is "a" or "a–b" over the values.
func intRange(xs []int) string {
	if len(xs) == 0 {
		return "—"
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

// downTokens are the token requests the down tenant received in each run (in a fault-free
// run, the tenant that is down in the others).
func downTokens(rs []record) []int {
	var out []int
	for _, x := range rs {
		for k, t := range x.Tenants {
			if t.Down || (k+1 == outageDownTenant && !anyDown(x)) {
				out = append(out, t.tokens())
			}
		}
	}
	return out
}

func anyDown(x record) bool {
	for _, t := range x.Tenants {
		if t.Down {
			return true
		}
	}
	return false
}

// tally is the least, over the runs, of the connections verified (or warned about) in the
// tenants that are (or are not) down, and the connections there.
func tally(rs []record, down bool, count func(tenantRun) int) (least, of int) {
	least = -1
	for _, x := range rs {
		got, conns := 0, 0
		for _, t := range x.Tenants {
			if t.Down == down {
				got, conns = got+count(t), conns+t.Connections
			}
		}
		if least < 0 || got < least {
			least = got
		}
		of = conns
	}
	return max(least, 0), of
}

func exits(rs []record) string {
	var e []int
	for _, x := range rs {
		e = append(e, x.Exit)
	}
	return intRange(e)
}

// renderOutage is the fault scenario's section: per CLI and size, the fault-free no-change
// plan beside the same plan with one tenant's sign-in down, against the bound on its time.
func (r *report) renderOutage(b *strings.Builder) {
	groups := r.outageGroups()
	if len(groups) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	_, downDomain, _ := benchTenant(outageDownTenant)
	var healthyDomains []string
	for k := 1; k <= outageTenantCount; k++ {
		if k != outageDownTenant {
			_, d, _ := benchTenant(k)
			healthyDomains = append(healthyDomains, "`"+d+"`")
		}
	}
	g0 := groups[0]
	worst := outageWorstBackoff().Seconds()
	p("## One tenant down\n\n")
	p("A managed-services state: %d benchmark tenants in one configuration, served by one emulator. N\n", outageTenantCount)
	p("`o365_target_connection` resources in `%s` and %d in each of %s, every admin holding its\n", downDomain, g0.healthy, strings.Join(healthyDomains, " and "))
	p("roles; `max_retries` unset (the provider's default, %d retries with a full-jitter back-off). For each CLI and N:\n", outageDefaultRetries)
	p("one fault-free `apply`, then rounds of a fault-free no-change `plan -detailed-exitcode` and the same plan while\n")
	p("`%s`'s token endpoint answers every request with 503 (`%s`, unlimited), at %d ms latency in\n", downDomain, outageFault, g0.latency)
	p("every tenant. Each plan must exit 0 (no change: a drift check of a tenant that cannot be reached warns and keeps\n")
	p("the state), every connection of the healthy tenants must have been checked (its roles read and its EWS access\n")
	p("checked, from the tenants' counters per account), and each of the down tenant's connections must have been\n")
	p("warned about (the CLI's output); the bench fails otherwise. **Target:** the plan with one tenant down ends\n")
	p("within %.0f s at every N, and its time does not grow with N.\n\n", outageTargetS)
	if c := r.meta["outage_command"]; c != "" {
		p("**Reproduce this section alone:** `%s` (writes every section it measured; point `BENCH_OUT` elsewhere to keep\n", c)
		p("BENCHMARKS.md).\n\n")
	}
	p("Wall times are the median of the runs (the fastest–slowest in brackets); the verdict is on the slowest.\n")
	p("*outage's cost* = median of the plans with the tenant down − median of the fault-free plans.\n\n")
	p("| CLI | connections in the down tenant | runs | fault-free plan (s) | one tenant down (s) | outage's cost (s) | ≤ %.0f s? | exit | token requests to `%s`: fault-free / down | healthy tenants' connections verified | down tenant's connections warned about |\n", outageTargetS, downDomain)
	p("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	cost := map[string]map[int]float64{}
	for _, g := range groups {
		if len(g.down) == 0 {
			continue
		}
		dw, pw := walls(g.down), walls(g.plan)
		c := "—"
		if len(pw) > 0 {
			if cost[g.cli] == nil {
				cost[g.cli] = map[int]float64{}
			}
			cost[g.cli][g.n] = median(dw) - median(pw)
			c = fmt.Sprintf("%.2f", cost[g.cli][g.n])
		}
		slow := dw[len(dw)-1]
		ver, verOf := tally(g.down, false, func(t tenantRun) int { return t.Verified })
		warn, warnOf := tally(g.down, true, func(t tenantRun) int { return t.Warned })
		p("| %s | %d | %d | %s | %s | %s | %s | %s | %s / %s | %d of %d | %d of %d |\n",
			g.cli, g.n, len(g.down), spread(g.plan), spread(g.down), c,
			verdict(slow <= outageTargetS, fmt.Sprintf("slowest %.1f s", slow)), exits(g.down),
			intRange(downTokens(g.plan)), intRange(downTokens(g.down)), ver, verOf, warn, warnOf)
	}
	p("\n")
	for _, c := range r.clis {
		var ns []int
		for n := range cost[c] {
			ns = append(ns, n)
		}
		if len(ns) < 2 {
			continue
		}
		sort.Ints(ns)
		lo, hi := ns[0], ns[len(ns)-1]
		d := cost[c][hi] - cost[c][lo]
		p("**%s:** from %d to %d connections in the down tenant the outage's cost went from %.2f s to %.2f s (%+.2f s,\n", c, lo, hi, cost[c][lo], cost[c][hi], d)
		p("%+.0f ms per added connection).\n", 1000*d/float64(hi-lo))
	}
	p("\n")
	p("**Why it is bounded.** The provider shares each tenant's health among the calls of its process\n")
	p("(`internal/transport/health.go`): the first call that finds the tenant's sign-in failing retries it under the\n")
	p("default policy; the tenant's other calls wait for its next attempt, and once two attempts in a row have failed\n")
	p("its drift checks (every call of a plan) fail at once with its diagnosis while it retries, and every call does\n")
	p("for 30 s after it gives up. So the outage costs one call's retries whatever N: %d back-offs,\n", outageDefaultRetries)
	p("each a random wait up to 0.5, 1, 2, 4 and 8 s, at most %.1f s in all (%.2f s on average), plus the\n", worst, worst/2)
	p("attempts themselves; that randomness, not N, is what moves the cost from run to run. The token requests to the\n")
	p("down tenant are the first attempt of each connection that asked before the first failure was known, plus the\n")
	p("retries; they do not grow with N either. Before the shared health each connection ran its own retries, one\n")
	p("after another: 329 s for 10 connections and still running after 600 s for 100.\n\n")
	p("**The healthy tenants do not wait.** The CLI runs at most %s calls at a time (`-parallelism`). The down\n", orDash(r.meta["parallelism"]))
	p("tenant's calls give their slot back as soon as its sign-in has failed twice in a row (they do not wait for the\n")
	p("end of the retries), so the healthy tenants' checks run during the retries and the plan takes about the larger\n")
	p("of the retries and the rest of its work. (An earlier version made them wait for the whole retry series; with N\n")
	p("at or above the parallelism they held every slot and the healthy checks waited for the retries to end.) Every\n")
	p("healthy connection is checked (the table above).\n\n")

	p("### Requests per tenant\n\n")
	p("Token requests and role reads (`exo.Get-ManagementRoleAssignment`, one per checked connection) per tenant, from\n")
	p("the first run of each plan; *all* is every Microsoft request to the three tenants.\n\n")
	p("| CLI | connections in the down tenant | plan |")
	for k := 1; k <= outageTenantCount; k++ {
		_, d, _ := benchTenant(k)
		p(" `%s`: tokens / role reads |", d)
	}
	p(" all | provider processes |\n|---|---:|---|")
	for k := 1; k <= outageTenantCount; k++ {
		p("---:|")
	}
	p("---:|---:|\n")
	for _, g := range groups {
		for _, pl := range []struct {
			name string
			rs   []record
		}{{"fault-free", g.plan}, {"one tenant down", g.down}} {
			if len(pl.rs) == 0 || len(pl.rs[0].Tenants) != outageTenantCount {
				continue
			}
			x := pl.rs[0]
			p("| %s | %d | %s |", g.cli, g.n, pl.name)
			for _, t := range x.Tenants {
				p(" %d / %d |", t.tokens(), t.Counters.ByRoute["exo.Get-ManagementRoleAssignment"])
			}
			p(" %d | %d |\n", requests(x), x.ProviderStarts)
		}
	}
	p("\n")
}
