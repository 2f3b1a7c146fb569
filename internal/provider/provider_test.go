package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func TestAccProvider_configuresAgainstLocalEndpoint(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: connectionConfig(s, adminLogin(upnFull, pwFull)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("cloud"), knownvalue.StringExact("worldwide")),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("ews_url"), knownvalue.StringExact(s.URL()+"/EWS/Exchange.asmx")),
			},
		}},
	})
}

func TestAccProvider_badConfigurationFailsAtPlan(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	body := `
resource "o365_target_connection" "test" {
  name        = "x"
  admin_email = "admin@contoso.onmicrosoft.com"
  password    = "x"
}`
	step := func(provider, want string) resource.TestStep {
		return resource.TestStep{Config: provider + body, PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			step(fmt.Sprintf(`provider "o365" {
  endpoints = { login = "http://127.0.0.1:1" }
  ca_certificate_file = %q
}`, s.CAFile()), `(?s)Invalid endpoint URL.*endpoints\.login.*must use https`),
			step(`provider "o365" {
  ca_certificate_file = "/nonexistent/ca.pem"
}`, `(?s)Unusable CA certificate file.*ca_certificate_file.*cannot read`),
			step(`provider "o365" {
  cloud = "atlantis"
}`, `(?s)Invalid Attribute Value Match.*cloud`),
			step(`provider "o365" {
  client_id = "not-a-guid"
}`, `(?s)Invalid client ID.*client_id`),
			step(`provider "o365" {
  max_retries = 99
}`, `(?s)Invalid Attribute Value.*max_retries`),
		},
	})
}
