package provider

import (
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

const rolesDS = "data.o365_roles.test"

func roleChecks(pf, um bool) []statecheck.StateCheck {
	t := roles.Toggles{PublicFolders: pf, UserManagement: um}
	var checks []statecheck.StateCheck
	var required []string
	for i, r := range roles.All() {
		on := t.On(r.OptionalToggle)
		if on {
			required = append(required, r.Name)
		}
		var toggle knownvalue.Check = knownvalue.Null()
		if r.OptionalToggle != "" {
			toggle = knownvalue.StringExact(r.OptionalToggle)
		}
		var template knownvalue.Check = knownvalue.Null()
		if r.DirectoryRoleTemplateID != "" {
			template = knownvalue.StringExact(r.DirectoryRoleTemplateID)
		}
		checks = append(checks, statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles").AtSliceIndex(i), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"name":                       knownvalue.StringExact(r.Name),
			"kind":                       knownvalue.StringExact(string(r.Kind)),
			"required":                   knownvalue.Bool(on),
			"optional_toggle":            toggle,
			"purpose":                    knownvalue.StringRegexp(nonEmpty),
			"directory_role_template_id": template,
			"grant_command":              knownvalue.StringExact(r.GrantCommand("admin@contoso.onmicrosoft.com")),
		})))
	}
	checks = append(checks,
		statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles"), knownvalue.ListSizeExact(len(roles.All()))),
		statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("required_role_names"), setOf(required...)))
	return checks
}

func rolesConfig(pf, um string) string {
	return `
data "o365_roles" "test" {
  admin_email          = "admin@contoso.onmicrosoft.com"
  public_folders_role  = ` + pf + `
  user_management_role = ` + um + `
}`
}

func TestAccRolesDataSource_togglesChangeRequiredRoles(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: `provider "o365" {}` + rolesConfig("null", "null"), ConfigStateChecks: roleChecks(false, false)},
			{Config: `provider "o365" {}` + rolesConfig("true", "false"), ConfigStateChecks: roleChecks(true, false)},
			{Config: `provider "o365" {}` + rolesConfig("true", "true"), ConfigStateChecks: roleChecks(true, true)},
		},
	})
}
