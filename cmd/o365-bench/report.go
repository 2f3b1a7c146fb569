package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// multiFlag collects repeated -meta key=value flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// The no-change plan's targets: requests, latency-bound time, memory and the provider's CPU.
const (
	targetReqPerConn   = 4.0
	targetLatencyRatio = 2.0
	targetRSSMiB       = 100.0
	targetCPUMsPerConn = 6.0
	floorReqPerConn    = 3
)

// routeOrder is the order of the per-route columns; other routes follow alphabetically.
var routeOrder = []string{
	"instance-discovery", "openid-configuration", "userrealm", "token",
	"exo.Get-ManagementRoleAssignment", "ews.GetFolder",
}

type runKey struct {
	sc  string // scenario
	cli string
	n   int
	lat int
	cmd string
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	resultsFile := fs.String("results", "", "results file (JSON lines)")
	gobench := fs.String("gobench", "", "output of go test -bench")
	out := fs.String("o", "", "output file (default stdout)")
	var metaFlags multiFlag
	fs.Var(&metaFlags, "meta", "key=value (repeatable)")
	_ = fs.Parse(args)
	recs, err := readRecords(*resultsFile)
	if err != nil {
		return err
	}
	// The run's description (-meta, saved with the results so `report` can be rerun alone).
	meta := map[string]string{}
	for _, r := range recs {
		if r.Kind == "meta" {
			for k, v := range r.Meta {
				meta[k] = v
			}
		}
	}
	if len(metaFlags) > 0 {
		given := map[string]string{}
		for _, kv := range metaFlags {
			k, v, _ := strings.Cut(kv, "=")
			given[k], meta[k] = v, v
		}
		if err := appendRecord(*resultsFile, record{Kind: "meta", Meta: given}); err != nil {
			return err
		}
	}
	rep := &report{meta: meta, runs: map[runKey]record{}}
	for _, r := range recs {
		switch r.Kind {
		case "run":
			if r.Scenario == scenarioOutage { // every run kept, in its own section (report_outage.go)
				rep.outage = append(rep.outage, r)
				rep.addCLI(r.CLI)
				continue
			}
			// Repeated runs of one command: the fastest wall time (the least disturbed by
			// other work on the machine), the largest peak RSS, the first run's counters.
			if r.Scenario == "" {
				r.Scenario = scenarioTarget
			}
			if r.Scenario == scenarioGraphImport && r.Cmd == "plan" {
				rep.importPlans = append(rep.importPlans, r)
			}
			k := runKey{r.Scenario, r.CLI, r.N, r.LatencyMS, r.Cmd}
			if prev, ok := rep.runs[k]; ok {
				prev.Repeats++
				prev.WallS = min(prev.WallS, r.WallS)
				prev.PeakRSSKiB = max(prev.PeakRSSKiB, r.PeakRSSKiB)
				prev.ProviderCPUS = min(prev.ProviderCPUS, r.ProviderCPUS)
				prev.CLICPUS = min(prev.CLICPUS, r.CLICPUS)
				if requests(r) != requests(prev) {
					prev.CountsVary = true
				}
				// A budget broken once is broken: keep the worst run's.
				if prev.Budget != nil && r.Budget != nil && !r.BudgetKept {
					prev.Budget, prev.BudgetKept = r.Budget, false
				}
				r = prev
			} else {
				r.Repeats = 1
			}
			rep.runs[k] = r
			rep.addCLI(r.CLI)
			rep.addScenario(r.Scenario)
			rep.addN(r.N)
			rep.addLat(r.LatencyMS)
		case "startup":
			rep.startup = append(rep.startup, r)
		case "binary":
			b := r
			rep.binary = &b
		case "profile":
			rep.profiles = append(rep.profiles, r)
		}
	}
	if len(rep.runs) == 0 && len(rep.outage) == 0 {
		return errors.New("report: no runs in " + *resultsFile)
	}
	sort.Ints(rep.ns)
	sort.Ints(rep.lats)
	if len(rep.lats) > 0 {
		rep.lat = rep.lats[len(rep.lats)-1] // 20 ms when run, else the largest
		for _, l := range rep.lats {
			if l == 20 {
				rep.lat = l
			}
		}
		rep.hasZero = rep.lats[0] == 0 && rep.lat > 0
	}
	if *gobench != "" {
		rep.gobench, err = parseGoBench(*gobench)
		if err != nil {
			return err
		}
	}
	return writeOut(*out, []byte(rep.render()))
}

type report struct {
	meta      map[string]string
	runs      map[runKey]record
	clis      []string
	scenarios []string
	ns        []int
	lats      []int
	lat       int  // the latency the latency-bound part is measured at (the largest)
	hasZero   bool // a 0 ms run exists for the floor
	startup   []record
	binary    *record
	profiles  []record
	outage    []record // scenario outage's runs, every one
	// importPlans are scenario graph_import's no-change plans, every run (its budget's explanation).
	importPlans []record
	gobench     []goBench
}

func (r *report) addCLI(c string) {
	for _, x := range r.clis {
		if x == c {
			return
		}
	}
	r.clis = append(r.clis, c)
}

func (r *report) addN(n int) {
	for _, x := range r.ns {
		if x == n {
			return
		}
	}
	r.ns = append(r.ns, n)
}

func (r *report) addLat(l int) {
	for _, x := range r.lats {
		if x == l {
			return
		}
	}
	r.lats = append(r.lats, l)
}

// get is a run of the target-connection scenario (the sections on o365_target_connection).
func (r *report) get(cli string, n, lat int, cmd string) (record, bool) {
	return r.getS(scenarioTarget, cli, n, lat, cmd)
}

func (r *report) getS(sc, cli string, n, lat int, cmd string) (record, bool) {
	x, ok := r.runs[runKey{sc, cli, n, lat, cmd}]
	return x, ok
}

// targetRan: the target scenario's apply or plan was measured (not when only the outage
// scenario ran, whose runs the CLI's baseline accompanies).
func (r *report) targetRan() bool {
	for k := range r.runs {
		if k.sc == scenarioTarget && (k.cmd == "apply" || k.cmd == "plan") {
			return true
		}
	}
	return false
}

func (r *report) addScenario(s string) {
	for _, x := range r.scenarios {
		if x == s {
			return
		}
	}
	r.scenarios = append(r.scenarios, s)
}

// requests are the Microsoft requests of a run (the control API is not counted in Total).
func requests(x record) int {
	if x.Counters == nil {
		return 0
	}
	return x.Counters.Total
}

// routes lists the routes seen in the runs of cmd in scenario sc, in routeOrder.
func (r *report) routes(sc, cmd string) []string {
	seen := map[string]bool{}
	for k, x := range r.runs {
		if k.sc != sc || k.cmd != cmd || x.Counters == nil {
			continue
		}
		for route, c := range x.Counters.ByRoute {
			if route != "control" && c > 0 {
				seen[route] = true
			}
		}
	}
	var out []string
	for _, rt := range routeOrder {
		if seen[rt] {
			out = append(out, rt)
			delete(seen, rt)
		}
	}
	var rest []string
	for rt := range seen {
		rest = append(rest, rt)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// fit is the least-squares line requests = perConn·N + perTenant over the sizes measured.
type fit struct{ perConn, perTenant float64 }

// fitRoute fits the requests of cmd on route (every route if empty); the zero fit without a run.
func (r *report) fitRoute(sc, cli, cmd, route string) fit {
	var xs, ys []float64
	for _, n := range r.ns {
		x, ok := r.getS(sc, cli, n, r.lat, cmd)
		if !ok || x.Counters == nil {
			continue
		}
		y := float64(x.Counters.Total)
		if route != "" {
			y = float64(x.Counters.ByRoute[route])
		}
		xs, ys = append(xs, float64(n)), append(ys, y)
	}
	if len(xs) == 0 {
		return fit{}
	}
	if len(xs) == 1 {
		return fit{perConn: ys[0] / xs[0]}
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	a := sxy / sxx
	return fit{perConn: a, perTenant: my - a*mx}
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func num(f float64) string {
	if math.Abs(f-math.Round(f)) < 0.005 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func (r *report) render() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.meta
	p("# Benchmarks\n\n")
	p("Generated by `make bench` (`scripts/bench.sh`, helper `cmd/o365-bench`) on %s, commit %s. Do not edit by hand: rerun it.\n\n", orDash(m["date"]), orDash(m["commit"]))
	p("A `terraform plan` over many `o365_target_connection` resources against the **emulated tenant** (`internal/emulator`),\n")
	p("which adds a fixed latency to every request and counts them per route. Every admin account already holds every\n")
	p("role the default toggles require, and a mailbox, so the plan after `apply` is a pure drift check and must be empty\n")
	p("(`plan -detailed-exitcode` exits 0, asserted). For each CLI and size: one `apply` per latency, each in a fresh\n")
	p("directory with a fresh state (the tenant reset to its seed first); then %s no-change plans per latency, alternating\n", orDash(m["plan_runs"]))
	p("the latencies so that changes in the machine's load affect both alike. The tenant's counters are reset before\n")
	p("each command and read after it.")
	if len(r.appScenarios()) > 0 {
		p(" The same for `o365_target_app_connection` resources sharing one application:\n")
		p("[Application connections](#application-connections), with each no-change plan's request budget.")
	}
	if r.importRan() {
		p(" The same for `protocol = \"graph_import\"` connections of one scoped application:\n")
		p("[Graph import connections](#graph-import-connections), with their budget.")
	}
	if len(r.outage) > 0 {
		p(" A managed-services fault, three tenants in one state and one of them unable to sign in:\n")
		p("[One tenant down](#one-tenant-down).")
	}
	p("\n\n")
	p("**Reproduce:** `%s` (both CLIs are built into `.bin/` on first use by `scripts/install-cli.sh`;\n", orDash(m["command"]))
	p("`BENCH_LATENCIES` (ms, default `20 0`) and `BENCH_OUT` are also read).\n\n")
	p("**Machine:** %s; %s; load average (1, 5, 15 min) %s at the start, %s at the end.  \n", orDash(m["machine"]), orDash(m["go"]), orDash(m["load_start"]), orDash(m["load_end"]))
	if shared(m["machine"], m["load_start"], m["load_end"]) {
		p("**The machine was shared** (a load average above its cores): other work competed for the CPU, so the wall times\n")
		p("are noisy, by up to a second or two at these sizes, and a latency-bound time can even come out negative. The\n")
		p("request counts are exact and do not depend on the load.  \n")
	}
	var cv []string
	for _, c := range r.clis {
		cv = append(cv, fmt.Sprintf("%s (`%s`)", orDash(m["cli."+c]), c))
	}
	p("**CLIs:** %s; `-parallelism=%s` (the default).\n\n", strings.Join(cv, ", "), orDash(m["parallelism"]))

	r.renderTargets(&b)
	r.renderTable(&b)
	r.renderCPU(&b)
	r.renderProfile(&b)
	r.renderOtherLatencies(&b)
	r.renderRoutes(&b, scenarioTarget, "plan")
	r.renderRoutes(&b, scenarioTarget, "apply")
	r.renderExplanation(&b)
	r.renderApp(&b)
	r.renderImport(&b)
	r.renderOutage(&b)
	r.renderStartup(&b)
	r.renderGoBench(&b)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (r *report) renderTargets(b *strings.Builder) {
	if !r.targetRan() {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	maxN := r.ns[len(r.ns)-1]
	p("## Targets\n\n")
	p("Measured on the no-change `plan` at the largest size run (%d connections), %d ms latency. \"Per connection\" is the\n", maxN, r.lat)
	p("slope of a least-squares fit of the plan's requests over the sizes run (%s), \"per tenant\" its intercept.\n\n", joinInts(r.ns))
	p("| CLI | target | measured | met? |\n|---|---|---|---|\n")
	for _, c := range r.clis {
		x, ok := r.get(c, maxN, r.lat, "plan")
		if !ok {
			continue
		}
		f := r.fitRoute(scenarioTarget, c, "plan", "")
		avg := float64(requests(x)) / float64(maxN)
		p("| %s | plan: ≤ %.0f HTTP requests per connection + a constant per tenant | %s per connection + %s per tenant (%d requests for %d connections, %.2f on average) | %s |\n",
			c, targetReqPerConn, num(f.perConn), num(f.perTenant), requests(x), maxN, avg, verdict(f.perConn <= targetReqPerConn+0.005, fmt.Sprintf("missed by %.2f per connection", f.perConn-targetReqPerConn)))
		if r.hasZero {
			if z, ok := r.get(c, maxN, 0, "plan"); ok {
				bound := x.WallS - z.WallS
				ideal := float64(requests(x)) * float64(r.lat) / 1000 / 10
				ratio := bound / ideal
				met := verdict(ratio <= targetLatencyRatio, fmt.Sprintf("missed: %.2f×", ratio))
				if bound <= 0 {
					// The 0 ms plan was the slower: other work on the machine outweighed the latency.
					met = "**not measured** (the 0 ms plan was the slower: machine load; rerun on a quiet machine)"
				}
				p("| %s | plan: latency-bound time (%d ms run − 0 ms run) within %.0f× of requests × latency ÷ 10 | %.2f s − %.2f s = %.2f s vs %.2f s: %.2f× | %s |\n",
					c, r.lat, targetLatencyRatio, x.WallS, z.WallS, bound, ideal, ratio, met)
			}
		}
		var rss int64
		for _, l := range r.lats {
			for _, cmd := range []string{"apply", "plan"} {
				if a, ok := r.get(c, maxN, l, cmd); ok {
					rss = max(rss, a.PeakRSSKiB)
				}
			}
		}
		p("| %s | provider peak RSS < %.0f MiB (plan and apply, every latency) | %.1f MiB | %s |\n", c, targetRSSMiB, mib(rss), verdict(mib(rss) < targetRSSMiB, fmt.Sprintf("missed by %.1f MiB", mib(rss)-targetRSSMiB)))
		r.renderCPUTarget(b, c, maxN)
	}
	p("\n")
}

func verdict(ok bool, miss string) string {
	if ok {
		return "yes"
	}
	return "**no** (" + miss + ")"
}

func joinInts(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
}

func (r *report) renderTable(b *strings.Builder) {
	if !r.targetRan() {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	L := r.lat
	p("## Wall time, requests, memory\n\n")
	p("*requests* are HTTP requests the tenant received during the command (control calls excluded), at %d ms.\n", L)
	if r.hasZero {
		p("*latency-bound* = wall(%d ms) − wall(0 ms); *ideal* = requests × %d ms ÷ 10 (Terraform's parallelism); *floor* =\n", L, L)
		p("wall(0 ms) + ideal (the CLI's and provider's fixed cost plus the round trips, perfectly parallel).\n")
	}
	p("*peak RSS* is the largest peak resident set of the provider processes the command started (the CLI starts\n")
	p("several: schema, validate, plan/apply), measured with `getrusage` when each exits. *runs*: a command repeated\n")
	p("in the same state (the plan; `BENCH_PLAN_RUNS`) reports its fastest wall time, the least disturbed by other\n")
	p("work on the machine, and its largest RSS.\n\n")
	if r.hasZero {
		p("| CLI | connections | command | runs | wall %d ms (s) | wall 0 ms (s) | latency-bound (s) | requests | per connection | ideal (s) | latency-bound ÷ ideal | floor (s) | wall ÷ floor | provider peak RSS (MiB) | provider processes |\n", L)
		p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		p("| CLI | connections | command | runs | wall %d ms (s) | requests | per connection | provider peak RSS (MiB) | provider processes |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n", L)
	}
	for _, c := range r.clis {
		for _, n := range r.ns {
			for _, cmd := range []string{"apply", "plan"} {
				x, ok := r.get(c, n, L, cmd)
				if !ok {
					continue
				}
				req := requests(x)
				rss := x.PeakRSSKiB
				if !r.hasZero {
					p("| %s | %d | %s | %d | %.2f | %d | %.2f | %.1f | %d |\n", c, n, cmd, x.Repeats, x.WallS, req, float64(req)/float64(n), mib(rss), x.ProviderStarts)
					continue
				}
				z, ok := r.get(c, n, 0, cmd)
				if !ok {
					continue
				}
				rss = max(rss, z.PeakRSSKiB)
				ideal := float64(req) * float64(L) / 1000 / 10
				bound := x.WallS - z.WallS
				floor := z.WallS + ideal
				reqNote := ""
				if requests(z) != req {
					reqNote = fmt.Sprintf(" (%d at 0 ms)", requests(z))
				}
				if x.CountsVary || z.CountsVary {
					reqNote += " (varies between runs)"
				}
				p("| %s | %d | %s | %d | %.2f | %.2f | %.2f | %d%s | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %d |\n",
					c, n, cmd, x.Repeats, x.WallS, z.WallS, bound, req, reqNote, float64(req)/float64(n), ideal, bound/ideal, floor, x.WallS/floor, mib(rss), x.ProviderStarts)
			}
		}
	}
	p("\n")
}

func (r *report) renderRoutes(b *strings.Builder, sc, cmd string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	routes := r.routes(sc, cmd)
	if len(routes) == 0 {
		return
	}
	title := map[string]string{"plan": "no-change `plan` (the drift check)", "apply": "`apply` (create: full verification)"}[cmd]
	if sc == scenarioTarget {
		p("### Requests per connection by route: %s\n\n", title)
	} else {
		p("#### `%s`: requests per connection by route: %s\n\n", sc, title)
	}
	if sc == scenarioTarget {
		p("Requests on the route ÷ connections, at %d ms. The last rows are the fit over the sizes: requests = *per connection* × N + *per tenant*.\n\n", r.lat)
	}
	p("| CLI | connections |")
	for _, rt := range routes {
		p(" `%s` |", rt)
	}
	p(" total |\n|---|---:|")
	for range routes {
		p("---:|")
	}
	p("---:|\n")
	for _, c := range r.clis {
		for _, n := range r.ns {
			x, ok := r.getS(sc, c, n, r.lat, cmd)
			if !ok || x.Counters == nil {
				continue
			}
			p("| %s | %d |", c, n)
			for _, rt := range routes {
				p(" %.2f |", float64(x.Counters.ByRoute[rt])/float64(n))
			}
			p(" %.2f |\n", float64(x.Counters.Total)/float64(n))
		}
		if len(r.ns) > 1 {
			p("| %s | *per connection* |", c)
			for _, rt := range routes {
				f := r.fitRoute(sc, c, cmd, rt)
				p(" %s |", num(f.perConn))
			}
			f := r.fitRoute(sc, c, cmd, "")
			p(" %s |\n", num(f.perConn))
			p("| %s | *per tenant* |", c)
			for _, rt := range routes {
				f := r.fitRoute(sc, c, cmd, rt)
				p(" %s |", num(f.perTenant))
			}
			f = r.fitRoute(sc, c, cmd, "")
			p(" %s |\n", num(f.perTenant))
		}
	}
	p("\n")
}

// routeNotes explains each route of the drift check and of create.
var routeNotes = map[string][2]string{
	"openid-configuration": {
		"azidentity/MSAL resolves the authority (`https://<login>/<domain>/v2.0/.well-known/openid-configuration`, WIRE §A4) before the first token of each credential. MSAL caches it per *client*, and azidentity makes one client per credential, so unshared it costs one request per account.",
		"Yes, per authority (host + tenant): `internal/identity/discovery.go` shares it among all credentials of the provider process. Now once per tenant per process.",
	},
	"userrealm": {
		"MSAL's home realm discovery (`GET /common/UserRealm/<upn>`, WIRE §A5) before every password grant, to choose between the managed (ROPC) and federated (WS-Trust) paths.",
		"Yes, per UPN domain (realm discovery is decided by the domain): shared by the same transport. Now once per domain per process. It cannot be skipped: MSAL always asks.",
	},
	"token": {
		"The password grant for the account (Exchange scope; EWS and the admin API share the resource). Part of the floor.",
		"Already cached per credential and scope for the process; a token cannot be shared between accounts, and a provider process lives for one CLI command, so each plan pays one per account.",
	},
	"exo.Get-ManagementRoleAssignment": {
		"One `InvokeCommand` per account reads every role assignment (direct and through role groups). Part of the floor.",
		"No: it is the drift check itself.",
	},
	"ews.GetFolder": {
		"The drift check and `apply` impersonate the admin's own mailbox (one call proves EWS access and impersonation). Only when impersonation is denied does `apply` also open the own mailbox, so an account without a mailbox fails before any role is assigned, and then poll until new roles take effect. Part of the floor.",
		"No.",
	},
	"instance-discovery": {
		"MSAL's instance discovery; switched off (`DisableInstanceDiscovery`) because the hosts are given explicitly.",
		"—",
	},
}

func (r *report) renderExplanation(b *strings.Builder) {
	if !r.targetRan() {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Where the requests come from\n\n")
	p("The floor of a drift check is **%d requests per connection**: one token, one role read, one EWS check. Anything beyond\n", floorReqPerConn)
	p("it comes from the identity library's discovery, which the provider now shares across accounts:\n\n")
	p("| route | why | can it be cached? |\n|---|---|---|\n")
	seen := map[string]bool{}
	for _, cmd := range []string{"plan", "apply"} {
		for _, rt := range r.routes(scenarioTarget, cmd) {
			if seen[rt] {
				continue
			}
			seen[rt] = true
			n, ok := routeNotes[rt]
			if !ok {
				n = [2]string{"(not expected with the default toggles)", "—"}
			}
			p("| `%s` | %s | %s |\n", rt, n[0], n[1])
		}
	}
	p("\n")
	p("Before `internal/identity/discovery.go`, a no-change plan cost **5 requests per connection** (openid-configuration\n")
	p("and UserRealm once per account, because MSAL's metadata cache lives in each credential's client); sharing both\n")
	p("per authority and per domain brings it to 3 per connection plus 2 per tenant (per provider process). Directory\n")
	p("roles (Graph `memberOf`) are read only when `user_management_role = true`, so Graph is never called here. The\n")
	p("token is the one request per account that cannot be shared: the provider process lives for one CLI command,\n")
	p("and a persistent token cache on disk would store refresh tokens outside Terraform's state — not done on purpose.\n\n")
	r.renderApplyExplanation(b)
	p("**Reading the latency-bound column.** requests × latency ÷ 10 is the time the round trips take if the CLI keeps\n")
	p("10 of them in flight and nothing else happens meanwhile; the floor adds it to the 0 ms run. On this 2-core\n")
	p("machine the 0 ms run is CPU-bound (CLI, provider and emulated tenant share the cores), and with latency the\n")
	p("waiting of 10 connections overlaps with the CPU work of the others, so the measured latency-bound part is\n")
	p("*below* the ideal and the wall time below the floor (ratio < 1). Each connection's requests are sequential\n")
	p("(token → role read → EWS: 3 × latency), so the minimum a plan of N connections can take at parallelism 10 is\n")
	p("N ÷ 10 × 3 × latency — the same number. A ratio above 1 would mean requests waiting on something other than\n")
	p("the tenant (a lock, a pool of connections, a serialised token cache); a run at a larger latency\n")
	p("(`BENCH_LATENCIES=\"20 0 100\"`, table *Other latencies* when present) shows the round trips dominating. At\n")
	p("10 connections (a single wave) the ratio can exceed 1: the shared discovery (openid-configuration, then\n")
	p("UserRealm) is on the first wave's critical path, 5 × latency instead of 3, while the per-request formula spreads\n")
	p("those two requests over all connections. Differences of a few hundred milliseconds at the small sizes are noise.\n\n")
}

func (r *report) renderStartup(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Startup\n\n")
	p("| measure | value |\n|---|---:|\n")
	if r.binary != nil {
		p("| provider binary size | %.1f MiB (%d bytes) |\n", float64(r.binary.SizeBytes)/(1<<20), r.binary.SizeBytes)
		p("| exec → plugin handshake (the provider is serving), median of 5 | %.0f ms |\n", r.binary.HandshakeS*1000)
	}
	for _, s := range r.startup {
		p("| `%s providers schema -json` (CLI start, provider start, schema, stop), median of 5 | %.0f ms |\n", s.CLI, s.SchemaS*1000)
	}
	p("\n")
}

type goBench struct {
	pkg, name, ns, bytes, allocs, extra string
}

func parseGoBench(path string) ([]goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []goBench
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pkg: ") {
			pkg = strings.TrimPrefix(line, "pkg: ")
			if i := strings.Index(pkg, "/internal/"); i >= 0 {
				pkg = pkg[i+1:]
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 4 {
			continue
		}
		g := goBench{pkg: pkg, name: fs[0]}
		for i := 2; i+1 < len(fs); i += 2 {
			switch fs[i+1] {
			case "ns/op":
				g.ns = fs[i]
			case "B/op":
				g.bytes = fs[i]
			case "allocs/op":
				g.allocs = fs[i]
			default:
				g.extra += fs[i] + " " + fs[i+1] + " "
			}
		}
		out = append(out, g)
	}
	return out, sc.Err()
}

func (r *report) renderGoBench(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	if len(r.gobench) == 0 {
		return
	}
	p("## Go benchmarks of the hot parsers\n\n")
	p("`go test -run '^$' -bench . -benchmem ./internal/ews ./internal/exchange ./internal/graph ./internal/identity`\n\n")
	p("| package | benchmark | ns/op | B/op | allocs/op |\n|---|---|---:|---:|---:|\n")
	for _, g := range r.gobench {
		p("| %s | %s | %s | %s | %s |\n", g.pkg, g.name, orDash(g.ns), orDash(g.bytes), orDash(g.allocs))
	}
	p("\n")
}

// renderOtherLatencies shows the latency-bound time at latencies other than the main one
// (BENCH_LATENCIES="100 20 0"): it should grow with requests × latency ÷ 10.
func (r *report) renderOtherLatencies(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	var others []int
	for _, l := range r.lats {
		if l != 0 && l != r.lat {
			others = append(others, l)
		}
	}
	if len(others) == 0 || !r.hasZero {
		return
	}
	p("### Other latencies\n\n")
	p("| CLI | connections | command | latency (ms) | wall (s) | wall 0 ms (s) | latency-bound (s) | requests | ideal (s) | latency-bound ÷ ideal |\n")
	p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.clis {
		for _, n := range r.ns {
			for _, cmd := range []string{"apply", "plan"} {
				for _, l := range others {
					x, ok1 := r.get(c, n, l, cmd)
					z, ok2 := r.get(c, n, 0, cmd)
					if !ok1 || !ok2 {
						continue
					}
					ideal := float64(requests(x)) * float64(l) / 1000 / 10
					p("| %s | %d | %s | %d | %.2f | %.2f | %.2f | %d | %.2f | %.2f |\n", c, n, cmd, l, x.WallS, z.WallS, x.WallS-z.WallS, requests(x), ideal, (x.WallS-z.WallS)/ideal)
				}
			}
		}
	}
	p("\n")
}

// renderApplyExplanation says why a create's apply of target connections costs more than
// the no-change plan, with the measured fit.
func (r *report) renderApplyExplanation(b *strings.Builder) {
	if !r.targetRan() {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("**Why `apply` (create) costs more than the plan.** Measured (fit over the sizes):")
	for _, c := range r.clis {
		if _, ok := r.get(c, r.ns[len(r.ns)-1], r.lat, "apply"); !ok {
			continue
		}
		a, pl := r.fitRoute(scenarioTarget, c, "apply", ""), r.fitRoute(scenarioTarget, c, "plan", "")
		p(" %s: apply %s per connection + %s per tenant, plan %s + %s.", c, num(a.perConn), num(a.perTenant), num(pl.perConn), num(pl.perTenant))
	}
	p("\nThe plan-time diagnosis (DESIGN §7.4, `target_connection_diagnosis.go`) tries every *new* connection once\n")
	p("while planning: a token and one EWS call. `terraform apply` plans in one provider process and applies in\n")
	p("another, and the apply process plans each resource again (PlanResourceChange) before creating it, so the try\n")
	p("runs twice: 2 tokens (one per process; the token is cached within a process) and 2 EWS calls; then the create\n")
	p("reads the roles and checks impersonation (1 role read, 1 EWS call, the token cached): 6 per connection. Both\n")
	p("processes discover the authority and the realm once: 4 per tenant. The accounts here already hold every role,\n")
	p("so no role is assigned and the create never waits for one. Before the diagnosis a create cost 3 per\n")
	p("connection + 2 per tenant, as the plan does. The no-change plan is unchanged: an existing connection is never\n")
	p("tried, only read (its refresh), and its ModifyPlan finds nothing to do.\n\n")
}

// shared tells from the run's description whether a 1-minute load average at its start or end
// exceeded the machine's cores ("…, 2 cores, …").
func shared(machine string, loads ...string) bool {
	var cores int
	for _, f := range strings.Split(machine, ",") {
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d cores", &cores); err == nil {
			break
		}
	}
	if cores == 0 {
		return false
	}
	for _, l := range loads {
		var one float64
		if _, err := fmt.Sscanf(l, "%g", &one); err == nil && one > float64(cores) {
			return true
		}
	}
	return false
}
