package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func writeCA(t *testing.T) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveConfigDefaults(t *testing.T) {
	cfg, diags := resolveConfig(providerModel{}, func(string) string { return "" })
	if diags.HasError() {
		t.Fatal(diags)
	}
	if cfg.DefaultCloud != "worldwide" || cfg.ClientID != DefaultClientID || cfg.MaxRetries != 5 || cfg.CAPEM != nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	cl, ok := cfg.Cloud("worldwide")
	if !ok || cl.Endpoints.Login != "https://login.microsoftonline.com" || cl.EWSURL() != "https://outlook.office365.com/EWS/Exchange.asmx" {
		t.Fatalf("worldwide: %+v", cl)
	}
}

func TestResolveConfigPrecedence(t *testing.T) {
	ca := writeCA(t)
	env := map[string]string{
		EnvCloud: "usgovernment", EnvLoginEndpoint: "https://env-login.example", EnvGraphEndpoint: "https://env-graph.example",
		EnvExchangeEndpoint: "https://env-exo.example", EnvCACertFile: ca, EnvClientID: "14d82eec-204b-4c2f-b7e8-296a70dab67e", EnvMaxRetries: "7",
	}
	getenv := func(k string) string { return env[k] }

	cfg, diags := resolveConfig(providerModel{}, getenv)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if cfg.DefaultCloud != "usgovernment" || cfg.Endpoints.Login != "https://env-login.example" || cfg.MaxRetries != 7 ||
		cfg.ClientID != "14d82eec-204b-4c2f-b7e8-296a70dab67e" || cfg.CAFile != ca || len(cfg.CAPEM) == 0 {
		t.Fatalf("from environment: %+v", cfg)
	}
	cl, _ := cfg.Cloud("usgovernment")
	if cl.EWSURL() != "https://env-exo.example/EWS/Exchange.asmx" || cl.GraphScope() != "https://graph.microsoft.us/.default" {
		t.Fatalf("overrides: %+v", cl)
	}

	m := providerModel{
		Cloud:      types.StringValue("china"),
		Endpoints:  &endpointsModel{Login: types.StringValue("https://cfg-login.example/"), Graph: types.StringNull(), Exchange: types.StringNull()},
		ClientID:   types.StringValue(DefaultClientID),
		MaxRetries: types.Int64Value(0),
	}
	cfg, diags = resolveConfig(m, getenv)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if cfg.DefaultCloud != "china" || cfg.Endpoints.Login != "https://cfg-login.example/" || cfg.Endpoints.Graph != "https://env-graph.example" ||
		cfg.ClientID != DefaultClientID || cfg.MaxRetries != 0 {
		t.Fatalf("configuration wins over environment: %+v", cfg)
	}
	cl, _ = cfg.Cloud("china")
	if cl.AuthorityHost() != "https://cfg-login.example/" {
		t.Fatalf("authority host %q", cl.AuthorityHost())
	}
}

func TestResolveConfigErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := filepath.Join(t.TempDir(), "ca-and-key.pem")
	keyed, err := emulator.NewTestCertificate("ca", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(withKey, keyed.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		env          map[string]string
		wantPath     string
		wantSummary  string
		wantInDetail string
		wantWarnings int
		wantNoErrors bool
	}{
		{name: "unknown cloud", env: map[string]string{EnvCloud: "mars"}, wantPath: "cloud", wantSummary: "Unknown cloud",
			wantInDetail: `Cloud "mars" (from environment variable O365_CLOUD) is not one of [china germany usgovernment usgovernment_dod worldwide]`},
		{name: "http endpoint", env: map[string]string{EnvLoginEndpoint: "http://127.0.0.1:8443"}, wantPath: "endpoints.login", wantSummary: "Invalid endpoint URL",
			wantInDetail: `endpoints.login (from environment variable O365_LOGIN_ENDPOINT): "http://127.0.0.1:8443" must use https`},
		{name: "endpoint with query", env: map[string]string{EnvGraphEndpoint: "https://g.example/?a=b"}, wantPath: "endpoints.graph", wantSummary: "Invalid endpoint URL",
			wantInDetail: "must not carry a query"},
		{name: "missing CA file", env: map[string]string{EnvCACertFile: "/nonexistent/ca.pem"}, wantPath: "ca_certificate_file", wantSummary: "Unusable CA certificate file",
			wantInDetail: `cannot read "/nonexistent/ca.pem"`},
		{name: "CA file without certificates", env: map[string]string{EnvCACertFile: bad}, wantPath: "ca_certificate_file", wantSummary: "Unusable CA certificate file",
			wantInDetail: "holds no PEM certificate"},
		{name: "CA file with a private key", env: map[string]string{EnvCACertFile: withKey}, wantPath: "ca_certificate_file", wantSummary: "Unusable CA certificate file",
			wantInDetail: `holds a private key (a PEM block of type "PRIVATE KEY"; not shown): give only the CA certificates`},
		{name: "client id", env: map[string]string{EnvClientID: "my-app"}, wantPath: "client_id", wantSummary: "Invalid client ID",
			wantInDetail: `must be an application (client) ID, a GUID like fb78d390-0c51-40cd-8e17-fdbfab77341b; got "my-app"`},
		{name: "max retries", env: map[string]string{EnvMaxRetries: "lots"}, wantPath: "max_retries", wantSummary: "Invalid max_retries",
			wantInDetail: `must be a whole number between 0 and 20; got "lots"`},
		{name: "germany warns", env: map[string]string{EnvCloud: "germany"}, wantNoErrors: true, wantWarnings: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := resolveConfig(providerModel{}, func(k string) string { return tt.env[k] })
			if tt.wantNoErrors {
				if diags.HasError() || diags.WarningsCount() != tt.wantWarnings {
					t.Fatalf("diags = %v", diags)
				}
				return
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("want one error, got %v", diags)
			}
			d := diags.Errors()[0]
			if d.Summary() != tt.wantSummary || !strings.Contains(d.Detail(), tt.wantInDetail) {
				t.Fatalf("got %q / %q, want %q containing %q", d.Summary(), d.Detail(), tt.wantSummary, tt.wantInDetail)
			}
			if p := diagPath(d); p != tt.wantPath {
				t.Fatalf("path %q, want %q", p, tt.wantPath)
			}
		})
	}
}
