package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Acceptance tests of the client secret's renewal: rotation with an overlap, and an expired
// secret repaired together with the connection that uses it, in one apply.

// tokenStatus is the HTTP status of a client-credentials token request with secret.
func tokenStatus(t *testing.T, s *emulator.Server, clientID, secret string) int {
	t.Helper()
	hc, err := transport.NewHTTPClient(s.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := hc.PostForm(s.URL()+"/contoso.onmicrosoft.com/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// secretKeyIDs are the key ids of the registration's client secrets in the tenant.
func secretKeyIDs(s *emulator.Server) []string {
	r, _ := registrationOf(s)
	if r.app == nil {
		return nil
	}
	var out []string
	for _, p := range r.app.PasswordCredentials {
		out = append(out, strings.ToLower(p.KeyID))
	}
	return out
}

// connectionSecret is the client_secret the connection's state holds.
func connectionSecret(st *terraform.State) string {
	if rs, ok := st.RootModule().Resources[engineConnRes]; ok {
		return rs.Primary.Attributes["client_secret"]
	}
	return ""
}

// A secret inside its renewal window: the plan renews it, the apply adds the new one and
// keeps the old one (both work), the connection switches to the new value; the plan during
// the overlap is empty; once the overlap is over (here: set to 0) the apply removes the old.
func TestAccMigrationApplication_secretRotationWithOverlap(t *testing.T) {
	s := registrationTenant(t)
	body := "  create_client_secret = true\n  client_secret_rotate_before_days = 30\n"
	cfg := migrationConfig(s, mgmtClientID, body) + appConnectionOf("  client_secret = o365_migration_application.test.client_secret", mailboxOutOfScope)
	overlapOver := migrationConfig(s, mgmtClientID, body+"  client_secret_overlap_days = 0\n") +
		appConnectionOf("  client_secret = o365_migration_application.test.client_secret", mailboxOutOfScope)
	var clientID, oldKey, oldSecret, newKey, newSecret string
	soon := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("client_secret_overlap_days"), knownvalue.Int64Exact(7)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_key_id"), knownvalue.Null()),
			},
			Check: func(st *terraform.State) error {
				clientID, oldKey, oldSecret = stateAttr(st, "client_id"), stateAttr(st, "client_secret_key_id"), stateAttr(st, "client_secret")
				if keys := secretKeyIDs(s); len(keys) != 1 || keys[0] != strings.ToLower(oldKey) {
					return fmt.Errorf("tenant secrets %v, state key %q", keys, oldKey)
				}
				if connectionSecret(st) != oldSecret {
					return fmt.Errorf("the connection does not use the application's secret")
				}
				return nil
			},
		}, {
			// Ten days before its end the secret is inside the 30-day renewal window.
			PreConfig: func() {
				if err := s.SetApplicationCredentialEnd(clientID, oldKey, soon); err != nil {
					t.Fatal(err)
				}
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(migRes, tfjsonpath.New("client_secret")),
				plancheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_key_id"), knownvalue.StringFunc(func(v string) error {
					if !strings.EqualFold(v, oldKey) {
						return fmt.Errorf("retiring %q, want %q", v, oldKey)
					}
					return nil
				})),
				plancheck.ExpectResourceAction(engineConnRes, plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_expires_at"), knownvalue.StringExact(soon.Format(time.RFC3339))),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_remove_after"), knownvalue.NotNull()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
			},
			Check: func(st *terraform.State) error {
				newKey, newSecret = stateAttr(st, "client_secret_key_id"), stateAttr(st, "client_secret")
				if newKey == "" || strings.EqualFold(newKey, oldKey) || newSecret == oldSecret {
					return fmt.Errorf("no new secret: key %q (old %q)", newKey, oldKey)
				}
				if !strings.EqualFold(stateAttr(st, "retiring_client_secret_key_id"), oldKey) {
					return fmt.Errorf("retiring key %q, want %q", stateAttr(st, "retiring_client_secret_key_id"), oldKey)
				}
				if err := equalStrings(secretKeyIDs(s), []string{strings.ToLower(oldKey), strings.ToLower(newKey)}); err != nil {
					return fmt.Errorf("tenant secrets: %w", err)
				}
				if connectionSecret(st) != newSecret {
					return fmt.Errorf("the connection did not switch to the new secret")
				}
				// Both work during the overlap: an engine outside Terraform is not cut off.
				for _, secret := range []string{oldSecret, newSecret} {
					if code := mailboxStatus(t, s, clientID, secret, mailboxOutOfScope); code != http.StatusOK {
						return fmt.Errorf("a secret does not open the mailbox during the overlap: HTTP %d", code)
					}
				}
				if removeAfter, err := time.Parse(time.RFC3339, stateAttr(st, "retiring_client_secret_remove_after")); err != nil ||
					removeAfter.Before(time.Now().Add(6*24*time.Hour)) || removeAfter.After(time.Now().Add(8*24*time.Hour)) {
					return fmt.Errorf("retiring_client_secret_remove_after %q, want in 7 days", stateAttr(st, "retiring_client_secret_remove_after"))
				}
				return nil
			},
		}, {
			// During the overlap nothing changes.
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// The overlap is over: the apply removes the old secret and keeps the new one.
			Config: overlapOver,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_key_id"), knownvalue.Null()),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_key_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_remove_after"), knownvalue.Null()),
			},
			Check: func(st *terraform.State) error {
				if stateAttr(st, "client_secret") != newSecret || !strings.EqualFold(stateAttr(st, "client_secret_key_id"), newKey) {
					return fmt.Errorf("the current secret changed")
				}
				if err := equalStrings(secretKeyIDs(s), []string{strings.ToLower(newKey)}); err != nil {
					return fmt.Errorf("tenant secrets: %w", err)
				}
				if code := tokenStatus(t, s, clientID, oldSecret); code == http.StatusOK {
					return fmt.Errorf("the removed secret still signs in")
				}
				return nil
			},
		}, {
			Config:           overlapOver,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// The renewal's addPassword answer is lost: the retry never leaves a secret nobody knows;
// the tenant holds exactly the retiring and the new secret, and the recorded one works.
func TestAccMigrationApplication_secretRotationLostAnswer(t *testing.T) {
	s := registrationTenant(t)
	cfg := migrationConfig(s, mgmtClientID, "  create_client_secret = true\n  client_secret_rotate_before_days = 30\n")
	var clientID, oldKey string
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				clientID, oldKey = stateAttr(st, "client_id"), stateAttr(st, "client_secret_key_id")
				return nil
			},
		}, {
			PreConfig: func() {
				if err := s.SetApplicationCredentialEnd(clientID, oldKey, time.Now().Add(5*24*time.Hour)); err != nil {
					t.Fatal(err)
				}
				s.ResetCounters()
				s.InjectFault(emulator.Fault{Route: "graph.applications.addPassword", DropResponse: true, Count: 1})
			},
			Config: cfg,
			Check: func(st *terraform.State) error {
				newKey := stateAttr(st, "client_secret_key_id")
				if err := equalStrings(secretKeyIDs(s), []string{strings.ToLower(oldKey), strings.ToLower(newKey)}); err != nil {
					return fmt.Errorf("tenant secrets (retiring and new only): %w", err)
				}
				if !strings.EqualFold(stateAttr(st, "retiring_client_secret_key_id"), oldKey) {
					return fmt.Errorf("retiring %q, want %q", stateAttr(st, "retiring_client_secret_key_id"), oldKey)
				}
				if n := s.Counters().ByRoute["graph.applications.addPassword"]; n != 2 {
					return fmt.Errorf("addPassword sent %d times, want 2 (the lost one and its retry)", n)
				}
				if code := tokenStatus(t, s, clientID, stateAttr(st, "client_secret")); code != http.StatusOK {
					return fmt.Errorf("the recorded secret does not sign in: HTTP %d", code)
				}
				return nil
			},
		}},
	})
}

// A renewal window as long as the lifetime is refused at plan time, naming both attributes.
func TestAccMigrationApplication_secretRotationWindowTooLong(t *testing.T) {
	s := registrationTenant(t)
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config:      migrationConfig(s, mgmtClientID, "  create_client_secret = true\n  client_secret_lifetime_days = 30\n  client_secret_rotate_before_days = 30\n"),
			ExpectError: regexp.MustCompile(`(?s)client_secret_rotate_before_days.*must be shorter than.*client_secret_lifetime_days`),
		}},
	})
}

// The application's secret expired: one apply, without -target or -refresh=false, adds a new
// secret, removes the expired one and verifies the connection that uses it with the new
// value; the state and the tenant show the new secret in use.
func TestAccMigrationApplication_expiredSecretRepairedInOneApply(t *testing.T) {
	s := registrationTenant(t)
	cfg := migrationConfig(s, mgmtClientID, "  create_client_secret = true\n") +
		appConnectionOf("  client_secret = o365_migration_application.test.client_secret", mailboxOutOfScope)
	var clientID, oldKey, oldSecret, verifiedAt string
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				clientID, oldKey, oldSecret = stateAttr(st, "client_id"), stateAttr(st, "client_secret_key_id"), stateAttr(st, "client_secret")
				verifiedAt = st.RootModule().Resources[engineConnRes].Primary.Attributes["verified_at"]
				return nil
			},
		}, {
			PreConfig: func() {
				if err := s.SetApplicationCredentialEnd(clientID, oldKey, time.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
				if code := tokenStatus(t, s, clientID, oldSecret); code == http.StatusOK {
					t.Fatal("the expired secret still signs in")
				}
				time.Sleep(time.Second) // verified_at (seconds) must move
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(migRes, tfjsonpath.New("client_secret")),
				plancheck.ExpectKnownValue(migRes, tfjsonpath.New("retiring_client_secret_key_id"), knownvalue.Null()),
				plancheck.ExpectResourceAction(engineConnRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(engineConnRes, tfjsonpath.New("client_secret")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
			},
			Check: func(st *terraform.State) error {
				newKey, newSecret := stateAttr(st, "client_secret_key_id"), stateAttr(st, "client_secret")
				if err := equalStrings(secretKeyIDs(s), []string{strings.ToLower(newKey)}); err != nil || strings.EqualFold(newKey, oldKey) {
					return fmt.Errorf("tenant secrets (the expired one removed, one new): %v; state key %q, old %q", err, newKey, oldKey)
				}
				if connectionSecret(st) != newSecret {
					return fmt.Errorf("the connection does not hold the new secret")
				}
				if v := st.RootModule().Resources[engineConnRes].Primary.Attributes["verified_at"]; v == verifiedAt {
					return fmt.Errorf("the connection was not verified again (verified_at %s)", v)
				}
				if code := mailboxStatus(t, s, clientID, newSecret, mailboxOutOfScope); code != http.StatusOK {
					return fmt.Errorf("the new secret does not open the mailbox: HTTP %d", code)
				}
				return nil
			},
		}, {
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// The plan's decisions, at a fixed time: kept outside the window, renewed inside it (the
// old secret retiring) or once expired (the old one not kept), the retiring one removed once
// its overlap is over, and a changed overlap moving that end.
func TestPlanSecret(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) types.String { return types.StringValue(now.Add(d).Format(time.RFC3339)) }
	model := func(end types.String) migrationApplicationModel {
		return migrationApplicationModel{
			CreateClientSecret: types.BoolValue(true), ClientSecretLifetimeDays: types.Int64Value(180),
			ClientSecretRotateBeforeDays: types.Int64Value(30), ClientSecretOverlapDays: types.Int64Value(7),
			ClientSecret: types.StringValue("value"), ClientSecretKeyID: types.StringValue("old"), ClientSecretExpiresAt: end,
			RetiringClientSecretKeyID: types.StringNull(), RetiringClientSecretExpiresAt: types.StringNull(), RetiringClientSecretRemoveAfter: types.StringNull(),
		}
	}
	retiring := func(m migrationApplicationModel, removeAfter types.String) migrationApplicationModel {
		m.RetiringClientSecretKeyID, m.RetiringClientSecretExpiresAt, m.RetiringClientSecretRemoveAfter = types.StringValue("older"), at(time.Hour), removeAfter
		return m
	}
	for _, tc := range []struct {
		name          string
		state, config migrationApplicationModel
		kept          bool
		retiringKey   string
		removeAfter   types.String
		warnings      int
	}{
		{"outside the window", model(at(31 * day)), model(at(31 * day)), true, "", types.StringNull(), 0},
		{"inside the window", model(at(29 * day)), model(at(29 * day)), false, "old", at(7 * day), 0},
		{"expired", model(at(-time.Hour)), model(at(-time.Hour)), false, "", types.StringNull(), 1},
		{"no window set", model(at(29 * day)), func() migrationApplicationModel {
			m := model(at(29 * day))
			m.ClientSecretRotateBeforeDays = types.Int64Null()
			return m
		}(), true, "", types.StringNull(), 0},
		{"overlap running", retiring(model(at(100*day)), at(day)), model(at(100 * day)), true, "older", at(day), 0},
		{"overlap over", retiring(model(at(100*day)), at(-time.Second)), model(at(100 * day)), true, "", types.StringNull(), 0},
		{"retiring secret expired", func() migrationApplicationModel {
			m := retiring(model(at(100*day)), at(day))
			m.RetiringClientSecretExpiresAt = at(-time.Second)
			return m
		}(), model(at(100 * day)), true, "", types.StringNull(), 0},
		{"overlap shortened", retiring(model(at(100*day)), at(day)), func() migrationApplicationModel {
			m := model(at(100 * day))
			m.ClientSecretOverlapDays = types.Int64Value(5)
			return m
		}(), true, "", types.StringNull(), 0},
		{"overlap lengthened", retiring(model(at(100*day)), at(day)), func() migrationApplicationModel {
			m := model(at(100 * day))
			m.ClientSecretOverlapDays = types.Int64Value(10)
			return m
		}(), true, "older", at(4 * day), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			plan, state := tc.config, tc.state
			kept := planSecret(&plan, &state, now, &diags)
			if kept != tc.kept || plan.ClientSecret.IsUnknown() == tc.kept || diags.WarningsCount() != tc.warnings || diags.HasError() {
				t.Fatalf("kept %v (secret unknown %v), diagnostics %v", kept, plan.ClientSecret.IsUnknown(), diags)
			}
			if plan.RetiringClientSecretKeyID.ValueString() != tc.retiringKey || !plan.RetiringClientSecretRemoveAfter.Equal(tc.removeAfter) {
				t.Fatalf("retiring %v until %v, want %q until %v", plan.RetiringClientSecretKeyID, plan.RetiringClientSecretRemoveAfter, tc.retiringKey, tc.removeAfter)
			}
		})
	}
}
