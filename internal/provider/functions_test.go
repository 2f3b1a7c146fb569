package provider

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// sha1Thumbprint computes the thumbprint independently of the provider: SHA-1 of the DER of
// the PEM's first block, upper-case hex.
func sha1Thumbprint(t *testing.T, certPEM []byte) string {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatal("the test certificate is not PEM")
	}
	s := sha1.Sum(b.Bytes)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// runFunction runs f with one string argument and returns its result and error.
func runFunction(f function.Function, arg string, result attr.Value) (attr.Value, *function.FuncError) {
	req := function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{types.StringValue(arg)})}
	resp := &function.RunResponse{Result: function.NewResultData(result)}
	f.Run(context.Background(), req, resp)
	return resp.Result.Value(), resp.Error
}

func TestCertificateFunctions(t *testing.T) {
	notAfter := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	c, err := emulator.NewTestCertificate("tf-o365 functions", notAfter)
	if err != nil {
		t.Fatal(err)
	}
	want := sha1Thumbprint(t, c.CertPEM)

	got, ferr := runFunction(newCertificateThumbprintFunction(), string(c.CertPEM), types.StringUnknown())
	if ferr != nil || !got.Equal(types.StringValue(want)) {
		t.Fatalf("certificate_thumbprint = %v, %v; want %s", got, ferr, want)
	}

	got, ferr = runFunction(newCertificateInfoFunction(), string(c.CertPEM), types.ObjectUnknown(certificateInfoTypes))
	if ferr != nil {
		t.Fatal(ferr)
	}
	obj, ok := got.(types.Object)
	if !ok {
		t.Fatalf("certificate_info returned %T", got)
	}
	attrs := obj.Attributes()
	for k, v := range map[string]string{"subject": "CN=tf-o365 functions", "not_after": notAfter.Format(time.RFC3339), "thumbprint": want} {
		if !attrs[k].Equal(types.StringValue(v)) {
			t.Errorf("certificate_info.%s = %v, want %q", k, attrs[k], v)
		}
	}
	nbv, _ := attrs["not_before"].(types.String)
	if nb, err := time.Parse(time.RFC3339, nbv.ValueString()); err != nil || !nb.Before(notAfter) {
		t.Errorf("certificate_info.not_before = %v (%v)", attrs["not_before"], err)
	}

	// Refused inputs: the error names the argument, and never repeats the input.
	keyLine := strings.Split(string(c.KeyPEM), "\n")[2]
	for name, in := range map[string]string{
		"certificate with its key": string(c.PEM),
		"key alone":                string(c.KeyPEM),
		"not PEM":                  "secret-looking-garbage-1234",
		"broken certificate":       "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWxvb2tpbmc=\n-----END CERTIFICATE-----\n",
	} {
		for _, f := range []function.Function{newCertificateThumbprintFunction(), newCertificateInfoFunction()} {
			_, ferr := runFunction(f, in, types.StringUnknown())
			if ferr == nil || ferr.FunctionArgument == nil || *ferr.FunctionArgument != 0 || !strings.HasPrefix(ferr.Text, "not a usable public certificate: ") {
				t.Fatalf("%s: error %v, want one on the argument pem", name, ferr)
			}
			for _, secret := range []string{keyLine, "secret-looking", "c2VjcmV0LWxvb2tpbmc"} {
				if strings.Contains(ferr.Text, secret) {
					t.Errorf("%s: the error repeats the input: %s", name, ferr.Text)
				}
			}
		}
	}
}

// The functions in a configuration, on each CLI that has provider functions (Terraform 1.8+,
// OpenTofu): the thumbprint of the certificate an application registers is the one the
// tenant records, and a private key is refused without being shown.
func TestAccCertificateFunctions(t *testing.T) {
	s := registrationTenant(t)
	c, err := emulator.NewTestCertificate("tf-o365 functions", time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := sha1Thumbprint(t, c.CertPEM)
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  certificate = %q", c.CertPEM)) + fmt.Sprintf(`
locals {
  cert = %q
}
output "thumbprint" {
  value = provider::o365::certificate_thumbprint(local.cert)
}
output "info" {
  value = provider::o365::certificate_info(local.cert)
}
`, c.CertPEM)
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.8.0")))},
		CheckDestroy:           checkNoRegistration(s),
		Steps: []resource.TestStep{{
			// The certificate with its private key, marked sensitive as a key should be (so the
			// CLI itself does not print the argument): refused with the function's error; that
			// the error never contains the key is TestCertificateFunctions's check.
			Config: providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
locals {
  with_key = sensitive(%q)
}
output "thumbprint" {
  value     = provider::o365::certificate_thumbprint(local.with_key)
  sensitive = true
}
`, c.PEM),
			ExpectError: regexp.MustCompile(`(?s)not\s+a\s+usable\s+public\s+certificate:.*holds\s+a\s+private\s+key`),
		}, {
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("thumbprint", knownvalue.StringExact(want)),
				statecheck.ExpectKnownOutputValue("info", knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"subject": knownvalue.StringExact("CN=tf-o365 functions"), "thumbprint": knownvalue.StringExact(want)})),
			},
			Check: checkTenant(func() error {
				r, n := registrationOf(s)
				if n != 1 || len(r.app.KeyCredentials) != 1 || r.app.KeyCredentials[0].Thumbprint != want {
					return fmt.Errorf("the tenant's certificate is not the one the function names: %d applications, %+v", n, r.app)
				}
				return nil
			}),
		}},
	})
}
