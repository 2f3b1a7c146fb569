package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/cmd/internal/emuctl"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/provider"
)

// The outage configuration: N connections in the second tenant, the healthy count in the
// first and third, and the provider's retries left at their default.
func TestOutageConfig(t *testing.T) {
	cfg, err := renderOutageConfig(7, 3, "https://127.0.0.1:1", "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, m := range regexp.MustCompile(`"admin\d{4}@([^"]+)" = "`).FindAllStringSubmatch(cfg, -1) {
		per[m[1]]++
	}
	want := map[string]int{"bench.onmicrosoft.com": 3, "bench2.onmicrosoft.com": 7, "bench3.onmicrosoft.com": 3}
	for d, n := range want {
		if per[d] != n {
			t.Errorf("%s: %d connections, want %d (all: %v)", d, per[d], n, per)
		}
	}
	if len(per) != len(want) {
		t.Errorf("tenants in the configuration: %v", per)
	}
	if regexp.MustCompile(`max_retries\s*=`).MatchString(cfg) || !strings.Contains(cfg, `resource "o365_target_connection" "bench"`) {
		t.Errorf("the outage configuration sets max_retries or has no target connections:\n%s", cfg)
	}
	if _, err := renderOutageConfig(0, 3, "u", "c"); err == nil {
		t.Error("no connection in the failing tenant: no error")
	}
	if _, err := renderOutageConfig(3, 0, "u", "c"); err == nil {
		t.Error("no connection in the healthy tenants: no error")
	}
	out := filepath.Join(t.TempDir(), "main.tf")
	if err := cmdConfig([]string{"-scenario", scenarioOutage, "-n", "7", "-healthy", "3", "-url", "https://127.0.0.1:1", "-ca", "/ca.pem", "-o", out}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != cfg {
		t.Errorf("config -scenario outage wrote another configuration:\n%s", b)
	}
}

// The report's explanation counts on the provider's default retries and back-off.
func TestOutageDefaults(t *testing.T) {
	if outageDefaultRetries != provider.DefaultMaxRetries {
		t.Errorf("outageDefaultRetries = %d, the provider's default is %d", outageDefaultRetries, provider.DefaultMaxRetries)
	}
	if got := outageWorstBackoff(); got != 15500*time.Millisecond {
		t.Errorf("worst back-off of the default retries = %s, want 15.5s (0.5 + 1 + 2 + 4 + 8)", got)
	}
}

// The warned connections are read from the CLI's diagnostics, plain (-no-color) and framed.
func TestWarnedConnections(t *testing.T) {
	plain := `
Warning: Provider development overrides are in effect

The following provider development overrides are set in the CLI
configuration:
o365_target_connection.bench["admin0001@bench2.onmicrosoft.com"]: Refreshing state... [id=worldwide/admin0001@bench2.onmicrosoft.com]

No changes. Your infrastructure matches the configuration.

Warning: Drift check skipped: Cannot sign in admin0006@bench2.onmicrosoft.com: the sign-in service of tenant bench2.onmicrosoft.com is unavailable

  with o365_target_connection.bench["admin0006@bench2.onmicrosoft.com"],
The sign-in service (token endpoint) of tenant bench2.onmicrosoft.com is
unavailable

Error: Cannot sign in

  with o365_target_connection.bench["admin0007@bench2.onmicrosoft.com"],
  on main.tf line 40

Warning: Drift check skipped: Cannot sign in Admin0003@Bench2.onmicrosoft.com

  with o365_target_connection.bench["Admin0003@Bench2.onmicrosoft.com"],
`
	framed := `╷
│ Warning: Drift check skipped: Cannot sign in admin0009@bench2.onmicrosoft.com
│ 
│   with o365_target_connection.bench["admin0009@bench2.onmicrosoft.com"],
│   on main.tf line 136, in resource "o365_target_connection" "bench":
╵
`
	got := warnedConnections([]byte(plain + framed))
	want := []string{"admin0006@bench2.onmicrosoft.com", "admin0003@bench2.onmicrosoft.com", "admin0009@bench2.onmicrosoft.com"}
	if len(got) != len(want) {
		t.Errorf("warned = %v, want %v", got, want)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("%s not warned about (got %v)", w, got)
		}
	}
	if got["admin0007@bench2.onmicrosoft.com"] || got["admin0001@bench2.onmicrosoft.com"] {
		t.Errorf("an error or a progress line counted as a warning: %v", got)
	}
}

// perUser are counters in which each of the tenant's first n admins made the given requests.
func perUser(k, n int, routes ...string) emulator.Counters {
	c := emulator.Counters{ByRoute: map[string]int{}, ByUser: map[string]int{}, ByRouteUser: map[string]map[string]int{}}
	for _, r := range routes {
		c.ByRouteUser[r] = map[string]int{}
		for i := 1; i <= n; i++ {
			upn, _ := benchUserOf(k, i)
			c.ByRouteUser[r][upn]++
			c.ByRoute[r]++
			c.ByUser[upn]++
			c.Total++
		}
	}
	return c
}

func TestOutageTenantRunsAndCheck(t *testing.T) {
	check := []string{"token", "exo.Get-ManagementRoleAssignment", "ews.GetFolder"}
	layout := outageLayout(5, 2)
	if want := []int{2, 5, 2}; len(layout) != 3 || layout[0] != want[0] || layout[1] != want[1] || layout[2] != want[2] {
		t.Fatalf("layout = %v, want %v", layout, want)
	}
	var out strings.Builder
	for i := 1; i <= 5; i++ {
		upn, _ := benchUserOf(2, i)
		out.WriteString("Warning: Drift check skipped\n\n  with o365_target_connection.bench[\"" + upn + "\"],\n")
	}
	ctrs := []emulator.Counters{perUser(1, 2, check...), perUser(2, 5, "token"), perUser(3, 2, check...)}
	runs := outageTenantRuns(layout, 2, ctrs, []byte(out.String()))
	if len(runs) != 3 || !runs[1].Down || runs[0].Down || runs[2].Down {
		t.Fatalf("runs = %+v", runs)
	}
	if runs[0].Verified != 2 || runs[2].Verified != 2 || runs[1].Verified != 0 || runs[1].Warned != 5 || runs[1].tokens() != 5 {
		t.Errorf("verified %d, %d, %d; warned %d; tokens %d", runs[0].Verified, runs[1].Verified, runs[2].Verified, runs[1].Warned, runs[1].tokens())
	}
	if runs[1].Domain != "bench2.onmicrosoft.com" || runs[2].Connections != 2 {
		t.Errorf("tenant 2 %s, tenant 3 %d connections", runs[1].Domain, runs[2].Connections)
	}
	if err := checkOutage(runs); err != nil {
		t.Errorf("a good run: %v", err)
	}

	// A healthy admin whose EWS access was not checked is not verified.
	short := perUser(3, 2, check...)
	upn, _ := benchUserOf(3, 2)
	delete(short.ByRouteUser["ews.GetFolder"], upn)
	runs = outageTenantRuns(layout, 2, []emulator.Counters{ctrs[0], ctrs[1], short}, []byte(out.String()))
	if err := checkOutage(runs); err == nil || !strings.Contains(err.Error(), "bench3.onmicrosoft.com: 1 of 2 connections verified") {
		t.Errorf("a healthy connection unchecked: %v", err)
	}
	// A down tenant's connection the CLI said nothing about (an error, or silently dropped).
	runs = outageTenantRuns(layout, 2, ctrs, []byte(strings.SplitAfterN(out.String(), "],\n", 2)[1]))
	if err := checkOutage(runs); err == nil || !strings.Contains(err.Error(), "bench2.onmicrosoft.com (down): 4 of 5") {
		t.Errorf("a down connection not warned about: %v", err)
	}
	// Without a tenant down, every tenant must be verified.
	runs = outageTenantRuns(layout, 0, ctrs, nil)
	if err := checkOutage(runs); err == nil || !strings.Contains(err.Error(), "bench2.onmicrosoft.com: 0 of 5 connections verified") {
		t.Errorf("a fault-free run with a tenant unchecked: %v", err)
	}
	if s := sumCounters(ctrs); s.Total != 2*3+5+2*3 || s.ByRoute["token"] != 9 || s.ByRouteUser["token"][upn] != 1 {
		t.Errorf("sum = %+v", s)
	}
}

// startOutageTenants serves the three benchmark tenants of the outage scenario and writes the
// info file o365-emulator would write.
func startOutageTenants(t *testing.T, layout []int) (*emulator.Cluster, string) {
	t.Helper()
	var seeds []*emulator.Seed
	for k, n := range layout {
		s := benchSeed(k+1, n)
		seeds = append(seeds, &s)
	}
	c, err := emulator.StartTenants(seeds, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	info := filepath.Join(t.TempDir(), "emulator.json")
	if err := emuctl.WriteInfo(info, emuctl.Info{URL: c.URL(), CAFile: c.CAFile(), ControlToken: c.ControlToken(), TenantID: benchTenantID, PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	return c, info
}

// measure's part for the outage: every tenant's counters cleared before, the down tenant's
// sign-in answering 503 only while the command runs, each tenant's requests read after.
func TestOutageMeasureFault(t *testing.T) {
	layout := outageLayout(2, 1)
	c, info := startOutageTenants(t, layout)
	for _, s := range c.Tenants() {
		s.InjectFault(emulator.Fault{Route: "userrealm", Status: 500}) // anything counted before the reset
	}
	ec, err := emuctl.Open(info)
	if err != nil {
		t.Fatal(err)
	}
	om, err := newOutageMeasure(ec, 2, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	signIn := func(k, i int) int {
		t.Helper()
		upn, pw := benchUserOf(k, i)
		_, domain, _ := benchTenant(k)
		res, err := hc.PostForm(c.URL()+"/"+domain+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
			"client_id": {"1950a258-227b-4e31-a9cf-717495945fc2"}, "username": {upn}, "password": {pw},
			"scope": {"https://outlook.office365.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	signIn(1, 1) // before the reset: not counted
	ctx := context.Background()
	if err := om.reset(ctx); err != nil {
		t.Fatal(err)
	}
	for k, n := range layout {
		for i := 1; i <= n; i++ {
			want := http.StatusOK
			if k+1 == outageDownTenant {
				want = http.StatusServiceUnavailable
			}
			if got := signIn(k+1, i); got != want {
				t.Errorf("tenant %d admin %d: sign-in %d, want %d", k+1, i, got, want)
			}
		}
	}
	runs, sum, err := om.finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, r := range runs {
		if r.tokens() != layout[k] || r.Down != (k+1 == outageDownTenant) {
			t.Errorf("tenant %d: %d token requests (want %d), down %v", k+1, r.tokens(), layout[k], r.Down)
		}
	}
	if sum.ByRoute["token"] != 4 {
		t.Errorf("token requests in all = %d, want 4", sum.ByRoute["token"])
	}
	if got := signIn(2, 1); got != http.StatusOK {
		t.Errorf("after the command the down tenant's sign-in still answers %d", got)
	}
	if _, err := newOutageMeasure(ec, 2, 1, 4); err == nil {
		t.Error("-down-tenant 4 of 3 tenants: no error")
	}
}

// measure -scenario outage records each tenant and fails the bench when a healthy tenant's
// connections were not all checked (here the "CLI" only prints the down tenant's warnings).
func TestMeasureOutage(t *testing.T) {
	layout := outageLayout(2, 1)
	_, info := startOutageTenants(t, layout)
	dir := t.TempDir()
	res, logf := filepath.Join(dir, "results.jsonl"), filepath.Join(dir, "cli.log")
	var script strings.Builder
	for i := 1; i <= 2; i++ {
		upn, _ := benchUserOf(2, i)
		script.WriteString("printf '%s\\n\\n  with o365_target_connection.bench[\"%s\"],\\n' 'Warning: Drift check skipped' '" + upn + "'\n")
	}
	args := []string{"-info-file", info, "-results", res, "-log", logf, "-scenario", scenarioOutage, "-n", "2", "-healthy", "1",
		"-cli", "terraform", "-cmd", outageCmdDown, "-down-tenant", "2", "--", "sh", "-c", script.String()}
	err := cmdMeasure(args)
	var ec exitCode
	if !asExit(err, &ec) || ec != 1 {
		t.Fatalf("healthy tenants unchecked: measure = %v, want exit status 1", err)
	}
	recs, err := readRecords(res)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records: %v, %v", recs, err)
	}
	r := recs[0]
	if r.Scenario != scenarioOutage || len(r.Tenants) != 3 || !r.Tenants[1].Down || r.Tenants[1].Warned != 2 || r.Tenants[0].Verified != 0 || r.Exit != 0 {
		t.Errorf("record = %+v", r)
	}
}

// The report's outage section: per CLI and size the two plans against the bound, the token
// requests to the down tenant, the healthy tenants verified; it also renders when the outage
// was the only scenario run.
func TestReportOutage(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results.jsonl")
	add := func(cmd string, n int, wall float64, downTokens int) {
		t.Helper()
		check := []string{"token", "exo.Get-ManagementRoleAssignment", "ews.GetFolder"}
		ctrs := []emulator.Counters{perUser(1, 10, check...), perUser(2, n, check...), perUser(3, 10, check...)}
		var out strings.Builder
		down := 0
		if cmd == outageCmdDown {
			down = outageDownTenant
			ctrs[1] = perUser(2, downTokens, "token")
			for i := 1; i <= n; i++ {
				upn, _ := benchUserOf(2, i)
				out.WriteString("Warning: x\n  with o365_target_connection.bench[\"" + upn + "\"],\n")
			}
		}
		sum := sumCounters(ctrs)
		r := record{Kind: "run", Scenario: scenarioOutage, CLI: "terraform", N: n, LatencyMS: 20, Cmd: cmd, WallS: wall, Counters: &sum,
			ProviderStarts: 3, Tenants: outageTenantRuns(outageLayout(n, 10), down, ctrs, []byte(out.String()))}
		if err := appendRecord(res, r); err != nil {
			t.Fatal(err)
		}
	}
	add(outageCmdPlan, 10, 1.5, 0)
	add(outageCmdDown, 10, 9.5, 9)
	add(outageCmdPlan, 10, 1.7, 0)
	add(outageCmdDown, 10, 12.5, 11)
	add(outageCmdPlan, 100, 5, 0)
	add(outageCmdDown, 100, 48, 13)
	// The CLI's baseline runs beside the outage scenario too: no target section for it alone.
	if err := appendRecord(res, record{Kind: "run", Scenario: scenarioTarget, CLI: "terraform", N: 10, Cmd: "plan-builtin", WallS: 0.2}); err != nil {
		t.Fatal(err)
	}
	b := renderReport(t, dir, res, "-meta", "outage_command=BENCH_SCENARIOS=outage make bench")
	md := string(b)
	for _, want := range []string{
		"## One tenant down",
		"**Reproduce this section alone:** `BENCH_SCENARIOS=outage make bench`",
		"| terraform | 10 | 2 | 1.60 (1.50–1.70) | 11.00 (9.50–12.50) | 9.40 | yes | 0 | 10 / 9–11 | 20 of 20 | 10 of 10 |",
		"| terraform | 100 | 1 | 5.00 | 48.00 | 43.00 | **no** (slowest 48.0 s) | 0 | 100 / 13 | 20 of 20 | 100 of 100 |",
		"from 10 to 100 connections in the down tenant the outage's cost went from 9.40 s to 43.00 s (+33.60 s,",
		"| terraform | 100 | one tenant down | 10 / 10 | 13 / 0 | 10 / 10 | 73 | 3 |",
		"at most 15.5 s in all",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, section := range []string{"## Targets", "## Wall time, requests, memory", "## Where the requests come from"} {
		if strings.Contains(md, section) {
			t.Errorf("the report of an outage-only run has %q", section)
		}
	}
}

// The targets table gains the provider's CPU per connection of the no-change plan at the largest
// size, judged on the larger of the latencies run.
func TestReportCPUTarget(t *testing.T) {
	for _, c := range []struct {
		cpu20, cpu0 float64
		want        string
	}{
		{1.0, 0.9, "| terraform | provider CPU ≤ 6 ms per connection (no-change plan, 200 connections) | 4.5 ms at 0 ms latency; 5.0 ms at 20 ms latency | yes |"},
		{1.0, 1.3, "| terraform | provider CPU ≤ 6 ms per connection (no-change plan, 200 connections) | 6.5 ms at 0 ms latency; 5.0 ms at 20 ms latency | **no** (missed by 0.5 ms) |"},
	} {
		dir := t.TempDir()
		res := filepath.Join(dir, "results.jsonl")
		for _, r := range []struct {
			lat int
			cpu float64
		}{{20, c.cpu20}, {0, c.cpu0}} {
			ctrs := sumCounters([]emulator.Counters{perUser(1, 200, "token", "exo.Get-ManagementRoleAssignment", "ews.GetFolder")})
			rec := record{Kind: "run", Scenario: scenarioTarget, CLI: "terraform", N: 200, LatencyMS: r.lat, Cmd: "plan", WallS: 4, Counters: &ctrs, ProviderCPUS: r.cpu, CLICPUS: r.cpu + 2}
			if err := appendRecord(res, rec); err != nil {
				t.Fatal(err)
			}
		}
		b := renderReport(t, dir, res)
		if !strings.Contains(string(b), c.want) {
			t.Errorf("the targets table lacks %q:\n%s", c.want, b)
		}
	}
}
