package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// The benchmark tenant: N admin accounts that already hold every role a connection with the
// default toggles requires, and a mailbox, so a no-change plan is a pure drift check. The
// same mailboxes are what the application connections verify (one each): two applications,
// one for protocol = "graph" (a secret and a certificate, the mailbox permissions consented
// tenant-wide) and one for protocol = "ews" (full_access_as_app, and Exchange.ManageAsApp with
// Global Reader so that it may read the EWS switches: WIRE §K2–§K3), so a plan of either is a
// pure drift check too.
//
// A third application imports through Graph's mailbox import API (protocol = "graph_import",
// WIRE §M), scoped as o365_migration_application scopes it: User.Read.All consented in Entra,
// the mailbox permissions as Exchange application roles limited to a management scope that
// holds every benchmark mailbox (RBAC for Applications, WIRE §J, §M4), and no
// Exchange.ManageAsApp of its own. The provider's management identity (read only) reads those
// roles, as it would in a real tenant.
const (
	benchTenantID = "b3c4d5e6-0000-4000-8000-00000000be4c"
	benchDomain   = "bench.onmicrosoft.com"

	benchGraphAppID  = "b3c4d5e6-0000-4000-8000-0000000a9901"
	benchGraphSecret = "Bench~Graph~Secret~0123456789abcdefghij"
	benchEWSAppID    = "b3c4d5e6-0000-4000-8000-0000000a9902"
	benchEWSSecret   = "Bench~EWS~Secret~0123456789abcdefghijkl"

	benchImportAppID  = "b3c4d5e6-0000-4000-8000-0000000a9903"
	benchImportSecret = "Bench~Import~Secret~0123456789abcdefgh"
	benchMgmtAppID    = "b3c4d5e6-0000-4000-8000-0000000a99ff"
	benchMgmtSecret   = "Bench~Mgmt~Secret~0123456789abcdefghijk"

	benchDepartment  = "Bench"
	benchImportScope = "Bench mailboxes"
)

// benchImportRoles are the scoped application's Exchange application roles: the mailbox
// permissions of a Graph import target (WIRE §M3.3) by their RBAC names (§M4).
var benchImportRoles = []string{
	"Application MailboxFolder.ReadWrite", "Application MailboxItem.ImportExport",
	"Application MailboxSettings.ReadWrite",
}

var benchRoles = []string{
	"View-Only Configuration", "View-Only Recipients", "Mail Recipients",
	"Mail Recipient Creation", "ApplicationImpersonation",
}

// The scenarios (-scenario of config and measure; BENCH_SCENARIOS of scripts/bench.sh).
const (
	scenarioTarget    = "target"     // o365_target_connection, an admin account each
	scenarioAppSecret = "app-secret" // o365_target_app_connection, protocol graph, client_secret
	scenarioAppCert   = "app-cert"   // the same with client_certificate
	scenarioAppEWS    = "app-ews"    // protocol ews, client_secret
	// protocol graph_import, client_secret, the application scoped with RBAC for
	// Applications; its own section of the report (report_import.go).
	scenarioGraphImport = "graph_import"
	// Several tenants in one state, one of them with its sign-in down (outage.go).
	scenarioOutage = "outage"
)

var scenarios = []string{scenarioTarget, scenarioAppSecret, scenarioAppCert, scenarioAppEWS, scenarioGraphImport, scenarioOutage}

func isAppScenario(s string) bool { return strings.HasPrefix(s, "app-") }

// benchTenant is the k-th benchmark tenant (from 1): the first is the one tenant of the
// single-tenant scenarios; the others, with their own id and domain, are the further
// target tenants of a managed-services setup (several tenants in one state), all served
// by one emulator (o365-emulator -seed a.json -seed b.json …).
func benchTenant(k int) (id, domain, name string) {
	if k <= 1 {
		return benchTenantID, benchDomain, "Bench"
	}
	return fmt.Sprintf("b3c4d5e6-0000-4000-8000-%08dbe4c", k), fmt.Sprintf("bench%d.onmicrosoft.com", k), fmt.Sprintf("Bench %d", k)
}

func benchUser(i int) (upn, password string) { return benchUserOf(1, i) }

// benchUserOf is the i-th admin account of the k-th tenant.
func benchUserOf(k, i int) (upn, password string) {
	_, domain, _ := benchTenant(k)
	return fmt.Sprintf("admin%04d@%s", i, domain), fmt.Sprintf("Bench-Passw0rd-%04d!", i)
}

// benchSeed is the k-th benchmark tenant with n admin accounts, without its applications.
func benchSeed(k, n int) emulator.Seed {
	id, domain, name := benchTenant(k)
	s := emulator.Seed{
		TenantID: id, DisplayName: name, Cloud: "worldwide",
		Domains: []string{domain}, LegacyBasicAuth: true,
	}
	for i := 1; i <= n; i++ {
		upn, pw := benchUserOf(k, i)
		s.Users = append(s.Users, emulator.SeedUser{
			UserPrincipalName: upn, DisplayName: fmt.Sprintf("%s Admin %04d", name, i),
			Alias: strings.Split(upn, "@")[0], Password: pw, Mailbox: true,
			ExchangeRoles: benchRoles, Department: benchDepartment,
		})
	}
	return s
}

func cmdSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	n := fs.Int("n", 200, "number of admin accounts (and mailboxes)")
	tenant := fs.Int("tenant", 1, "which benchmark tenant (1, 2, …): each has its own id and domain, so that one emulator serves several (one -seed each)")
	out := fs.String("o", "", "output file (default stdout)")
	certOut := fs.String("cert-out", "", "where to write the graph application's certificate and key (PEM); without it the application has a secret only")
	_ = fs.Parse(args)
	if *tenant < 1 {
		return fmt.Errorf("seed: -tenant must be at least 1")
	}
	s := benchSeed(*tenant, *n)
	graph := emulator.SeedApplication{
		DisplayName: "Bench graph target", AppID: benchGraphAppID,
		Secrets:          []emulator.SeedSecret{{DisplayName: "bench", Value: benchGraphSecret}},
		GraphPermissions: []string{"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "User.Read.All"},
	}
	if *certOut != "" {
		c, err := emulator.NewTestCertificate("Bench graph target", time.Now().AddDate(1, 0, 0))
		if err != nil {
			return err
		}
		if err := os.WriteFile(*certOut, c.PEM, 0o600); err != nil {
			return err
		}
		graph.Certificates = []emulator.SeedCertificate{{DisplayName: "bench", PEM: string(c.CertPEM)}}
	}
	s.Applications = []emulator.SeedApplication{graph, {
		DisplayName: "Bench ews target", AppID: benchEWSAppID,
		Secrets:             []emulator.SeedSecret{{DisplayName: "bench", Value: benchEWSSecret}},
		GraphPermissions:    []string{"User.Read.All"},
		ExchangePermissions: []string{"full_access_as_app", "Exchange.ManageAsApp"},
		DirectoryRoles:      []string{"Global Reader"},
	}, benchImportApplication(), benchManagementIdentity()}
	s.ManagementScopes = []emulator.SeedManagementScope{{
		Name: benchImportScope, RecipientFilter: fmt.Sprintf("Department -eq '%s'", benchDepartment),
	}}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeOut(*out, append(b, '\n'))
}

func cmdConfig(args []string) error {
	fs := flag.NewFlagSet("config", flag.ExitOnError)
	n := fs.Int("n", 10, "number of connections (per tenant)")
	tenants := fs.Int("tenants", 1, "scenario target: N connections in each of this many benchmark tenants (seed -tenant 1…K)")
	url := fs.String("url", "", "emulated tenant base URL (https)")
	ca := fs.String("ca", "", "emulated tenant CA certificate file")
	out := fs.String("o", "", "output file (default stdout)")
	scenario := fs.String("scenario", scenarioTarget, "one of "+strings.Join(scenarios, ", "))
	cert := fs.String("cert", "", "for app-cert: the PEM file `seed -cert-out` wrote")
	builtin := fs.Bool("builtin", false, "N terraform_data resources instead (the baseline: the CLI's cost without this provider)")
	healthy := fs.Int("healthy", outageDefaultHealthy, "scenario outage: connections in each healthy tenant (N are in the failing one)")
	_ = fs.Parse(args)
	if *builtin {
		return writeOut(*out, []byte(fmt.Sprintf(`# Generated by o365-bench config -builtin -n %d: the CLI's built-in resource, no provider.
resource "terraform_data" "bench" {
  count = %d
  input = "bench-${count.index}"
}
`, *n, *n)))
	}
	if *url == "" || *ca == "" {
		return fmt.Errorf("config: -url and -ca are required")
	}
	if *tenants < 1 || (*tenants > 1 && *scenario != scenarioTarget) {
		return fmt.Errorf("config: -tenants is at least 1, and above 1 only for -scenario %s", scenarioTarget)
	}
	if *scenario == scenarioOutage {
		cfg, err := renderOutageConfig(*n, *healthy, *url, *ca)
		if err != nil {
			return err
		}
		return writeOut(*out, []byte(cfg))
	}
	cfg, err := renderConfig(*scenario, *n, *tenants, *url, *ca, *cert)
	if err != nil {
		return err
	}
	return writeOut(*out, []byte(cfg))
}

// renderConfig is the configuration of one scenario: N connections against the tenant at url
// (for scenario target, N in each of the first `tenants` benchmark tenants).
func renderConfig(scenario string, n, tenants int, url, ca, cert string) (string, error) {
	var b strings.Builder
	header := func(what string) { writeProviderHeader(&b, scenario, n, what, url, ca) }
	switch scenario {
	case scenarioTarget:
		what := fmt.Sprintf("%d target connections with the default toggles", n)
		if tenants > 1 {
			what = fmt.Sprintf("%d target connections with the default toggles in each of %d tenants (-tenants %d)", n, tenants, tenants)
		}
		header(what)
		layout := make([]int, tenants)
		for k := range layout {
			layout[k] = n
		}
		writeTargetConnections(&b, layout)
		return b.String(), nil
	case scenarioAppSecret, scenarioAppCert, scenarioAppEWS, scenarioGraphImport:
	default:
		return "", fmt.Errorf("config: unknown -scenario %q (one of %s)", scenario, strings.Join(scenarios, ", "))
	}
	clientID, credential, protocol := benchGraphAppID, fmt.Sprintf("client_secret    = %q", benchGraphSecret), "graph"
	switch scenario {
	case scenarioAppCert:
		if cert == "" {
			return "", fmt.Errorf("config: -scenario %s needs -cert (the file seed -cert-out wrote)", scenario)
		}
		credential = fmt.Sprintf("client_certificate = file(%q)", cert)
	case scenarioAppEWS:
		clientID, credential, protocol = benchEWSAppID, fmt.Sprintf("client_secret    = %q", benchEWSSecret), "ews"
	case scenarioGraphImport:
		clientID, credential, protocol = benchImportAppID, fmt.Sprintf("client_secret    = %q", benchImportSecret), "graph_import"
	}
	what := fmt.Sprintf("%d application connections (protocol %s) sharing one application, one verified mailbox each", n, protocol)
	if scenario == scenarioGraphImport {
		// The scoped application may not read its own Exchange roles: the management
		// identity reads them.
		writeProviderHeaderWith(&b, scenario, n, what+", the application scoped with RBAC for Applications", url, ca, managementBlock())
	} else {
		header(what)
	}
	b.WriteString("locals {\n  mailboxes = [\n")
	for i := 1; i <= n; i++ {
		upn, _ := benchUser(i)
		fmt.Fprintf(&b, "    %q,\n", upn)
	}
	fmt.Fprintf(&b, `  ]
}

resource "o365_target_app_connection" "bench" {
  for_each         = toset(local.mailboxes)
  name             = "Bench ${each.key}"
  tenant           = %q
  client_id        = %q
  %s
  protocol         = %q
  verify_mailboxes = [each.key]
}
`, benchDomain, clientID, credential, protocol)
	return b.String(), nil
}

func writeOut(path string, b []byte) error {
	if path == "" {
		_, err := os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// writeProviderHeader writes the configuration's comment line, the provider requirement and
// the provider block pointing every endpoint at the emulated tenants (max_retries unset: the
// provider's default).
func writeProviderHeader(b *strings.Builder, scenario string, n int, what, url, ca string) {
	writeProviderHeaderWith(b, scenario, n, what, url, ca, "")
}

// writeProviderHeaderWith is writeProviderHeader with more of the provider block (extra, its
// lines indented as in the block).
func writeProviderHeaderWith(b *strings.Builder, scenario string, n int, what, url, ca, extra string) {
	fmt.Fprintf(b, `# Generated by o365-bench config -scenario %s -n %d: %s.
terraform {
  required_providers {
    o365 = { source = "o365-terraform/o365" }
  }
}

provider "o365" {
  endpoints = {
    login    = %q
    graph    = %q
    exchange = %q
  }
  ca_certificate_file = %q
%s}

`, scenario, n, what, url, url, url, ca, extra)
}

// managementBlock is the provider's management identity in the benchmark tenant
// (benchManagementIdentity).
func managementBlock() string {
	return fmt.Sprintf(`  management = {
    tenant_id     = %q
    client_id     = %q
    client_secret = %q
  }
`, benchDomain, benchMgmtAppID, benchMgmtSecret)
}

// writeTargetConnections writes one o365_target_connection (default toggles) per admin
// account: layout[k-1] accounts of the k-th benchmark tenant.
func writeTargetConnections(b *strings.Builder, layout []int) {
	b.WriteString("locals {\n  admins = {\n")
	for k, n := range layout {
		for i := 1; i <= n; i++ {
			upn, pw := benchUserOf(k+1, i)
			fmt.Fprintf(b, "    %q = %q\n", upn, pw)
		}
	}
	b.WriteString(`  }
}

resource "o365_target_connection" "bench" {
  for_each    = local.admins
  name        = "Bench ${each.key}"
  admin_email = each.key
  password    = each.value
}
`)
}

// benchImportApplication is the graph_import scenario's application, scoped as
// o365_migration_application scopes one (the const block's comment).
func benchImportApplication() emulator.SeedApplication {
	a := emulator.SeedApplication{
		DisplayName: "Bench graph_import target", AppID: benchImportAppID,
		Secrets:          []emulator.SeedSecret{{DisplayName: "bench", Value: benchImportSecret}},
		GraphPermissions: []string{"User.Read.All"},
	}
	for _, r := range benchImportRoles {
		a.ExchangeRoles = append(a.ExchangeRoles, emulator.SeedAppExchangeRole{Role: r, Scope: benchImportScope})
	}
	return a
}

// benchManagementIdentity is the provider's management identity in the graph_import
// scenario, used read only: Exchange.ManageAsApp with Global Reader lets it read the scoped
// application's Exchange roles (Test-ServicePrincipalAuthorization, WIRE §J6).
func benchManagementIdentity() emulator.SeedApplication {
	return emulator.SeedApplication{
		DisplayName: "Bench management identity", AppID: benchMgmtAppID,
		Secrets:             []emulator.SeedSecret{{DisplayName: "bench", Value: benchMgmtSecret}},
		ExchangePermissions: []string{"Exchange.ManageAsApp"},
		DirectoryRoles:      []string{"Global Reader"},
	}
}
