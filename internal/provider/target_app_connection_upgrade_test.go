package provider

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// A state of version 0 (id `<tenant>/<client_id>`, shared by every connection of one
// application) is upgraded through the framework's path, as the CLI asks for it: the id is
// rewritten where the state holds the tenant's GUID, and kept for the refresh otherwise.
func TestTargetAppConnection_upgradeStateV0(t *testing.T) {
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	schema := schemas.ResourceSchemas["o365_target_app_connection"]
	if schema == nil || schema.Version != 1 {
		t.Fatalf("o365_target_app_connection schema version: %v, want 1", schema)
	}
	const (
		guid     = "3b2a1c0d-1111-4222-8333-944445555666"
		clientID = "5951643e-5013-442f-963c-1ee875bbe74a"
	)
	for _, tc := range []struct {
		name, state, wantID, wantSecret string
	}{
		{
			name: "tenant id known",
			state: `{"id":"contoso.onmicrosoft.com/` + clientID + `","name":"Contoso / Sales","cloud":"worldwide","tenant":"contoso.onmicrosoft.com",` +
				`"tenant_id":"` + guid + `","client_id":"` + clientID + `","client_secret":"s3cret","protocol":"graph","verify_mailboxes":["a@contoso.com"],` +
				`"granted_permissions":["Microsoft Graph/Mail.ReadWrite"],"missing_permissions":[],"unreachable_mailboxes":[],"pending_mailboxes":[]}`,
			wantID:     guid + "/" + clientID + "/Contoso / Sales",
			wantSecret: "s3cret",
		},
		{
			name: "tenant id not resolved yet",
			state: `{"id":"contoso.onmicrosoft.com/` + clientID + `","name":"Target","cloud":"worldwide","tenant":"contoso.onmicrosoft.com",` +
				`"tenant_id":null,"client_id":"` + clientID + `","protocol":"graph","verify_mailboxes":["a@contoso.com"]}`,
			wantID: "contoso.onmicrosoft.com/" + clientID,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
				TypeName: "o365_target_app_connection", Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(tc.state)},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range resp.Diagnostics {
				t.Errorf("diagnostic: %s: %s", d.Summary, d.Detail)
			}
			v, err := resp.UpgradedState.Unmarshal(schema.ValueType())
			if err != nil {
				t.Fatal(err)
			}
			var attrs map[string]tftypes.Value
			if err := v.As(&attrs); err != nil {
				t.Fatal(err)
			}
			var id, secret string
			if err := attrs["id"].As(&id); err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID {
				t.Errorf("id = %q, want %q", id, tc.wantID)
			}
			// Everything else is kept as it was.
			if err := attrs["client_secret"].As(&secret); err != nil || secret != tc.wantSecret {
				t.Errorf("client_secret = %q (%v), want %q", secret, err, tc.wantSecret)
			}
			var name string
			if err := attrs["name"].As(&name); err != nil || name == "" {
				t.Errorf("name lost: %v", err)
			}
		})
	}
}

func TestAppConnectionID(t *testing.T) {
	for _, tc := range []struct {
		in                   string
		tenant, client, name string
		ok                   bool
	}{
		{"3B2A1C0D-1111-4222-8333-944445555666/5951643E-5013-442F-963C-1EE875BBE74A/Sales / EU", "3B2A1C0D-1111-4222-8333-944445555666", "5951643E-5013-442F-963C-1EE875BBE74A", "Sales / EU", true},
		{"contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a/Target", "contoso.onmicrosoft.com", "5951643e-5013-442f-963c-1ee875bbe74a", "Target", true},
		{"contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a", "", "", "", false},
		{"contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a/ ", "", "", "", false},
		{"common/5951643e-5013-442f-963c-1ee875bbe74a/Target", "", "", "", false},
		{"contoso.onmicrosoft.com/not-a-guid/Target", "", "", "", false},
	} {
		tenant, client, name, ok := cutAppConnectionID(tc.in)
		if ok != tc.ok || (ok && (tenant != tc.tenant || client != tc.client || name != tc.name)) {
			t.Errorf("cutAppConnectionID(%q) = %q, %q, %q, %v", tc.in, tenant, client, name, ok)
		}
	}
	if got := appConnectionID("3B2A1C0D-1111-4222-8333-944445555666", "5951643E-5013-442F-963C-1EE875BBE74A", "Sales EU"); got != "3b2a1c0d-1111-4222-8333-944445555666/5951643e-5013-442f-963c-1ee875bbe74a/Sales EU" {
		t.Errorf("appConnectionID = %q", got)
	}
}

// A state written by the previous provider version (schema version 0: both connections of one
// application under one id, no identity, one of them never refreshed since its import) is
// upgraded by the first plan: each connection gets its own id, no change is planned, and on
// CLIs with resource identity each gets its identity.
func TestAccTargetAppConnection_upgradeFromV0(t *testing.T)         { testUpgradeFromV0(t, false) }
func TestAccTargetAppConnection_upgradeFromV0Identity(t *testing.T) { testUpgradeFromV0(t, true) }

func testUpgradeFromV0(t *testing.T, identity bool) {
	s := startTenant(t, emulator.Options{})
	work := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", work) // where the harness keeps the state this test rewrites
	login := appLogin(appGraphID, appGraphSecret, upnInA)
	cfg := providerBlock(s, defaultMaxRetries) + appResource("test", login) +
		strings.Replace(appResource("second", login), `"Target app second"`, `"Second"`, 1)
	checks := []statecheck.StateCheck{stateIDs{
		appConnRes:                          s.TenantID() + "/" + appGraphID + "/Target app",
		"o365_target_app_connection.second": s.TenantID() + "/" + appGraphID + "/Second",
	}}
	tc := resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg},
		{
			PreConfig: func() { writeV0State(t, work, "contoso.onmicrosoft.com/"+appGraphID) },
			Config:    cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				plancheck.ExpectKnownValue("o365_target_app_connection.second", tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
			}},
			ConfigStateChecks: checks,
		},
	}}
	if identity {
		tc.TerraformVersionChecks = identityCLIs
		tc.Steps[1].ConfigStateChecks = append(checks,
			statecheck.ExpectIdentity(appConnRes, exactIdentity(map[string]string{"tenant_id": s.TenantID(), "client_id": appGraphID, "name": "Target app"})),
			statecheck.ExpectIdentity("o365_target_app_connection.second", exactIdentity(map[string]string{"tenant_id": s.TenantID(), "client_id": appGraphID, "name": "Second"})))
	}
	accTest(t, tc)
}

// writeV0State rewrites the state under dir as version 0 wrote it: schema version 0, the
// shared id, no identity; the connection "second" without its tenant id (an import never
// refreshed).
func writeV0State(t *testing.T, dir, oldID string) {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "terraform.tfstate" {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("want one state file under %s, found %v", dir, files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]json.RawMessage
	var resources []map[string]json.RawMessage
	var serial int
	mustJSON(t, raw, &st)
	mustJSON(t, st["resources"], &resources)
	mustJSON(t, st["serial"], &serial)
	n := 0
	for _, r := range resources {
		var typ, name string
		var instances []map[string]json.RawMessage
		mustJSON(t, r["type"], &typ)
		mustJSON(t, r["name"], &name)
		if typ != "o365_target_app_connection" {
			continue
		}
		mustJSON(t, r["instances"], &instances)
		for _, in := range instances {
			var attrs map[string]any
			mustJSON(t, in["attributes"], &attrs)
			attrs["id"] = oldID
			if name == "second" {
				attrs["tenant_id"] = nil
			}
			in["attributes"] = toJSON(t, attrs)
			in["schema_version"] = json.RawMessage("0")
			delete(in, "identity")
			delete(in, "identity_schema_version")
			n++
		}
		r["instances"] = toJSON(t, instances)
	}
	if n != 2 {
		t.Fatalf("rewrote %d connections, want 2", n)
	}
	st["resources"] = toJSON(t, resources)
	st["serial"] = toJSON(t, serial+1)
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func toJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
