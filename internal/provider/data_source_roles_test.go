package provider

import (
	"os"
	"regexp"
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
			"resource":                   knownvalue.Null(),
			"permission":                 knownvalue.Null(),
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

// connection = "application": the kinds application_permission and exchange_application_role
// with resource, permission and the grant command, per protocol, toggle and scope (DESIGN §7.5).
func TestAccRolesDataSource_applicationConnection(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	const clientID = "5951643e-5013-442f-963c-1ee875bbe74a"
	cfg := func(body string) string {
		return `provider "o365" {}
data "o365_roles" "test" {
  connection_type = "application"
  client_id  = "` + clientID + `"
` + body + `
}`
	}
	entry := func(i int, name, kind, resource, permission string, required bool, command string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles").AtSliceIndex(i), knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"name": knownvalue.StringExact(name), "kind": knownvalue.StringExact(kind), "required": knownvalue.Bool(required),
			"resource": knownvalue.StringExact(resource), "permission": knownvalue.StringExact(permission),
			"grant_command": knownvalue.StringRegexp(regexp.MustCompile(regexp.QuoteMeta(command))),
		}))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: cfg(""),
			ConfigStateChecks: []statecheck.StateCheck{
				entry(0, "Microsoft Graph/Mail.ReadWrite", "application_permission", "Microsoft Graph", "Mail.ReadWrite", true, "Where-Object Value -eq 'Mail.ReadWrite'"),
				entry(5, "Microsoft Graph/User.ReadWrite.All", "application_permission", "Microsoft Graph", "User.ReadWrite.All", false, "appId eq '"+clientID+"'"),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles"), knownvalue.ListSizeExact(6)),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("required_role_names"), setOf("Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite",
					"Microsoft Graph/Mail.ReadWrite", "Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All")),
			},
		}, {
			Config: cfg("  mailbox_scope        = true\n  user_management_role = true"),
			ConfigStateChecks: []statecheck.StateCheck{
				entry(0, "Exchange/Application Mail.ReadWrite", "exchange_application_role", "Exchange", "Application Mail.ReadWrite", true,
					"-Role 'Application Mail.ReadWrite' -CustomResourceScope 'tf-o365 "+clientID+"'"),
				entry(5, "Microsoft Graph/User.ReadWrite.All", "application_permission", "Microsoft Graph", "User.ReadWrite.All", true, "User.ReadWrite.All"),
			},
		}, {
			Config: cfg(`  protocol = "ews"`),
			ConfigStateChecks: []statecheck.StateCheck{
				entry(0, "Office 365 Exchange Online/full_access_as_app", "application_permission", "Office 365 Exchange Online", "full_access_as_app", true, "full_access_as_app"),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles"), knownvalue.ListSizeExact(3)),
			},
		}, {
			Config:      cfg("  public_folders_role = true"),
			ExpectError: regexp.MustCompile(`Public folders need EWS`),
		}, {
			Config: `provider "o365" {}` + rolesConfig("false", "false") + "\n" + `data "o365_roles" "bad" {
  protocol = "graph"
}`,
			ExpectError: regexp.MustCompile(`Only for an application connection`),
		}},
	})
}
