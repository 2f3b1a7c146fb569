package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func counters(byRoute map[string]int) emulator.Counters {
	c := emulator.Counters{ByRoute: byRoute}
	for r, n := range byRoute {
		if r != "control" {
			c.Total += n
		}
	}
	return c
}

func TestBudgetCheck(t *testing.T) {
	graph, _ := budgetOf(scenarioAppSecret)
	ews, _ := budgetOf(scenarioAppEWS)
	imp, _ := budgetOf(scenarioGraphImport)
	for _, tc := range []struct {
		name      string
		b         budget
		routes    map[string]int
		n, procs  int
		kept      bool
		wantTerms []string // terms that must be reported broken
	}{
		{"graph as measured", graph, map[string]int{"graph.mailFolders": 50, "token": 1, "openid-configuration": 1, "control": 3}, 50, 3, true, nil},
		{"graph: a token per connection", graph, map[string]int{"graph.mailFolders": 50, "token": 50, "openid-configuration": 1}, 50, 3, false, []string{"tokens"}},
		{"graph: two probes per mailbox", graph, map[string]int{"graph.mailFolders": 100, "token": 1}, 50, 3, false, []string{"mailbox probes"}},
		{"graph: any Exchange call", graph, map[string]int{"graph.mailFolders": 10, "token": 1, "exo.Test-ServicePrincipalAuthorization": 1}, 10, 3, false, []string{"Exchange admin API"}},
		{"graph: a route outside the budget", graph, map[string]int{"graph.mailFolders": 10, "token": 1, "graph.user": 10}, 10, 3, false, []string{"`graph.user`"}},
		{"graph: discovery per connection", graph, map[string]int{"graph.mailFolders": 10, "token": 1, "openid-configuration": 10}, 10, 3, false, []string{"authority discovery"}},
		{"ews as measured", ews, map[string]int{"ews.GetFolder": 10, "token": 2, "openid-configuration": 1}, 10, 3, true, nil},
		{"ews: two Exchange calls per connection are allowed", ews, map[string]int{"ews.GetFolder": 10, "token": 2, "exo.Get-OrganizationConfig": 10, "exo.Get-CASMailbox": 10}, 10, 3, true, nil},
		{"ews: three are not", ews, map[string]int{"ews.GetFolder": 10, "token": 2, "exo.Get-OrganizationConfig": 10, "exo.Get-CASMailbox": 10, "exo.Test-ServicePrincipalAuthorization": 1}, 10, 3, false, []string{"Exchange admin API"}},
		{"tokens scale with the processes", ews, map[string]int{"ews.GetFolder": 10, "token": 7}, 10, 3, false, []string{"tokens"}},
		{"graph_import as expected", imp, map[string]int{"graph.exchangeSettings": 200, "graph.mailboxFolders": 200, "graph.createImportSession": 200, "token": 3, "openid-configuration": 1, "exo.Test-ServicePrincipalAuthorization": 1}, 200, 3, true, nil},
		{"graph_import: a fourth request per mailbox", imp, map[string]int{"graph.exchangeSettings": 200, "graph.mailboxFolders": 400, "graph.createImportSession": 200, "token": 3}, 200, 3, false, []string{"mailbox probes"}},
		{"graph_import: a token per connection", imp, map[string]int{"graph.exchangeSettings": 200, "graph.mailboxFolders": 200, "graph.createImportSession": 200, "token": 200}, 200, 3, false, []string{"tokens"}},
		{"graph_import: the roles read per connection", imp, map[string]int{"graph.exchangeSettings": 200, "graph.mailboxFolders": 200, "graph.createImportSession": 200, "token": 3, "exo.Test-ServicePrincipalAuthorization": 200}, 200, 3, false, []string{"Exchange admin API"}},
		{"graph_import: the classic Graph probe is not the import probe's budget", imp, map[string]int{"graph.exchangeSettings": 10, "graph.mailboxFolders": 10, "graph.createImportSession": 10, "graph.mailFolders": 10, "token": 3}, 10, 3, false, []string{"mailbox probes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, kept := tc.b.check(counters(tc.routes), tc.n, tc.procs)
			if kept != tc.kept {
				t.Fatalf("kept = %v, want %v: %+v", kept, tc.kept, lines)
			}
			var broken []string
			for _, l := range lines {
				if l.Used > l.Allowed {
					broken = append(broken, l.Term)
				}
			}
			if len(broken) != len(tc.wantTerms) {
				t.Fatalf("broken terms %q, want %q", broken, tc.wantTerms)
			}
			for i, w := range tc.wantTerms {
				if !strings.HasPrefix(broken[i], w) {
					t.Errorf("broken term %q, want one starting %q", broken[i], w)
				}
			}
		})
	}
}

func TestBudgetOf(t *testing.T) {
	if _, ok := budgetOf(scenarioTarget); ok {
		t.Error("the target scenario has no issue-11 budget")
	}
	b, ok := budgetOf(scenarioAppCert)
	if !ok || b.MailboxesPerConn != 1 || b.TokensPerProcess != 1 || b.ExchangePerConn != 0 {
		t.Errorf("app-cert budget = %+v, %v", b, ok)
	}
	if b, _ := budgetOf(scenarioAppEWS); b.ExchangePerConn != 2 || b.TokensPerProcess != 2 {
		t.Errorf("app-ews budget = %+v", b)
	}
	if b, _ := budgetOf(scenarioGraphImport); b.MailboxesPerConn != 3 || b.ExchangePerConn != 0 {
		t.Errorf("graph_import budget = %+v", b)
	}
}

func TestRenderConfig(t *testing.T) {
	cfg, err := renderConfig(scenarioAppCert, 3, 1, "https://127.0.0.1:1", "/ca.pem", "/w/cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`resource "o365_target_app_connection" "bench"`, `client_certificate = file("/w/cert.pem")`,
		`client_id        = "` + benchGraphAppID + `"`, `protocol         = "graph"`,
		`"admin0003@bench.onmicrosoft.com",`, `verify_mailboxes = [each.key]`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("app-cert config lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "admin0004@") || strings.Contains(cfg, "client_secret") {
		t.Errorf("app-cert config of 3 has a fourth mailbox or a secret:\n%s", cfg)
	}
	cfg, err = renderConfig(scenarioAppEWS, 2, 1, "https://127.0.0.1:1", "/ca.pem", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`protocol         = "ews"`, `client_id        = "` + benchEWSAppID + `"`, `client_secret    = "` + benchEWSSecret + `"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("app-ews config lacks %q:\n%s", want, cfg)
		}
	}
	if _, err := renderConfig(scenarioAppCert, 2, 1, "u", "c", ""); err == nil {
		t.Error("app-cert without a certificate file: no error")
	}
	if _, err := renderConfig("app-imap", 2, 1, "u", "c", ""); err == nil || !strings.Contains(err.Error(), "app-imap") {
		t.Errorf("unknown scenario: %v", err)
	}
	cfg, err = renderConfig(scenarioTarget, 2, 1, "u", "c", "")
	if err != nil || !strings.Contains(cfg, `resource "o365_target_connection" "bench"`) || strings.Contains(cfg, "o365_target_app_connection") {
		t.Errorf("target config: %v\n%s", err, cfg)
	}
}

// The report of a results file: the application section with each plan's budget, a broken
// budget shown as such, and results written before scenarios existed read as target.
func TestReportApp(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results.jsonl")
	graph, _ := budgetOf(scenarioAppSecret)
	add := func(r record) {
		t.Helper()
		if err := appendRecord(res, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{10, 50} {
		for _, lat := range []int{20, 0} {
			tc := counters(map[string]int{"token": 3 * n, "exo.Get-ManagementRoleAssignment": n, "ews.GetFolder": 3 * n, "openid-configuration": 2, "userrealm": 2})
			add(record{Kind: "run", CLI: "terraform", N: n, LatencyMS: lat, Cmd: "apply", WallS: 1, Counters: &tc, ProviderStarts: 4})
			pc := counters(map[string]int{"token": n, "exo.Get-ManagementRoleAssignment": n, "ews.GetFolder": n, "openid-configuration": 1, "userrealm": 1})
			add(record{Kind: "run", CLI: "terraform", N: n, LatencyMS: lat, Cmd: "plan", WallS: 1, Counters: &pc, ProviderStarts: 3})
			ac := counters(map[string]int{"graph.mailFolders": n, "token": 1, "openid-configuration": 1})
			add(record{Kind: "run", Scenario: scenarioAppSecret, CLI: "terraform", N: n, LatencyMS: lat, Cmd: "apply", WallS: 0.5, Counters: &ac, ProviderStarts: 4})
			kept := ac
			lines, ok := graph.check(kept, n, 3)
			add(record{Kind: "run", Scenario: scenarioAppSecret, CLI: "terraform", N: n, LatencyMS: lat, Cmd: "plan", WallS: 0.4, Counters: &kept, ProviderStarts: 3, Budget: lines, BudgetKept: ok})
		}
	}
	// A second plan run at 50 connections that asked for a token per connection.
	bad := counters(map[string]int{"graph.mailFolders": 50, "token": 50, "openid-configuration": 1})
	lines, ok := graph.check(bad, 50, 3)
	if ok {
		t.Fatal("the broken run kept the budget")
	}
	add(record{Kind: "run", Scenario: scenarioAppSecret, CLI: "terraform", N: 50, LatencyMS: 20, Cmd: "plan", WallS: 0.6, Counters: &bad, ProviderStarts: 3, Budget: lines, BudgetKept: false})
	b := renderReport(t, dir, res)
	md := string(b)
	for _, want := range []string{
		"## Application connections",
		"| `app-secret` | terraform | 10 | 12 | 10 / 10 | 1 / 3 | 1 / 3 | 0 / 0 | — | yes |",
		"| `app-secret` | terraform | 50 | 52 | 50 / 50 | **50 / 3** | 1 / 3 | 0 / 0 | — | **no** (budget exceeded) |",
		"#### `app-secret`: requests per connection by route: no-change `plan` (the drift check)",
		"| `app-secret` | terraform | 10 | plan | 1 | 0.40 | 0.40 | 12 | 1.20 |",
		// The target scenario's sections come from the records without a scenario.
		"| terraform | plan: ≤ 4 HTTP requests per connection + a constant per tenant | 3 per connection + 2 per tenant",
		"terraform: apply 7 per connection + 4 per tenant, plan 3 + 2.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The app scenario's runs stay out of the target scenario's route tables.
	target := md[:strings.Index(md, "## Application connections")]
	if strings.Contains(target, "graph.mailFolders") {
		t.Error("the target connection's sections show an application connection's route")
	}
}

func TestShared(t *testing.T) {
	m := "AMD EPYC, 2 cores, 23.5 GiB RAM, Linux 6.18"
	for _, tc := range []struct {
		machine, start, end string
		want                bool
	}{
		{m, "1.18 1.38 2.43", "1.20 2.37 2.56", false},
		{m, "10.67 11.07 9.16", "1.00 1 1", true},
		{m, "1.0 1 1", "2.5 1 1", true},
		{"unknown CPU", "10 10 10", "10 10 10", false},
		{m, "", "", false},
	} {
		if got := shared(tc.machine, tc.start, tc.end); got != tc.want {
			t.Errorf("shared(%q, %q, %q) = %v, want %v", tc.machine, tc.start, tc.end, got, tc.want)
		}
	}
}

// The graph_import configuration: the scoped application's connections, and the provider's
// management identity that reads its Exchange roles.
func TestRenderConfigGraphImport(t *testing.T) {
	cfg, err := renderConfig(scenarioGraphImport, 2, 1, "https://127.0.0.1:1", "/ca.pem", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`protocol         = "graph_import"`, `client_id        = "` + benchImportAppID + `"`,
		`client_secret    = "` + benchImportSecret + `"`, `"admin0002@bench.onmicrosoft.com",`,
		"  management = {\n    tenant_id     = \"" + benchDomain + "\"\n    client_id     = \"" + benchMgmtAppID + "\"",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("graph_import config lacks %q:\n%s", want, cfg)
		}
	}
	if cfg, _ := renderConfig(scenarioAppSecret, 2, 1, "u", "c", ""); strings.Contains(cfg, "management") {
		t.Errorf("app-secret config has a management identity:\n%s", cfg)
	}
}

// The report of graph_import runs: its own section with each plan's budget, a broken one
// shown as such, and the command that reproduces it; the application section stays out.
func TestReportGraphImport(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results.jsonl")
	imp, _ := budgetOf(scenarioGraphImport)
	add := func(r record) {
		t.Helper()
		if err := appendRecord(res, r); err != nil {
			t.Fatal(err)
		}
	}
	probes := func(n, tokens, exo int) emulator.Counters {
		return counters(map[string]int{"graph.exchangeSettings": n, "graph.mailboxFolders": n, "graph.createImportSession": n,
			"token": tokens, "openid-configuration": 1, "exo.Test-ServicePrincipalAuthorization": exo})
	}
	for _, n := range []int{10, 200} {
		for _, lat := range []int{20, 0} {
			ac := probes(n, 6, 2)
			add(record{Kind: "run", Scenario: scenarioGraphImport, CLI: "terraform", N: n, LatencyMS: lat, Cmd: "apply", WallS: 1, Counters: &ac, ProviderStarts: 4})
			pc := probes(n, 3, 1)
			lines, ok := imp.check(pc, n, 3)
			add(record{Kind: "run", Scenario: scenarioGraphImport, CLI: "terraform", N: n, LatencyMS: lat, Cmd: "plan", WallS: 0.5, Counters: &pc, ProviderStarts: 3, Budget: lines, BudgetKept: ok})
		}
	}
	// A plan run at 200 connections that read the application's roles for every connection.
	bad := probes(200, 3, 200)
	lines, ok := imp.check(bad, 200, 3)
	if ok {
		t.Fatal("the broken run kept the budget")
	}
	add(record{Kind: "run", Scenario: scenarioGraphImport, CLI: "terraform", N: 200, LatencyMS: 20, Cmd: "plan", WallS: 0.6, Counters: &bad, ProviderStarts: 3, Budget: lines, BudgetKept: false})
	b := renderReport(t, dir, res, "-meta", "import_command=BENCH_SCENARIOS=graph_import make bench", "-meta", "commit=abc1234")
	md := string(b)
	for _, want := range []string{
		"## Graph import connections",
		"[Graph import connections](#graph-import-connections)",
		"**Reproduce this section alone:** `BENCH_SCENARIOS=graph_import make bench`",
		"Measured on —, commit abc1234; load average",
		"| `graph_import` | terraform | 10 | 35 | 30 / 30 | 3 / 9 | 1 / 3 | 1 / 3 | — | yes |",
		"| `graph_import` | terraform | 200 | 605 | 600 / 600 | 3 / 9 | 1 / 3 | **200 / 3** | — | **no** (budget exceeded) |",
		"#### `graph_import`: requests per connection by route: no-change `plan` (the drift check)",
		"`Application MailboxFolder.ReadWrite`, `Application MailboxItem.ImportExport` and `Application MailboxSettings.ReadWrite`",
		"**Over budget: the Exchange admin API term**, in 1 of 5 no-change plans: up to 200 calls of\n`Test-ServicePrincipalAuthorization` where 3 are allowed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "## Application connections") {
		t.Error("graph_import runs alone made an application connections section")
	}
}

// Without a plan over its budget, the graph_import section says nothing is over it.
func TestReportGraphImportKept(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results.jsonl")
	imp, _ := budgetOf(scenarioGraphImport)
	pc := counters(map[string]int{"graph.exchangeSettings": 10, "graph.mailboxFolders": 10, "graph.createImportSession": 10, "token": 3,
		"openid-configuration": 1, "exo.Test-ServicePrincipalAuthorization": 1})
	lines, ok := imp.check(pc, 10, 3)
	if !ok {
		t.Fatalf("one roles read per process broke the budget: %+v", lines)
	}
	if err := appendRecord(res, record{Kind: "run", Scenario: scenarioGraphImport, CLI: "tofu", N: 10, LatencyMS: 20, Cmd: "plan", WallS: 0.5,
		Counters: &pc, ProviderStarts: 3, Budget: lines, BudgetKept: ok}); err != nil {
		t.Fatal(err)
	}
	b := renderReport(t, dir, res)
	md := string(b)
	if !strings.Contains(md, "| `graph_import` | tofu | 10 | 35 | 30 / 30 | 3 / 9 | 1 / 3 | 1 / 3 | — | yes |") || strings.Contains(md, "Over budget") {
		t.Errorf("a kept budget:\n%s", md)
	}
}

// renderReport writes the report of the results file res into dir/BENCHMARKS.md, with the
// extra arguments of `o365-bench report` (-meta …), and returns it.
func renderReport(t *testing.T, dir, res string, extra ...string) []byte {
	t.Helper()
	out := filepath.Join(dir, "BENCHMARKS.md")
	if err := cmdReport(append([]string{"-results", res, "-o", out}, extra...)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
