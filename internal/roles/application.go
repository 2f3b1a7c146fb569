package roles

// The application side of the catalogue (DESIGN.md §7.5): what an Entra application used as
// a migration target needs, as application permissions consented in Entra (WIRE.md §I8) or,
// for mailbox data scoped to some mailboxes, as Exchange application roles of RBAC for
// Applications (WIRE.md §J4). The provider's resources and the o365_roles data source read
// it from here; nothing else spells these names.

import (
	"fmt"
	"sort"
	"strings"
)

// Kinds of the application catalogue's entries (values of the data source's `kind`).
const (
	// ApplicationPermission is an app role of a resource API consented in Entra
	// (an appRoleAssignment, WIRE.md §I9). It reaches every mailbox of the tenant.
	ApplicationPermission Kind = "application_permission"
	// ExchangeApplicationRole is an Exchange RBAC-for-Applications role assigned to the
	// application's service principal, optionally limited to a management scope (WIRE.md §J5).
	ExchangeApplicationRole Kind = "exchange_application_role"
)

// API is a resource API whose app roles an application is granted.
type API struct {
	// AppID is the resource's well-known application id; its service principal in the tenant
	// is found by it (WIRE.md §I7).
	AppID string
	// Name is the resource service principal's displayName, used in permission strings
	// such as "Microsoft Graph/Mail.ReadWrite".
	Name string
	// Scope is the client-credentials scope of its tokens (worldwide cloud; national clouds
	// have their own hosts, internal/cloud).
	Scope string
}

// The resource APIs of a migration target (WIRE.md §I7, §I8).
var (
	MicrosoftGraph = API{AppID: "00000003-0000-0000-c000-000000000000", Name: "Microsoft Graph", Scope: "https://graph.microsoft.com/.default"}
	ExchangeOnline = API{AppID: "00000002-0000-0ff1-ce00-000000000000", Name: "Office 365 Exchange Online", Scope: "https://outlook.office365.com/.default"}
)

// ExchangeRBAC is the prefix of permission strings naming an Exchange application role
// ("Exchange/Application Mail.ReadWrite"), DESIGN.md §7.2.
const ExchangeRBAC = "Exchange"

// Permission is one application permission (an app role of API).
type Permission struct {
	API   API
	Value string // the app role's value, e.g. "Mail.ReadWrite"
	// ExpectedID is the app role id WIRE.md §I8 lists. Clients resolve the id by Value from
	// the resource service principal's appRoles at run time and use this only to notice a
	// tenant that differs (public code carries wrong ids, §I8).
	ExpectedID string
}

// String is the permission as the resources show it: "Microsoft Graph/Mail.ReadWrite".
func (p Permission) String() string { return p.API.Name + "/" + p.Value }

// ExchangeRole is an Exchange application role (WIRE.md §J4).
type ExchangeRole struct {
	Name string // the -Role value, e.g. "Application Mail.ReadWrite"
	// Grants are the permissions the role carries (Test-ServicePrincipalAuthorization's
	// GrantedPermissions, §J6).
	Grants []string
}

// String is the role as the resources show it: "Exchange/Application Mail.ReadWrite".
func (r ExchangeRole) String() string { return ExchangeRBAC + "/" + r.Name }

// The Exchange application roles (WIRE.md §J4). The two "Full Access" roles' contents are
// ⚠ UNCONFIRMED there; they are listed so that holding one counts as holding what it is
// documented to carry, never requested by the provider.
var exchangeRoles = []ExchangeRole{
	{Name: "Application Mail.Read", Grants: []string{"Mail.Read"}},
	{Name: "Application Mail.ReadBasic", Grants: []string{"Mail.ReadBasic"}},
	{Name: "Application Mail.ReadWrite", Grants: []string{"Mail.ReadWrite"}},
	{Name: "Application Mail.Send", Grants: []string{"Mail.Send"}},
	{Name: "Application MailboxSettings.Read", Grants: []string{"MailboxSettings.Read"}},
	{Name: "Application MailboxSettings.ReadWrite", Grants: []string{"MailboxSettings.ReadWrite"}},
	{Name: "Application Calendars.Read", Grants: []string{"Calendars.Read"}},
	{Name: "Application Calendars.ReadWrite", Grants: []string{"Calendars.ReadWrite"}},
	{Name: "Application Contacts.Read", Grants: []string{"Contacts.Read"}},
	{Name: "Application Contacts.ReadWrite", Grants: []string{"Contacts.ReadWrite"}},
	{Name: "Application Mail Full Access", Grants: []string{"Mail.ReadWrite", "Mail.Send"}},
	{Name: "Application Exchange Full Access", Grants: []string{"Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite"}},
	{Name: "Application EWS.AccessAsApp", Grants: []string{"EWS.AccessAsApp"}},
	// The mailbox import and export API's roles (WIRE.md §M4): the role names drop the
	// permissions' ".All".
	{Name: "Application MailboxFolder.Read", Grants: []string{"MailboxFolder.Read.All"}},
	{Name: "Application MailboxFolder.ReadWrite", Grants: []string{"MailboxFolder.ReadWrite.All"}},
	{Name: "Application MailboxItem.Read", Grants: []string{"MailboxItem.Read.All"}},
	{Name: "Application MailboxItem.ReadWrite", Grants: []string{"MailboxItem.ReadWrite.All"}},
	{Name: "Application MailboxItem.Export", Grants: []string{"MailboxItem.Export.All"}},
	{Name: "Application MailboxItem.ImportExport", Grants: []string{"MailboxItem.ImportExport.All"}},
}

// LookupExchangeRole finds an Exchange application role by name (case-insensitive).
func LookupExchangeRole(name string) (ExchangeRole, bool) {
	for _, r := range exchangeRoles {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return ExchangeRole{}, false
}

// Protocol is how the migration engine reaches the target mailboxes.
type Protocol string

// Protocols. EWS ends in Exchange Online on 1 Apr 2027 (WIRE.md §0). graph_import is
// Microsoft Graph's mailbox import and export API (WIRE.md §M), the full-fidelity path
// after EWS, offered in the worldwide cloud only (cloud.Cloud.GraphImport).
const (
	ProtocolGraph       Protocol = "graph"
	ProtocolGraphImport Protocol = "graph_import"
	ProtocolEWS         Protocol = "ews"
)

// ProtocolOf is the protocol a configuration names, in its canonical form: the names are
// accepted in any case ("EWS" is ews).
func ProtocolOf(s string) Protocol { return Protocol(strings.ToLower(strings.TrimSpace(s))) }

// ProtocolOrDefault is the protocol a configuration names, or graph (the default) when it
// names none or none the catalogue knows (validation has refused it already).
func ProtocolOrDefault(s string) Protocol {
	switch p := ProtocolOf(s); p {
	case ProtocolGraphImport, ProtocolEWS:
		return p
	}
	return ProtocolGraph
}

// Protocols lists the valid protocols, the default first.
func Protocols() []string {
	return []string{string(ProtocolGraph), string(ProtocolGraphImport), string(ProtocolEWS)}
}

// EWSEnd is the day EWS is switched off for good in Exchange Online (WIRE.md §0, MC1227454).
const EWSEnd = "1 April 2027"

// Need is one thing a migration target needs to do, with the Entra application permission
// that grants it tenant-wide and, for mailbox data, the Exchange application role that
// grants it inside a management scope instead.
type Need struct {
	// Purpose says, in the user's words, why the migration needs it.
	Purpose string
	Entra   Permission
	// Exchange is the scoped alternative; nil where RBAC for Applications has none
	// (directory reads and writes stay Entra grants, WIRE.md §J4).
	Exchange *ExchangeRole
	// Toggle is the option that requires this need ("" for always required).
	Toggle AppToggle
}

// AppToggle names an optional part of an application connection.
type AppToggle string

// Optional parts.
const (
	// AppToggleUserManagement also lets the application create users (the seed's optional
	// "user management" role).
	AppToggleUserManagement AppToggle = "user_management"
	// AppTogglePublicFolders migrates public folders: EWS only (there are no public folders
	// in Microsoft Graph); the EWS permission already covers them.
	AppTogglePublicFolders AppToggle = "public_folders"
	// AppToggleReadItems lets a graph_import application list the items already in the
	// target mailboxes (incremental runs, no duplicates, WIRE.md §M3.3): MailboxItem.Read.All.
	AppToggleReadItems AppToggle = "read_target_items"
)

// AppOptions select what an application connection needs.
type AppOptions struct {
	Protocol       Protocol
	UserManagement bool
	PublicFolders  bool
	// ReadItems: AppToggleReadItems (graph_import only).
	ReadItems bool
	// Scoped: mailbox data is granted with Exchange application roles limited to a
	// management scope, and kept out of the Entra consent (the two add up, WIRE.md §J).
	Scoped bool
}

func graphPerm(value, id string) Permission {
	return Permission{API: MicrosoftGraph, Value: value, ExpectedID: id}
}

func exoRole(name string) *ExchangeRole {
	r, ok := LookupExchangeRole(name)
	if !ok {
		panic("roles: unknown Exchange application role " + name)
	}
	return &r
}

// Application permissions with their ids (WIRE.md §I8).
var (
	permMailReadWrite            = graphPerm("Mail.ReadWrite", "e2a3a72e-5f79-4c64-b1b1-878b674786c9")
	permCalendarsReadWrite       = graphPerm("Calendars.ReadWrite", "ef54d2bf-783f-4e0f-bca1-3210c0444d99")
	permContactsReadWrite        = graphPerm("Contacts.ReadWrite", "6918b873-d17a-4dc1-b314-35f528134491")
	permMailboxSettingsReadWrite = graphPerm("MailboxSettings.ReadWrite", "6931bccd-447a-43d1-b442-00a195474933")
	permUserReadAll              = graphPerm("User.Read.All", "df021288-bdef-4463-88db-98f22de89214")
	permUserReadWriteAll         = graphPerm("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca")
	permFullAccessAsApp          = Permission{API: ExchangeOnline, Value: "full_access_as_app", ExpectedID: "dc890d15-9560-4a4c-9b7f-a736ec74ec40"}
	permManageAsApp              = Permission{API: ExchangeOnline, Value: "Exchange.ManageAsApp", ExpectedID: "dc50a0fb-09a3-484d-be87-e023b12c6440"}
	// The mailbox import and export API's permissions (WIRE.md §M3.1).
	permMailboxFolderReadWrite  = graphPerm("MailboxFolder.ReadWrite.All", "fef87b92-8391-4589-9da7-eb93dab7dc8a")
	permMailboxItemImportExport = graphPerm("MailboxItem.ImportExport.All", "76577085-e73d-4f1d-b26a-85fb33892327")
	permMailboxItemRead         = graphPerm("MailboxItem.Read.All", "7d9f353d-a7bd-4fbb-822a-26d5dd39a3ce")
)

// The mailbox needs of each protocol: what opens the target mailboxes.
var (
	graphMailboxNeed  = Need{Purpose: "write mail and folders into the target mailboxes", Entra: permMailReadWrite, Exchange: exoRole("Application Mail.ReadWrite")}
	importMailboxNeed = Need{Purpose: "import items into the target mailboxes (import sessions of the mailbox import and export API)", Entra: permMailboxItemImportExport, Exchange: exoRole("Application MailboxItem.ImportExport")}
	ewsMailboxNeed    = Need{Purpose: "open and fill the target mailboxes over EWS (until " + EWSEnd + ")", Entra: permFullAccessAsApp, Exchange: exoRole("Application EWS.AccessAsApp")}
	userManagement    = Need{Purpose: "create new users on the target", Entra: permUserReadWriteAll, Toggle: AppToggleUserManagement}
	mailboxSettings   = Need{Purpose: "set time zone, rules and automatic replies", Entra: permMailboxSettingsReadWrite, Exchange: exoRole("Application MailboxSettings.ReadWrite")}
	importFolders     = Need{Purpose: "read and create the target mailboxes' folders", Entra: permMailboxFolderReadWrite, Exchange: exoRole("Application MailboxFolder.ReadWrite")}
	readTargetItems   = Need{Purpose: "list the items already in the target mailboxes (incremental runs, no duplicates)", Entra: permMailboxItemRead, Exchange: exoRole("Application MailboxItem.Read"), Toggle: AppToggleReadItems}
	resolveUsers      = Need{Purpose: "resolve the target users", Entra: permUserReadAll}
)

// graphNeeds, graphImportNeeds and ewsNeeds are the needs per protocol, in the order they
// are shown. The import API carries items and folders but not mailbox settings, which keep
// their own permission (WIRE.md §M7.2); Mail/Calendars/Contacts.ReadWrite do not open it
// (§M3.2).
var (
	graphNeeds = []Need{
		graphMailboxNeed,
		{Purpose: "write calendar items", Entra: permCalendarsReadWrite, Exchange: exoRole("Application Calendars.ReadWrite")},
		{Purpose: "write contacts", Entra: permContactsReadWrite, Exchange: exoRole("Application Contacts.ReadWrite")},
		mailboxSettings,
	}
	graphImportNeeds = []Need{importMailboxNeed, importFolders, mailboxSettings, readTargetItems}
	ewsNeeds         = []Need{ewsMailboxNeed}
	directoryNeeds   = []Need{resolveUsers, userManagement}
)

// MailboxNeed is what opens the target mailboxes over the protocol: Mail.ReadWrite (or the
// Exchange role Application Mail.ReadWrite) for Graph, MailboxItem.ImportExport.All (or
// Application MailboxItem.ImportExport) for the import API, full_access_as_app (or
// Application EWS.AccessAsApp) for EWS.
func MailboxNeed(p Protocol) Need {
	switch p {
	case ProtocolEWS:
		return ewsMailboxNeed
	case ProtocolGraphImport:
		return importMailboxNeed
	}
	return graphMailboxNeed
}

// ImportFoldersNeed is what lists and creates a target mailbox's folders through the import
// and export API (MailboxFolder.ReadWrite.All, or Application MailboxFolder.ReadWrite).
func ImportFoldersNeed() Need { return importFolders }

// ResolveUsersNeed is the directory read that resolves a target user (User.Read.All); the
// import API's mailbox ids come from it (GET /users/{id}/settings/exchange, WIRE.md §M2.1).
func ResolveUsersNeed() Need { return resolveUsers }

// ReadItemsNeed is the need behind AppToggleReadItems.
func ReadItemsNeed() Need { return readTargetItems }

// DirectoryNeeds are the directory needs, which stay Entra permissions on both protocols
// (RBAC for Applications has no directory roles, WIRE.md §J4). The slice is a copy.
func DirectoryNeeds() []Need { return append([]Need(nil), directoryNeeds...) }

// UserManagementNeed is the need behind AppToggleUserManagement: creating users.
func UserManagementNeed() Need { return userManagement }

// ManageAsApp is the Exchange Online permission without which the admin API refuses an
// application (WIRE.md §J1).
func ManageAsApp() Permission { return permManageAsApp }

// Directory roles the provider names in its advice (WIRE.md §C3, §I11, §J1).
const (
	GlobalAdministrator         = "Global Administrator"
	PrivilegedRoleAdministrator = "Privileged Role Administrator"
	ExchangeAdministrator       = "Exchange Administrator"
	// GlobalReader is the read-only directory role with which Exchange Online accepts an
	// application's app-only admin session (§J1).
	GlobalReader = "Global Reader"
)

// ApplicationNeeds returns what an application connection with these options needs: its
// protocol's mailbox needs, then the directory needs.
func ApplicationNeeds(o AppOptions) []Need {
	var out []Need
	for _, n := range append(protocolNeeds(o.Protocol), directoryNeeds...) {
		if n.Toggle == "" || o.On(n.Toggle) {
			out = append(out, n)
		}
	}
	return out
}

// protocolNeeds are the mailbox needs of p, optional ones included.
func protocolNeeds(p Protocol) []Need {
	switch p {
	case ProtocolEWS:
		return ewsNeeds
	case ProtocolGraphImport:
		return graphImportNeeds
	}
	return graphNeeds
}

// On reports whether the options turn the toggle on.
func (o AppOptions) On(t AppToggle) bool {
	switch t {
	case AppToggleUserManagement:
		return o.UserManagement
	case AppTogglePublicFolders:
		return o.PublicFolders
	case AppToggleReadItems:
		return o.ReadItems
	}
	return false
}

// Grant is one permission an application is given: an Entra application permission or an
// Exchange application role.
type Grant struct {
	Kind       Kind
	Permission Permission    // for ApplicationPermission
	Role       *ExchangeRole // for ExchangeApplicationRole
	Purpose    string
	Toggle     AppToggle
}

// String is the grant as resources show it ("Microsoft Graph/Mail.ReadWrite",
// "Exchange/Application Mail.ReadWrite").
func (g Grant) String() string {
	if g.Kind == ExchangeApplicationRole {
		return g.Role.String()
	}
	return g.Permission.String()
}

// Grants returns what an application with these options is given: scoped mailbox needs as
// Exchange application roles, everything else as Entra application permissions.
func Grants(o AppOptions) []Grant {
	var out []Grant
	for _, n := range ApplicationNeeds(o) {
		if o.Scoped && n.Exchange != nil {
			out = append(out, Grant{Kind: ExchangeApplicationRole, Role: n.Exchange, Purpose: n.Purpose, Toggle: n.Toggle})
			continue
		}
		out = append(out, Grant{Kind: ApplicationPermission, Permission: n.Entra, Purpose: n.Purpose, Toggle: n.Toggle})
	}
	return out
}

// GrantStrings returns the sorted strings of gs.
func GrantStrings(gs []Grant) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.String())
	}
	sort.Strings(out)
	return out
}

// Held is what an application was found to hold: the app-role values per resource API
// (an app-only token's `roles`, WIRE.md §I4, or its appRoleAssignments) and the Exchange
// application roles assigned to its service principal.
type Held struct {
	AppRoles      map[string][]string // by API AppID
	ExchangeRoles []string
}

// Satisfied reports whether h covers n, and by which grant string: the Entra permission
// when h holds it, else an Exchange application role that carries it.
func (n Need) Satisfied(h Held) (string, bool) { return n.satisfied(h, false) }

// satisfied is Satisfied; scoped names the Exchange role first when h holds both, since
// that is the grant a scoped application is meant to hold (a tenant-wide consent beside
// it is reported apart, ScopeBypasses).
func (n Need) satisfied(h Held, scoped bool) (string, bool) {
	entra := func() (string, bool) {
		for _, v := range h.AppRoles[n.Entra.API.AppID] {
			if strings.EqualFold(v, n.Entra.Value) {
				return n.Entra.String(), true
			}
		}
		return "", false
	}
	exchange := func() (string, bool) {
		if n.Exchange == nil {
			return "", false
		}
		for _, name := range h.ExchangeRoles {
			if n.CoveredBy(name) {
				r, _ := LookupExchangeRole(name)
				return r.String(), true
			}
		}
		return "", false
	}
	first, second := entra, exchange
	if scoped {
		first, second = exchange, entra
	}
	if s, ok := first(); ok {
		return s, true
	}
	return second()
}

// CoveredBy reports whether the Exchange application role roleName carries what n's
// Exchange role grants (Application Mail Full Access carries Mail.ReadWrite; a role for
// contacts alone does not).
func (n Need) CoveredBy(roleName string) bool {
	r, ok := LookupExchangeRole(roleName)
	if !ok || n.Exchange == nil {
		return false
	}
	for _, want := range n.Exchange.Grants {
		for _, g := range r.Grants {
			if strings.EqualFold(g, want) {
				return true
			}
		}
	}
	return false
}

// Missing returns the needs h does not cover, named the way a fix would grant them
// (Exchange roles when scoped, Entra permissions otherwise), and the grant strings that
// cover the others; both sorted.
func Missing(o AppOptions, h Held) (granted, missing []string) {
	for _, n := range ApplicationNeeds(o) {
		if s, ok := n.satisfied(h, o.Scoped); ok {
			granted = append(granted, s)
			continue
		}
		if o.Scoped && n.Exchange != nil {
			missing = append(missing, n.Exchange.String())
		} else {
			missing = append(missing, n.Entra.String())
		}
	}
	sort.Strings(granted)
	sort.Strings(missing)
	return granted, missing
}

// LookupGrant finds the need named by a grant string ("Microsoft Graph/Mail.ReadWrite" or
// "Exchange/Application Mail.ReadWrite") among all protocols' needs.
func LookupGrant(s string) (Need, bool) {
	all := append(append(append(append([]Need{}, graphNeeds...), graphImportNeeds...), ewsNeeds...), directoryNeeds...)
	for _, n := range all {
		if strings.EqualFold(n.Entra.String(), s) || (n.Exchange != nil && strings.EqualFold(n.Exchange.String(), s)) {
			return n, true
		}
	}
	return Need{}, false
}

// ScopeBypasses are the Entra permissions h holds that open some mailbox data in every
// mailbox of the tenant, where an Exchange application role could grant the same data inside
// a management scope. Exchange grants the union of the two (WIRE.md §J, §M8.3): an
// application holding one of them next to its scoped roles reaches every mailbox for that
// data, whatever the scope says. Sorted by grant string.
func ScopeBypasses(h Held) []Permission {
	seen := map[string]bool{}
	var out []Permission
	for _, n := range append(append(append([]Need{}, graphNeeds...), graphImportNeeds...), ewsNeeds...) {
		if n.Exchange == nil || seen[n.Entra.String()] {
			continue
		}
		seen[n.Entra.String()] = true
		for _, v := range h.AppRoles[n.Entra.API.AppID] {
			if strings.EqualFold(v, n.Entra.Value) {
				out = append(out, n.Entra)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// RevokeCommand is what an administrator would run by hand to remove the tenant-wide consent
// of p from the application (Microsoft Graph PowerShell; the app role resolved by its value,
// never a pasted GUID). An empty clientID becomes a placeholder.
func (p Permission) RevokeCommand(clientID string) string {
	if clientID == "" {
		clientID = "<client_id>"
	}
	return fmt.Sprintf(`$sp = Get-MgServicePrincipal -Filter "appId eq '%s'"; $api = Get-MgServicePrincipal -Filter "appId eq '%s'"; `+
		`$role = ($api.AppRoles | Where-Object Value -eq '%s').Id; `+
		`Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id | Where-Object { $_.ResourceId -eq $api.Id -and $_.AppRoleId -eq $role } | `+
		`ForEach-Object { Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id -AppRoleAssignmentId $_.Id }`,
		clientID, p.API.AppID, p.Value)
}

// GrantCommand is what an administrator would run by hand to give the application this
// grant: Microsoft Graph PowerShell for an Entra permission (the app role resolved by its
// value, never a pasted GUID, WIRE.md §I8), Exchange Online PowerShell for an Exchange role.
// Empty arguments become placeholders.
func (g Grant) GrantCommand(clientID, scope string) string {
	if clientID == "" {
		clientID = "<client_id>"
	}
	if g.Kind == ExchangeApplicationRole {
		if scope == "" {
			scope = "<management scope>"
		}
		return fmt.Sprintf(`New-ManagementRoleAssignment -App (Get-ServicePrincipal -Identity '%s').ObjectId -Role '%s' -CustomResourceScope '%s'`, clientID, g.Role.Name, scope)
	}
	p := g.Permission
	return fmt.Sprintf(`$sp = Get-MgServicePrincipal -Filter "appId eq '%s'"; $api = Get-MgServicePrincipal -Filter "appId eq '%s'"; `+
		`New-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId $api.Id -PrincipalId $sp.Id -ResourceId $api.Id -AppRoleId ($api.AppRoles | Where-Object Value -eq '%s').Id`,
		clientID, p.API.AppID, p.Value)
}

// Management is what the management identity (DESIGN.md §7.1) needs for one job, so a
// refusal can name exactly what to grant.
type Management struct {
	Job         string
	Permissions []Permission // application permissions of the management application
	// DirectoryRole is the Entra role its service principal must hold ("" when none).
	DirectoryRole, DirectoryRoleTemplateID string
}

// Directory role template ids (WIRE.md §I11, §J1).
const (
	PrivilegedRoleAdministratorTemplateID = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	// GlobalAdministratorTemplateID: a Global Administrator may do every job of Management.
	GlobalAdministratorTemplateID   = "62e90394-69f5-4237-9190-012177145e10"
	ExchangeAdministratorTemplateID = "29232cdf-9323-42fd-ade2-1d097af3e4de"
)

// The management identity's needs, per job (WIRE.md §I8 last table, §I11, §J1).
var (
	ManageRegistrations = Management{Job: "create and change application registrations",
		Permissions: []Permission{graphPerm("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9")}}
	ManageConsent = Management{Job: "consent to Microsoft Graph application permissions",
		Permissions: []Permission{
			graphPerm("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f"),
			graphPerm("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"),
		},
		DirectoryRole: PrivilegedRoleAdministrator, DirectoryRoleTemplateID: PrivilegedRoleAdministratorTemplateID}
	ManageScopes = Management{Job: "scope mailbox access with Exchange RBAC for Applications",
		Permissions:   []Permission{permManageAsApp},
		DirectoryRole: ExchangeAdministrator, DirectoryRoleTemplateID: ExchangeAdministratorTemplateID}
)

// Fix says, in one sentence, what to grant the management application for m.
func (m Management) Fix() string {
	ps := make([]string, 0, len(m.Permissions))
	for _, p := range m.Permissions {
		ps = append(ps, p.String())
	}
	s := "grant the management application the application permission"
	if len(ps) > 1 {
		s += "s"
	}
	s += " " + strings.Join(ps, " and ") + " (with admin consent)"
	if m.DirectoryRole != "" {
		s += " and give its service principal the directory role " + m.DirectoryRole
	}
	return s + ", needed to " + m.Job
}
