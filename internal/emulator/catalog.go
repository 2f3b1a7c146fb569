package emulator

import "strings"

// cloudInfo holds what differs between Microsoft's national clouds (WIRE §B).
type cloudInfo struct {
	loginHost         string   // used for error_uri
	cloudInstanceName string   // UserRealm / openid-configuration (WIRE §A4, §A5 ⚠ for sovereign values)
	regionScope       string   // openid-configuration tenant_region_scope
	graphHosts        []string // resource hosts whose tokens Graph accepts
	exchangeHosts     []string // resource hosts whose tokens EWS and the admin API accept
}

var clouds = map[string]cloudInfo{
	"worldwide": {"login.microsoftonline.com", "microsoftonline.com", "WW",
		[]string{"graph.microsoft.com"}, []string{"outlook.office365.com", "outlook.office.com"}},
	"germany": {"login.microsoftonline.de", "microsoftonline.de", "DE",
		[]string{"graph.microsoft.de"}, []string{"outlook.office.de"}},
	"usgovernment": {"login.microsoftonline.us", "microsoftonline.us", "NA",
		[]string{"graph.microsoft.us"}, []string{"outlook.office365.us"}},
	"usgovernment_dod": {"login.microsoftonline.us", "microsoftonline.us", "NA",
		[]string{"dod-graph.microsoft.us"}, []string{"webmail.apps.mil", "outlook-dod.office365.us"}},
	"china": {"login.partner.microsoftonline.cn", "partner.microsoftonline.cn", "AS",
		[]string{"microsoftgraph.chinacloudapi.cn"}, []string{"partner.outlook.cn"}},
}

// The two APIs a token can be issued for, and their first-party application
// ids (WIRE §A9: "Office 365 Exchange Online" is 00000002-0000-0ff1-ce00-000000000000).
const (
	apiGraph         = "graph"
	apiExchange      = "exchange"
	graphAppID       = "00000003-0000-0000-c000-000000000000"
	exchangeAppID    = "00000002-0000-0ff1-ce00-000000000000"
	exchangeAuthHint = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`
)

// Delegated permissions written into the scp claim of each API's tokens.
var delegatedScopes = map[string]string{
	apiGraph:    "Directory.Read.All RoleManagement.ReadWrite.Directory User.Read User.Read.All",
	apiExchange: "EWS.AccessAsUser.All Exchange.Manage",
}

// directoryRole is a built-in Entra role (WIRE §C3: id == templateId).
type directoryRole struct {
	templateID  string
	displayName string
	description string
	actions     []string
}

var directoryRoles = []directoryRole{
	{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator",
		"Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
		[]string{"microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.office365.exchange/allEntities/basic/allTasks"}},
	{"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator",
		"Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
		[]string{"microsoft.directory/roleAssignments/allProperties/allTasks"}},
	{"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator",
		"Can manage all aspects of the Exchange product.",
		[]string{"microsoft.office365.exchange/allEntities/basic/allTasks"}},
	{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator",
		"Can manage all aspects of users and groups, including resetting passwords for limited admins.",
		[]string{"microsoft.directory/users/create", "microsoft.directory/users/delete"}},
	{"f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader",
		"Can read everything that a Global Administrator can, but not update anything.",
		[]string{"microsoft.directory/roleAssignments/standard/read"}},
}

// findDirectoryRole looks a role up by display name or template id (case-insensitive).
func findDirectoryRole(nameOrID string) *directoryRole {
	for i := range directoryRoles {
		r := &directoryRoles[i]
		if strings.EqualFold(r.displayName, nameOrID) || strings.EqualFold(r.templateID, nameOrID) {
			return r
		}
	}
	return nil
}

// exchangeRoles are the management roles New-ManagementRoleAssignment accepts
// (WIRE §E3, §E6, plus the roles of the built-in role groups below).
var exchangeRoles = []string{
	"ApplicationImpersonation", "View-Only Configuration", "View-Only Recipients",
	"Mail Recipients", "Mail Recipient Creation", "Public Folders", "Role Management",
	"Organization Configuration", "Recipient Policies", "Distribution Groups",
	"Move Mailboxes", "Reset Password", "Mailbox Import Export", "View-Only Audit Logs",
	"Audit Logs", "Legal Hold",
}

// canonicalExchangeRole returns the catalogue spelling of a role name, or "".
func canonicalExchangeRole(name string) string {
	for _, r := range exchangeRoles {
		if strings.EqualFold(r, name) {
			return r
		}
	}
	return ""
}

func isExchangeRole(name string) bool { return canonicalExchangeRole(name) != "" }

// roleGroup is a built-in Exchange role group and its own role assignments.
type roleGroup struct {
	name  string
	roles []groupRole
}

type groupRole struct {
	role       string
	delegation string // Regular, Delegating
}

// Organization Management holds ApplicationImpersonation only as "Delegating"
// (it may hand the role out but does not hold it), so its members cannot
// impersonate until the role is assigned to them (WIRE §E3).
var roleGroups = []roleGroup{
	{"Organization Management", []groupRole{
		{"View-Only Configuration", "Regular"}, {"View-Only Recipients", "Regular"},
		{"Mail Recipients", "Regular"}, {"Mail Recipient Creation", "Regular"},
		{"Public Folders", "Regular"}, {"Role Management", "Regular"},
		{"ApplicationImpersonation", "Delegating"},
	}},
	{"Recipient Management", []groupRole{
		{"Mail Recipients", "Regular"}, {"Mail Recipient Creation", "Regular"},
		{"Distribution Groups", "Regular"}, {"Move Mailboxes", "Regular"}, {"Reset Password", "Regular"},
	}},
	{"View-Only Organization Management", []groupRole{
		{"View-Only Configuration", "Regular"}, {"View-Only Recipients", "Regular"},
	}},
}

func findRoleGroup(name string) *roleGroup {
	for i := range roleGroups {
		if strings.EqualFold(roleGroups[i].name, name) {
			return &roleGroups[i]
		}
	}
	return nil
}
