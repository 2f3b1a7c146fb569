package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// A managed-services state: several target tenants behind one provider, each with a few
// admin connections. These tests reproduce a tenant that is down or answers a broken success,
// the way such a team meets it.

// outageTenants are the tenants of the managed-services tests besides the test tenant.
var outageTenants = []struct{ name, tenantID string }{
	{"fabrikam", "4c3b2d1e-2222-4333-8444-a55556666777"},
	{"northwind", "5d4c3e2f-3333-4444-9555-b66667777888"},
}

// outageConnections is the number of connections per tenant.
const outageConnections = 3

func outageUPN(tenant string, i int) string {
	return fmt.Sprintf("mig%02d@%s.onmicrosoft.com", i, tenant)
}

func outagePassword(tenant string, i int) string {
	return fmt.Sprintf("Mig-%s-Pa55-%02d!", tenant, i)
}

// outageSeed is a tenant whose admins hold every role a connection requires.
func outageSeed(name, tenantID string) *emulator.Seed {
	s := &emulator.Seed{TenantID: tenantID, DisplayName: name, Cloud: "worldwide", Domains: []string{name + ".onmicrosoft.com"}}
	for i := 1; i <= outageConnections; i++ {
		s.Users = append(s.Users, emulator.SeedUser{UserPrincipalName: outageUPN(name, i), DisplayName: fmt.Sprintf("Migration %02d", i),
			Alias: fmt.Sprintf("mig%02d", i), Password: outagePassword(name, i), Mailbox: true, ExchangeRoles: allExchangeRoles,
			DirectoryRoles: []string{"Exchange Administrator"}})
	}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

// startTenants starts the test tenant and the outage tenants behind one emulator.
func startTenants(t *testing.T) map[string]*emulator.Server {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	seeds := []*emulator.Seed{testSeed()}
	for _, o := range outageTenants {
		seeds = append(seeds, outageSeed(o.name, o.tenantID))
	}
	c, err := emulator.StartTenants(seeds, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	out := map[string]*emulator.Server{"contoso": c.Tenants()[0]}
	for i, o := range outageTenants {
		out[o.name] = c.Tenants()[i+1]
	}
	return out
}

// outageConfig is one provider and outageConnections connections in each tenant: the test
// tenant's through its full admin (every role), the others' through their own admins.
func outageConfig(s *emulator.Server) string {
	var b strings.Builder
	b.WriteString(providerBlock(s, defaultMaxRetries))
	fmt.Fprintf(&b, "\nresource \"o365_target_connection\" \"contoso\" {\n  name = \"contoso\"\n%s\n}\n", adminLogin(upnFull, pwFull))
	for _, o := range outageTenants {
		for i := 1; i <= outageConnections; i++ {
			fmt.Fprintf(&b, "\nresource \"o365_target_connection\" \"%s_%d\" {\n  name = \"%s %d\"\n%s\n}\n", o.name, i, o.name, i, adminLogin(outageUPN(o.name, i), outagePassword(o.name, i)))
		}
	}
	return b.String()
}

// One tenant's sign-in is down (its token endpoint answers 503): the plan of the others goes
// on, the down tenant's connections keep their state with a warning, and the tenant is
// asked once per call of its own retries, not once per connection and retry.
func TestAccTenantOutageIsBoundedAndKeepsState(t *testing.T) {
	ts := startTenants(t)
	down, healthy := ts["fabrikam"], ts["northwind"]
	cfg := outageConfig(ts["contoso"])
	var planned bool
	accTest(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg, ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("o365_target_connection.fabrikam_1", tfjsonpath.New("missing_roles"), knownvalue.SetExact(nil)),
			statecheck.ExpectKnownValue("o365_target_connection.northwind_3", tfjsonpath.New("missing_roles"), knownvalue.SetExact(nil)),
		}},
		{
			PreConfig: func() {
				down.InjectFault(emulator.Fault{Route: "token", Status: 503})
				for _, s := range ts {
					s.ResetCounters()
				}
				planned = true
			},
			// No change: the down tenant's connections keep what the last check found.
			Config: cfg, PlanOnly: true,
		},
		{
			PreConfig: func() {
				if !planned {
					t.Fatal("the outage step did not run")
				}
				tokens := down.Counters().ByRoute["token"]
				t.Logf("during the outage: %d token requests to the down tenant", tokens)
				// The refresh may ask once per connection before the first failure is known,
				// then one call retries; each connection retrying on its own would ask
				// outageConnections × (1 + defaultMaxRetries) times.
				if limit := outageConnections + defaultMaxRetries; tokens == 0 || tokens > limit {
					t.Errorf("the down tenant's token endpoint was asked %d times, want 1..%d", tokens, limit)
				}
				if n := healthy.Counters().ByRoute["exo.Get-ManagementRoleAssignment"]; n < outageConnections {
					t.Errorf("the healthy tenant's connections were not checked: %d role reads", n)
				}
				down.ClearFaults()
			},
			Config: cfg, PlanOnly: true,
		},
	}})
}

// A 200 without its body is no answer: a drift check fed empty, cut or HTML answers reports
// no role missing and keeps the state, while a real removal still shows.
func TestAccBrokenSuccessAnswersAreNotDrift(t *testing.T) {
	ts := startTenants(t)
	s := ts["northwind"]
	cfg := outageConfig(ts["contoso"])
	steps := []resource.TestStep{{Config: cfg}}
	for _, answer := range []string{emulator.AnswerEmpty, emulator.AnswerTruncated, emulator.AnswerHTML} {
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				s.ClearFaults()
				s.InjectFault(emulator.Fault{Route: "exo.Get-ManagementRoleAssignment", Answer: answer})
			},
			Config: cfg, PlanOnly: true,
		})
	}
	steps = append(steps, resource.TestStep{
		PreConfig: func() {
			s.ClearFaults()
			if _, err := s.RemoveExchangeRoleAssignment(outageUPN("northwind", 2), "Mail Recipients"); err != nil {
				t.Fatal(err)
			}
		},
		Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true,
	}, resource.TestStep{
		Config: cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("o365_target_connection.northwind_2", tfjsonpath.New("missing_roles"), knownvalue.SetExact(nil)),
		},
		Check: checkTenant(func() error {
			if !strings.Contains(strings.Join(exchangeRolesOf(s, outageUPN("northwind", 2)), ","), "Mail Recipients") {
				return fmt.Errorf("the removed role was not assigned again: %v", exchangeRolesOf(s, outageUPN("northwind", 2)))
			}
			return nil
		}),
	})
	accTest(t, resource.TestCase{Steps: steps})
}
