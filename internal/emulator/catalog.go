package emulator

import (
	"strings"

	"github.com/google/uuid"
)

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
	apiGraph:    "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All Directory.Read.All RoleManagement.ReadWrite.Directory User.Read User.Read.All",
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
	// The app-only world (WIRE §I11, §J1).
	{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator",
		"Can create and manage all aspects of app registrations and enterprise apps.",
		[]string{"microsoft.directory/applications/allProperties/allTasks", "microsoft.directory/servicePrincipals/allProperties/allTasks"}},
	{"158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator",
		"Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
		[]string{"microsoft.directory/applications/allProperties/allTasks", "microsoft.directory/servicePrincipals/allProperties/allTasks"}},
	{"31392ffb-586c-42d1-9346-e59415a2cc4e", "Exchange Recipient Administrator",
		"Can create or update Exchange Online recipients within the Exchange Online organization.",
		[]string{"microsoft.office365.exchange/recipients/allProperties/allTasks"}},
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

// appRole is an application permission a resource service principal offers
// (WIRE §I7 appRoles listing).
type appRole struct {
	id, value, displayName string
}

// resourceApp is a first-party resource service principal every tenant has.
type resourceApp struct {
	appID, displayName, alias string // alias: the short name the seed and control API use
	roles                     []appRole
}

// The two resources and their application permissions, with exactly the ids
// of WIRE §I8 (the Graph list also carries Mail.Read, which §I12 accepts for
// reading a mailbox). The Exchange Online resource also has legacy app roles
// named like Graph's (§I8, §L); their GUIDs are not in a primary source, so
// the emulator derives its own (⚠): a client that resolves a Graph
// permission on the wrong resource gets a different id, as in a real tenant.
var resourceApps = []resourceApp{
	{graphAppID, "Microsoft Graph", "graph", []appRole{
		{"e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Mail.ReadWrite", "Read and write mail in all mailboxes"},
		{"810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read", "Read mail in all mailboxes"},
		{"ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Calendars.ReadWrite", "Read and write calendars in all mailboxes"},
		{"6918b873-d17a-4dc1-b314-35f528134491", "Contacts.ReadWrite", "Read and write contacts in all mailboxes"},
		{"6931bccd-447a-43d1-b442-00a195474933", "MailboxSettings.ReadWrite", "Read and write all user mailbox settings"},
		{"44e666d1-d276-445b-a5fc-8815eeb81d55", "Tasks.ReadWrite.All", "Read and write all users' tasks and tasklists"},
		{"df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"},
		{"741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"},
		{"7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"},
		{"498476ce-e0fe-48b0-b801-37ba7e2685c6", "Organization.Read.All", "Read organization information"},
		{"b633e1c5-b582-4048-a93e-9f11b44c7e96", "Mail.Send", "Send mail as any user"},
		{"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"},
		{"06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All", "Manage app permission grants and app role assignments"},
		{"9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"},
		{"9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory", "Read and write all directory RBAC settings"},
		// The mailbox import and export API (WIRE §M3.1).
		{"76577085-e73d-4f1d-b26a-85fb33892327", "MailboxItem.ImportExport.All", "Export and import all the users' mailbox items"},
		{"fef87b92-8391-4589-9da7-eb93dab7dc8a", "MailboxFolder.ReadWrite.All", "Read and write all the users' mailbox folders"},
		{"99280d24-a782-4793-93cc-0888549957f6", "MailboxFolder.Read.All", "Read all the users' mailbox folders"},
		{"7d9f353d-a7bd-4fbb-822a-26d5dd39a3ce", "MailboxItem.Read.All", "Read all the users' mailbox items"},
		{"937550e9-33a3-494b-88ae-d9cd394b1fbb", "MailboxItem.Export.All", "Export all the users' mailbox items"},
	}},
	{exchangeAppID, "Office 365 Exchange Online", "exchange", []appRole{
		{"dc890d15-9560-4a4c-9b7f-a736ec74ec40", "full_access_as_app", "Use Exchange Web Services with full access to all mailboxes"},
		{"dc50a0fb-09a3-484d-be87-e023b12c6440", "Exchange.ManageAsApp", "Manage Exchange As Application"},
		{legacyExchangeRoleID("Mail.ReadWrite"), "Mail.ReadWrite", "Read and write mail in all mailboxes (Outlook REST, legacy)"},
		{legacyExchangeRoleID("Calendars.ReadWrite.All"), "Calendars.ReadWrite.All", "Read and write calendars in all mailboxes (Outlook REST, legacy)"},
		{legacyExchangeRoleID("Contacts.ReadWrite"), "Contacts.ReadWrite", "Read and write contacts in all mailboxes (Outlook REST, legacy)"},
		{legacyExchangeRoleID("Tasks.ReadWrite"), "Tasks.ReadWrite", "Read and write tasks in all mailboxes (Outlook REST, legacy)"},
		{legacyExchangeRoleID("User.Read.All"), "User.Read.All", "Read all users' basic profiles (Outlook REST, legacy)"},
	}},
}

// legacyExchangeRoleID derives the emulator's id of a legacy Exchange Online
// app role (⚠ not Microsoft's; see resourceApps).
func legacyExchangeRoleID(value string) string {
	return uuid.NewSHA1(uuid.MustParse(exchangeAppID), []byte("legacy-app-role:"+value)).String()
}

// findResourceApp accepts the app id, the display name or the alias.
func findResourceApp(name string) *resourceApp {
	for i := range resourceApps {
		r := &resourceApps[i]
		if strings.EqualFold(r.appID, name) || strings.EqualFold(r.displayName, name) || strings.EqualFold(r.alias, name) {
			return r
		}
	}
	return nil
}

func (r *resourceApp) roleByValue(value string) *appRole {
	for i := range r.roles {
		if strings.EqualFold(r.roles[i].value, value) {
			return &r.roles[i]
		}
	}
	return nil
}

func (r *resourceApp) roleByID(id string) *appRole {
	for i := range r.roles {
		if strings.EqualFold(r.roles[i].id, id) {
			return &r.roles[i]
		}
	}
	return nil
}

// applicationRole is an Exchange RBAC-for-Applications role (WIRE §J4): the
// permissions it grants and its RoleType (⚠ except ApplicationEWSAccessAsApp).
type applicationRole struct {
	name, roleType string
	permissions    []string
}

// The two "Full Access" roles' contents are ⚠ (WIRE §J4).
var applicationRoles = []applicationRole{
	{"Application Mail.Read", "ApplicationMailRead", []string{"Mail.Read"}},
	{"Application Mail.ReadBasic", "ApplicationMailReadBasic", []string{"Mail.ReadBasic"}},
	{"Application Mail.ReadWrite", "ApplicationMailReadWrite", []string{"Mail.ReadWrite"}},
	{"Application Mail.Send", "ApplicationMailSend", []string{"Mail.Send"}},
	{"Application MailboxSettings.Read", "ApplicationMailboxSettingsRead", []string{"MailboxSettings.Read"}},
	{"Application MailboxSettings.ReadWrite", "ApplicationMailboxSettingsReadWrite", []string{"MailboxSettings.ReadWrite"}},
	{"Application Calendars.Read", "ApplicationCalendarsRead", []string{"Calendars.Read"}},
	{"Application Calendars.ReadWrite", "ApplicationCalendarsReadWrite", []string{"Calendars.ReadWrite"}},
	{"Application Contacts.Read", "ApplicationContactsRead", []string{"Contacts.Read"}},
	{"Application Contacts.ReadWrite", "ApplicationContactsReadWrite", []string{"Contacts.ReadWrite"}},
	{"Application Mail Full Access", "ApplicationMailFullAccess", []string{"Mail.ReadWrite", "Mail.Send"}},
	{"Application Exchange Full Access", "ApplicationExchangeFullAccess",
		[]string{"Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite"}},
	{"Application EWS.AccessAsApp", "ApplicationEWSAccessAsApp", []string{"EWS.AccessAsApp"}},
	// The mailbox import and export API (WIRE §M4): the role names drop the
	// Graph permissions' ".All"; GrantedPermissions spelling is ⚠.
	{"Application MailboxFolder.Read", "ApplicationMailboxFolderRead", []string{"MailboxFolder.Read.All"}},
	{"Application MailboxFolder.ReadWrite", "ApplicationMailboxFolderReadWrite", []string{"MailboxFolder.ReadWrite.All"}},
	{"Application MailboxItem.Read", "ApplicationMailboxItemRead", []string{"MailboxItem.Read.All"}},
	{"Application MailboxItem.ReadWrite", "ApplicationMailboxItemReadWrite", []string{"MailboxItem.ReadWrite.All"}},
	{"Application MailboxItem.Export", "ApplicationMailboxItemExport", []string{"MailboxItem.Export.All"}},
	{"Application MailboxItem.ImportExport", "ApplicationMailboxItemImportExport", []string{"MailboxItem.ImportExport.All"}},
}

func findApplicationRole(name string) *applicationRole {
	for i := range applicationRoles {
		if strings.EqualFold(applicationRoles[i].name, name) {
			return &applicationRoles[i]
		}
	}
	return nil
}

// exchangeAppSessionRoles are the directory roles Exchange Online accepts for
// an app-only admin API session (WIRE §J1); only Global and Exchange
// Administrator may change RBAC. Others (Application Administrator,
// Privileged Role Administrator…) are "not supported".
var exchangeAppSessionRoles = []string{"Global Administrator", "Exchange Administrator", "Exchange Recipient Administrator", "Global Reader"}
