package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// Resource identity, unique ids and import by identity (DESIGN.md §8). The identity tests
// need Terraform 1.12+ or OpenTofu 1.12+ (import blocks with `identity`); the ids are
// checked on every CLI.

// identityCLIs skips a test on CLIs without resource identity.
var identityCLIs = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}

// importedValues is a plan check that records the state an import block imported (the
// change's "before"), so that the state of an import by id and of one by identity can be
// compared; the plan may still update what lives only in configuration (secrets).
type importedValues struct {
	addr string
	got  map[string]any
}

func (c *importedValues) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr || rc.Change == nil {
			continue
		}
		if rc.Change.Importing == nil {
			resp.Error = fmt.Errorf("%s: not imported", c.addr)
			return
		}
		before, ok := rc.Change.Before.(map[string]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: no imported state in the plan", c.addr)
			return
		}
		c.got = before
		return
	}
	resp.Error = fmt.Errorf("%s: not in the plan", c.addr)
}

// sameImport checks that two imports recorded the same state, and that it holds want.
func sameImport(a, b *importedValues, want map[string]string) func() error {
	return func() error {
		if a.got == nil || b.got == nil {
			return fmt.Errorf("an import recorded nothing")
		}
		if !reflect.DeepEqual(a.got, b.got) {
			return fmt.Errorf("import by identity and by id differ:\n%v\n%v", a.got, b.got)
		}
		for k, v := range want {
			if a.got[k] != v {
				return fmt.Errorf("imported %s = %v, want %q", k, a.got[k], v)
			}
		}
		return nil
	}
}

// thenCheck runs f as a plan check (after the plan's own checks of an import step).
type thenCheck func() error

func (f thenCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f()
}

func exactIdentity(kv map[string]string) map[string]knownvalue.Check {
	out := map[string]knownvalue.Check{}
	for k, v := range kv {
		out[k] = knownvalue.StringExact(v)
	}
	return out
}

// The connection's identity is its tenant (GUID), application and name, set at create and
// kept; the plan of a new connection shows its final id; import blocks by identity and by id
// import the same state, with the tenant by its GUID.
func TestAccTargetAppConnection_identity(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := appConfig(s, appLogin(appGraphID, appGraphSecret, upnInA)) // tenant = a domain
	id := s.TenantID() + "/" + appGraphID + "/Target app"
	identity := map[string]string{"tenant_id": s.TenantID(), "client_id": appGraphID, "name": "Target app"}
	byIdentity := &importedValues{addr: appConnRes}
	byID := &importedValues{addr: appConnRes}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: identityCLIs,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectIdentity(appConnRes, exactIdentity(identity)),
				},
			},
			{
				// A refresh keeps the identity (the framework fails a Read that changes it).
				Config:            cfg,
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(appConnRes, exactIdentity(identity))},
			},
			{
				ResourceName:       appConnRes,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true, // the secret lives only in configuration, and `tenant` is written as a domain there
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					byIdentity,
				}},
			},
			{
				ResourceName:       appConnRes,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateId:      id,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
					byID,
					thenCheck(sameImport(byIdentity, byID, map[string]string{"id": id, "tenant": s.TenantID(), "tenant_id": s.TenantID(), "name": "Target app"})),
				}},
			},
		},
	})
}

// The admin account's connection: its identity is the cloud, the tenant (GUID) and the
// account; import by identity (without the tenant: the account's domain names it) and by
// id import the same state.
func TestAccTargetConnection_identity(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := connectionConfig(s, adminLogin(upnFull, pwFull))
	identity := map[string]string{"cloud": "worldwide", "tenant_id": s.TenantID(), "admin_email": upnFull}
	byIdentity := &importedValues{addr: res}
	byID := &importedValues{addr: res}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: identityCLIs,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact("worldwide/"+upnFull)),
					statecheck.ExpectIdentity(res, exactIdentity(identity)),
				},
			},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true, // the password lives only in configuration
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{byIdentity}},
			},
			{
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateId:      "worldwide/" + upnFull,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					byID,
					thenCheck(sameImport(byIdentity, byID, map[string]string{"id": "worldwide/" + upnFull, "tenant_id": s.TenantID()})),
				}},
			},
			{
				// An identity without the tenant: the read after the import resolves it.
				ResourceName:       res,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true,
				Config: cfg + fmt.Sprintf(`
import {
  to       = %s
  identity = { admin_email = %q }
}
`, res, upnFull),
				ImportStateConfigExact: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
				}},
			},
		},
	})
}

// The migration application's identity is its tenant (GUID) and client id; an import by
// identity adopts the same application as an import by id.
func TestAccMigrationApplication_identity(t *testing.T) {
	s := registrationTenant(t)
	cfg := migrationConfig(s, mgmtClientID, "")
	var clientID string
	byIdentity := &importedValues{addr: migRes}
	byID := &importedValues{addr: migRes}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: identityCLIs,
		CheckDestroy:           checkNoRegistration(s),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentityValue(migRes, tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
					statecheck.ExpectIdentityValueMatchesState(migRes, tfjsonpath.New("client_id")),
				},
				Check: func(*terraform.State) error {
					r, n := registrationOf(s)
					if n != 1 {
						return fmt.Errorf("%d registrations in the tenant, want 1", n)
					}
					clientID = r.app.AppID
					return nil
				},
			},
			{
				ResourceName:       migRes,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true, // imported, the application is adopted
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{byIdentity}},
			},
			{
				ResourceName:       migRes,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateIdFunc:  func(*terraform.State) (string, error) { return clientID, nil },
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					byID,
					thenCheck(func() error {
						return sameImport(byIdentity, byID, map[string]string{"id": clientID, "client_id": clientID, "tenant_id": s.TenantID()})()
					}),
				}},
			},
		},
	})
}

// Ten connections of one application in a for_each: the plan shows ten different ids, known
// at plan time, after one look-up of the tenant for all of them. (The test harness keeps no
// state of for_each instances, so the apply is of the same ten in a count.)
func TestAccTargetAppConnection_tenConnectionsTenIDs(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("c%02d", i+1)
	}
	body := fmt.Sprintf(`
  tenant           = "contoso.onmicrosoft.com"
  client_id        = %q
  client_secret    = %q
  verify_mailboxes = [%q]
`, appGraphID, appGraphSecret, upnInA)
	forEach := providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_app_connection" "many" {
  for_each = toset(%s)
  name     = "Target ${each.key}"
%s}
`, hclList(keys), body)
	count := providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_app_connection" "many" {
  count = 10
  name  = format("Target c%%02d", count.index + 1)
%s}
`, body)
	var planChecks []plancheck.PlanCheck
	planned, applied := map[string]string{}, stateIDs{}
	for i, k := range keys {
		id := s.TenantID() + "/" + appGraphID + "/Target " + k
		planned[fmt.Sprintf("o365_target_app_connection.many[%q]", k)] = id
		applied[fmt.Sprintf("o365_target_app_connection.many[%d]", i)] = id
	}
	planChecks = append(planChecks, plannedIDs(planned), thenCheck(func() error {
		if n := s.Counters().ByRoute["openid-configuration"]; n != 1 {
			return fmt.Errorf("the plan looked the tenant up %d times, want once for ten connections", n)
		}
		return nil
	}))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig:          s.ResetCounters,
				Config:             forEach,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks:   resource.ConfigPlanChecks{PostApplyPreRefresh: planChecks},
			},
			{Config: count, ConfigStateChecks: []statecheck.StateCheck{applied}},
			{Config: count, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

// plannedIDs is a plan check that the plan creates exactly these resources with these ids,
// each known at plan time.
type plannedIDs map[string]string

func (want plannedIDs) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	got := map[string]string{}
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Change == nil {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		id, _ := after["id"].(string) // an unknown id is absent from "after"
		got[rc.Address] = id
	}
	if !reflect.DeepEqual(map[string]string(want), got) {
		resp.Error = fmt.Errorf("planned ids:\n%v\nwant:\n%v", got, map[string]string(want))
	}
}

// Renaming a connection replaces it (its id and identity follow the name); the tenant
// written another way (its GUID for its domain) updates in place.
func TestAccTargetAppConnection_renameReplaces(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	login := appLogin(appGraphID, appGraphSecret, upnInA)
	renamed := providerBlock(s, defaultMaxRetries) + strings.Replace(appResource("test", login), `"Target app"`, `"Target app 2"`, 1)
	byGUID := providerBlock(s, defaultMaxRetries) + strings.Replace(strings.Replace(appResource("test", login), `"Target app"`, `"Target app 2"`, 1),
		`"contoso.onmicrosoft.com"`, fmt.Sprintf("%q", s.TenantID()), 1)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: appConfig(s, login)},
			{
				Config: renamed,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionReplace),
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(s.TenantID()+"/"+appGraphID+"/Target app 2")),
				}},
			},
			{
				Config: byGUID,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(s.TenantID()+"/"+appGraphID+"/Target app 2")),
				}},
			},
			{
				ResourceName:  appConnRes,
				ImportState:   true,
				ImportStateId: s.TenantID() + "/" + appGraphID,
				ExpectError:   regexp.MustCompile(`Expected <tenant>/<client_id>/<name>`),
			},
		},
	})
}

// stateIDs is a state check that the state holds exactly these resources with these ids (the
// statecheck package does not address for_each instances).
type stateIDs map[string]string

func (want stateIDs) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	got := map[string]string{}
	if req.State != nil && req.State.Values != nil && req.State.Values.RootModule != nil {
		for _, r := range req.State.Values.RootModule.Resources {
			id, _ := r.AttributeValues["id"].(string)
			got[r.Address] = id
		}
	}
	if !reflect.DeepEqual(map[string]string(want), got) {
		resp.Error = fmt.Errorf("ids in state:\n%v\nwant:\n%v", got, map[string]string(want))
	}
}

// Two new connections of one application with one name: the plan fails on `name`, before
// anything is created.
func TestAccTargetAppConnection_duplicateName(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_app_connection" "many" {
  count            = 3
  name             = "Target"
  tenant           = "contoso.onmicrosoft.com"
  client_id        = %q
  client_secret    = %q
  verify_mailboxes = [%q]
}
`, appGraphID, appGraphSecret, upnInA)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Two connections of one application with one name.*also named\s+"Target"`),
			},
			{
				// Different names: the plan passes and each connection is created.
				Config: strings.Replace(cfg, `name             = "Target"`, `name             = "Target ${count.index}"`, 1),
				ConfigStateChecks: []statecheck.StateCheck{stateIDs{
					"o365_target_app_connection.many[0]": s.TenantID() + "/" + appGraphID + "/Target 0",
					"o365_target_app_connection.many[1]": s.TenantID() + "/" + appGraphID + "/Target 1",
					"o365_target_app_connection.many[2]": s.TenantID() + "/" + appGraphID + "/Target 2",
				}},
			},
		},
	})
}
