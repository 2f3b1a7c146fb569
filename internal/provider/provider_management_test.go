package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

const testMgmtClientID = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func diagText(d diag.Diagnostics) string {
	var b strings.Builder
	for _, x := range d {
		b.WriteString(x.Summary() + ": " + x.Detail() + " [" + diagPath(x) + "]\n")
	}
	return b.String()
}

func TestResolveManagementNone(t *testing.T) {
	// AZURE_FEDERATED_TOKEN_FILE alone (set by workload identity for other tools) makes no
	// management identity.
	cfg, diags := resolveManagement(nil, envOf(map[string]string{EnvAzureFederatedTokenFile: "/var/run/token"}))
	if cfg != nil || diags.HasError() {
		t.Fatalf("cfg=%+v diags=%s", cfg, diagText(diags))
	}
}

func TestResolveManagementFromEnvironment(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("eyJ.fed.token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		kind connection.CredentialKind
	}{
		{"secret", map[string]string{EnvTenantID: "contoso.onmicrosoft.com", EnvManagementClientID: testMgmtClientID, EnvManagementClientSecret: "s3cret-value"}, connection.ClientSecret},
		{"federated, own variable", map[string]string{EnvTenantID: "contoso.onmicrosoft.com", EnvManagementClientID: testMgmtClientID, EnvManagementFederatedFile: token}, connection.FederatedToken},
		{"federated, Azure's variable", map[string]string{EnvTenantID: "contoso.onmicrosoft.com", EnvManagementClientID: testMgmtClientID, EnvAzureFederatedTokenFile: token}, connection.FederatedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := resolveManagement(nil, envOf(tc.env))
			if diags.HasError() || cfg == nil {
				t.Fatalf("cfg=%+v diags=%s", cfg, diagText(diags))
			}
			if cfg.TenantID != "contoso.onmicrosoft.com" || cfg.ClientID != testMgmtClientID || cfg.Credential.Kind() != tc.kind {
				t.Fatalf("cfg = %+v", cfg)
			}
		})
	}
}

// Configuration wins over the environment, also for the credential's kind.
func TestResolveManagementConfigurationWins(t *testing.T) {
	env := envOf(map[string]string{EnvTenantID: "env.example", EnvManagementClientID: "11111111-2222-3333-4444-555555555555", EnvManagementClientSecret: "from-env"})
	cfg, diags := resolveManagement(&managementModel{TenantID: types.StringValue("contoso.onmicrosoft.com"), ClientID: types.StringValue(testMgmtClientID),
		ClientSecret: types.StringValue("from-config")}, env)
	if diags.HasError() || cfg.TenantID != "contoso.onmicrosoft.com" || cfg.ClientID != testMgmtClientID || cfg.Credential != connection.ClientSecretCredential("from-config") {
		t.Fatalf("cfg=%+v diags=%s", cfg, diagText(diags))
	}
	if len(cfg.Secrets) != 1 || cfg.Secrets[0] != "from-config" {
		t.Fatal("the secret is not masked")
	}
}

func TestResolveManagementCertificateFile(t *testing.T) {
	c, err := emulator.NewTestCertificate("mgmt", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pemFile, p12File, pubFile := filepath.Join(dir, "m.pem"), filepath.Join(dir, "m.pfx"), filepath.Join(dir, "pub.pem")
	for f, b := range map[string][]byte{pemFile: c.PEM, p12File: c.PKCS12, pubFile: c.CertPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := func(file, password string) *managementModel {
		m := &managementModel{TenantID: types.StringValue("contoso.onmicrosoft.com"), ClientID: types.StringValue(testMgmtClientID), ClientCertificateFile: types.StringValue(file)}
		if password != "" {
			m.ClientCertificatePassword = types.StringValue(password)
		}
		return m
	}
	none := envOf(nil)
	for _, ok := range []*managementModel{base(pemFile, ""), base(p12File, c.PKCS12Password)} {
		cfg, diags := resolveManagement(ok, none)
		if diags.HasError() || cfg.Credential.Kind() != connection.ClientCertificate {
			t.Fatalf("%s: %s", ok.ClientCertificateFile, diagText(diags))
		}
	}
	for _, tc := range []struct {
		m    *managementModel
		want string
	}{
		{base(filepath.Join(dir, "missing.pem"), ""), "cannot read"},
		{base(pubFile, ""), "Unusable management certificate"},
		{base(p12File, "wrong"), "Unusable management certificate"},
	} {
		_, diags := resolveManagement(tc.m, none)
		if got := diagText(diags); !diags.HasError() || !strings.Contains(got, tc.want) || !strings.Contains(got, "[management.client_certificate_file]") {
			t.Errorf("%s: %s", tc.m.ClientCertificateFile, got)
		}
		if strings.Contains(diagText(diags), c.PKCS12Password) {
			t.Error("the certificate password is in a diagnostic")
		}
	}
}

func TestResolveManagementErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *managementModel
		env  map[string]string
		want string
	}{
		{"no tenant", &managementModel{ClientID: types.StringValue(testMgmtClientID), ClientSecret: types.StringValue("x")}, nil, "[management.tenant_id]"},
		{"no client id", &managementModel{TenantID: types.StringValue("t"), ClientSecret: types.StringValue("x")}, nil, "[management.client_id]"},
		{"bad client id from env", nil, map[string]string{EnvTenantID: "t", EnvManagementClientID: "nope", EnvManagementClientSecret: "x"}, "from environment variable " + EnvManagementClientID},
		{"no credential", &managementModel{TenantID: types.StringValue("t"), ClientID: types.StringValue(testMgmtClientID)}, nil, "Management credential missing"},
		{"two credentials in the environment", nil, map[string]string{EnvTenantID: "t", EnvManagementClientID: testMgmtClientID, EnvManagementClientSecret: "x",
			EnvManagementFederatedFile: "/tmp/x"}, "More than one management credential"},
		{"token file missing", &managementModel{TenantID: types.StringValue("t"), ClientID: types.StringValue(testMgmtClientID), FederatedTokenFile: types.StringValue("/nonexistent/token")}, nil, "Unusable federated token file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := resolveManagement(tc.m, envOf(tc.env))
			if got := diagText(diags); cfg != nil || !diags.HasError() || !strings.Contains(got, tc.want) {
				t.Fatalf("cfg=%+v diags=%s", cfg, got)
			}
		})
	}
}

func TestCheckCertificateAndExpiry(t *testing.T) {
	for _, tc := range []struct {
		notAfter  time.Time
		errs, wrn int
	}{
		{time.Now().Add(365 * 24 * time.Hour), 0, 0},
		{time.Now().Add(10 * 24 * time.Hour), 0, 1},
		{time.Now().Add(-time.Minute), 1, 0},
	} {
		c, err := emulator.NewTestCertificate("x", tc.notAfter)
		if err != nil {
			t.Fatal(err)
		}
		var d diag.Diagnostics
		checkPublicCertificate(string(c.CertPEM), time.Now(), &d)
		if d.ErrorsCount() != tc.errs || d.WarningsCount() != tc.wrn {
			t.Errorf("notAfter %v: %s", tc.notAfter, diagText(d))
		}
	}
	for _, tc := range []struct {
		at        time.Time
		errs, wrn int
		fix       string
	}{
		{time.Now().Add(60 * 24 * time.Hour), 0, 0, ""},
		{time.Now().Add(29 * 24 * time.Hour), 0, 1, "client_secret_rotate_before_days"},
		{time.Now().Add(-time.Hour), 1, 0, "new `certificate`"},
	} {
		var d diag.Diagnostics
		checkExpiry(types.StringValue(tc.at.UTC().Format(time.RFC3339)), &d)
		if d.ErrorsCount() != tc.errs || d.WarningsCount() != tc.wrn || !strings.Contains(diagText(d), tc.fix) {
			t.Errorf("expiry %v: %s", tc.at, diagText(d))
		}
	}
}

// migrationConfigValue builds a configuration of o365_migration_application with the given
// attributes set and every other one null.
func migrationConfigValue(t *testing.T, set map[string]tftypes.Value) tfsdk.Config {
	t.Helper()
	ctx := context.Background()
	var sr resource.SchemaResponse
	(&migrationApplicationResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)
	typ, ok := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("schema type is not an object")
	}
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tfsdk.Config{Schema: sr.Schema, Raw: tftypes.NewValue(typ, vals)}
}

func TestValidateConfigProtocolRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set       map[string]tftypes.Value
		errs, wrn int
		want      string
	}{
		{"graph", map[string]tftypes.Value{"display_name": tftypes.NewValue(tftypes.String, "x")}, 0, 0, ""},
		{"ews: the end date is the plan's notice, not validation's", map[string]tftypes.Value{"protocol": tftypes.NewValue(tftypes.String, "ews")}, 0, 0, ""},
		{"public folders over graph", map[string]tftypes.Value{"public_folders": tftypes.NewValue(tftypes.Bool, true)}, 1, 0, "Public folders need EWS"},
		{"public folders over ews", map[string]tftypes.Value{"protocol": tftypes.NewValue(tftypes.String, "ews"), "public_folders": tftypes.NewValue(tftypes.Bool, true)}, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp resource.ValidateConfigResponse
			(&migrationApplicationResource{}).ValidateConfig(context.Background(), resource.ValidateConfigRequest{Config: migrationConfigValue(t, tc.set)}, &resp)
			d := resp.Diagnostics
			if d.ErrorsCount() != tc.errs || d.WarningsCount() != tc.wrn || !strings.Contains(diagText(d), tc.want) {
				t.Fatalf("%s", diagText(d))
			}
		})
	}
}
