package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is the tenant as the control API and Server.Snapshot show it: a
// deep copy in exported types, without secrets.

// State is a deep copy of the emulated tenant (Server.Snapshot, GET /_emulator/state).
// It never contains passwords.
type State struct {
	Tenant     Tenant      `json:"tenant"`
	Users      []User      `json:"users"`
	RoleGroups []RoleGroup `json:"role_groups"`

	// The app-only world. Secrets never appear.
	Organization              Organization               `json:"organization"`
	Applications              []Application              `json:"applications"`
	ServicePrincipals         []ServicePrincipal         `json:"service_principals"`
	ResourceServicePrincipals []ResourceServicePrincipal `json:"resource_service_principals"`
	ExchangeServicePrincipals []ExchangeServicePrincipal `json:"exchange_service_principals"`
	ManagementScopes          []ManagementScope          `json:"management_scopes"`

	// Graph's mailbox import API (WIRE §M2.5–§M2.6): the sessions created
	// (never their token) and every POST to an import URL.
	ImportSessions []ImportSession `json:"import_sessions"`
	ImportUploads  []ImportUpload  `json:"import_uploads"`
}

// Tenant describes the emulated organization.
type Tenant struct {
	ID               string        `json:"id"`
	DisplayName      string        `json:"display_name"`
	Cloud            string        `json:"cloud"`
	Domains          []string      `json:"domains"`
	LegacyBasicAuth  bool          `json:"legacy_basic_auth"`
	PropagationDelay time.Duration `json:"propagation_delay"`
	Latency          time.Duration `json:"latency"`
	RBACDelay        time.Duration `json:"rbac_delay"`
}

// User is one account with everything the provider can observe about it.
type User struct {
	UserPrincipalName string `json:"user_principal_name"`
	ObjectID          string `json:"object_id"`
	DisplayName       string `json:"display_name"`
	Alias             string `json:"alias"`
	MFA               bool   `json:"mfa"`
	MFARegistered     bool   `json:"mfa_registered"`
	Disabled          bool   `json:"disabled"`
	Locked            bool   `json:"locked"`
	CABlocked         bool   `json:"ca_blocked"`
	Mailbox           bool   `json:"mailbox"`
	// MailboxID is the mailbox's id in Graph's import and export API
	// ("MBX:{guid}@{tenant guid}", WIRE §M2.1); "" without a mailbox.
	MailboxID      string `json:"mailbox_id"`
	HasAppPassword bool   `json:"has_app_password"`
	// ExchangeRoleGroups are the role groups the user is a member of.
	// EWSEnabled is CASMailbox EwsEnabled (nil = not configured, WIRE §K3).
	EWSEnabled         *bool             `json:"ews_enabled"`
	Department         string            `json:"department,omitempty"`
	CustomAttributes   map[string]string `json:"custom_attributes,omitempty"`
	ExchangeRoleGroups []string          `json:"exchange_role_groups"`
	// ExchangeAssignments are the user's direct assignments followed by those
	// it gets through its role groups (AssignmentMethod "RoleGroup").
	ExchangeAssignments      []ExchangeAssignment      `json:"exchange_assignments"`
	DirectoryRoleAssignments []DirectoryRoleAssignment `json:"directory_role_assignments"`
}

// ExchangeAssignment is a management role assignment (WIRE §E3).
type ExchangeAssignment struct {
	Name             string    `json:"name"`
	Identity         string    `json:"identity"`
	Role             string    `json:"role"`
	Guid             string    `json:"guid"`
	AssignmentMethod string    `json:"assignment_method"`  // Direct, RoleGroup
	RoleAssigneeType string    `json:"role_assignee_type"` // User, RoleGroup, ServicePrincipal
	RoleAssigneeName string    `json:"role_assignee_name"` // alias, role group name or service principal object id
	DelegationType   string    `json:"delegation_type"`    // Regular, Delegating
	Enabled          bool      `json:"enabled"`
	CreatedAt        time.Time `json:"created_at"`
	CreatedBy        string    `json:"created_by"` // caller UPN; "" for seeded and control-API assignments
	// CustomResourceScope is the management scope of a service principal's
	// assignment (WIRE §J5); "" = organization-wide.
	CustomResourceScope string `json:"custom_resource_scope,omitempty"`
}

// DirectoryRoleAssignment is an Entra role assignment (WIRE §C4).
type DirectoryRoleAssignment struct {
	ID               string `json:"id"`
	RoleDefinitionID string `json:"role_definition_id"`
	RoleDisplayName  string `json:"role_display_name"`
	DirectoryScopeID string `json:"directory_scope_id"`
	CreatedBy        string `json:"created_by"`
}

// RoleGroup is an Exchange role group with its members (UPNs) and assignments.
type RoleGroup struct {
	Name        string               `json:"name"`
	Members     []string             `json:"members"`
	Assignments []ExchangeAssignment `json:"assignments"`
}

// Organization is the organization's switches (WIRE §K1–§K3).
type Organization struct {
	ImpersonationRetired bool     `json:"impersonation_retired"`
	EWSEnabled           *bool    `json:"ews_enabled"`         // nil = not configured
	EWSAllowedAppIDs     []string `json:"ews_allowed_app_ids"` // nil = not configured
	EWSDisablementDate   string   `json:"ews_disablement_date,omitempty"`
	EWSEndDate           string   `json:"ews_end_date,omitempty"`
}

// Application is an app registration without its secrets' values.
type Application struct {
	ObjectID            string               `json:"object_id"`
	AppID               string               `json:"app_id"`
	DisplayName         string               `json:"display_name"`
	IdentifierURIs      []string             `json:"identifier_uris"`
	Tags                []string             `json:"tags"`
	PasswordCredentials []PasswordCredential `json:"password_credentials"`
	KeyCredentials      []KeyCredential      `json:"key_credentials"`
	CreatedAt           time.Time            `json:"created_at"`
	CreatedBy           string               `json:"created_by"`
}

// PasswordCredential describes a secret; its value is never shown.
type PasswordCredential struct {
	KeyID       string    `json:"key_id"`
	DisplayName string    `json:"display_name"`
	Hint        string    `json:"hint"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// KeyCredential describes a certificate credential.
type KeyCredential struct {
	KeyID       string    `json:"key_id"`
	DisplayName string    `json:"display_name"`
	Thumbprint  string    `json:"thumbprint"` // SHA-1, upper-case hex
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// ServicePrincipal is a client application's service principal with what it
// was granted.
type ServicePrincipal struct {
	ID             string    `json:"id"`
	AppID          string    `json:"app_id"`
	DisplayName    string    `json:"display_name"`
	Enabled        bool      `json:"enabled"`
	Consents       []Consent `json:"consents"`
	DirectoryRoles []string  `json:"directory_roles"`
}

// Consent is an app-role assignment (WIRE §I9).
type Consent struct {
	ID         string    `json:"id"`
	Resource   string    `json:"resource"`   // "Microsoft Graph", "Office 365 Exchange Online"
	Permission string    `json:"permission"` // the app role's value
	AppRoleID  string    `json:"app_role_id"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
}

// ResourceServicePrincipal is Microsoft Graph or Office 365 Exchange Online.
type ResourceServicePrincipal struct {
	ID          string    `json:"id"`
	AppID       string    `json:"app_id"`
	DisplayName string    `json:"display_name"`
	AppRoles    []AppRole `json:"app_roles"`
}

// AppRole is an application permission of a resource.
type AppRole struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// ExchangeServicePrincipal is Exchange's pointer to a service principal with
// its RBAC-for-Applications assignments (WIRE §J2, §J5).
type ExchangeServicePrincipal struct {
	ObjectID    string               `json:"object_id"`
	AppID       string               `json:"app_id"`
	DisplayName string               `json:"display_name"`
	Assignments []ExchangeAssignment `json:"assignments"`
}

// ManagementScope is an Exchange management scope (WIRE §J3).
type ManagementScope struct {
	Name            string `json:"name"`
	Guid            string `json:"guid"`
	RecipientFilter string `json:"recipient_filter"`
}

func (t *tenant) snapshot() State {
	st := State{
		Tenant: Tenant{ID: t.seed.TenantID, DisplayName: t.seed.DisplayName, Cloud: t.seed.Cloud,
			Domains: slices.Clone(t.seed.Domains), LegacyBasicAuth: t.seed.LegacyBasicAuth},
		Users:      []User{},
		RoleGroups: []RoleGroup{},
	}
	for _, u := range t.users {
		st.Users = append(st.Users, t.userView(u))
	}
	for i := range roleGroups {
		st.RoleGroups = append(st.RoleGroups, t.roleGroupView(&roleGroups[i]))
	}
	t.snapshotApps(&st)
	t.snapshotImports(&st)
	return st
}

func (t *tenant) userView(u *user) User {
	v := User{UserPrincipalName: u.upn, ObjectID: u.oid, DisplayName: u.displayName, Alias: u.alias,
		MFA: u.mfa, MFARegistered: u.mfaRegistered, Disabled: u.disabled, Locked: u.locked,
		CABlocked: u.caBlocked, Mailbox: u.mailbox, MailboxID: t.mailboxID(u), HasAppPassword: t.passwords[u.oid].appPassword != "",
		EWSEnabled: cloneBool(u.ewsEnabled), Department: u.department,
		ExchangeRoleGroups: t.groupsOf(u), ExchangeAssignments: []ExchangeAssignment{},
		DirectoryRoleAssignments: []DirectoryRoleAssignment{}}
	if v.ExchangeRoleGroups == nil {
		v.ExchangeRoleGroups = []string{}
	}
	for i, a := range u.customAttributes {
		if a != "" {
			if v.CustomAttributes == nil {
				v.CustomAttributes = map[string]string{}
			}
			v.CustomAttributes[strconv.Itoa(i+1)] = a
		}
	}
	for _, a := range t.assignmentsOf(u) {
		v.ExchangeAssignments = append(v.ExchangeAssignments, t.exchangeView(a))
	}
	for _, d := range t.directoryAssignmentsOf(u) {
		v.DirectoryRoleAssignments = append(v.DirectoryRoleAssignments, t.directoryView(d))
	}
	return v
}

func (t *tenant) roleGroupView(g *roleGroup) RoleGroup {
	rg := RoleGroup{Name: g.name, Members: []string{}, Assignments: []ExchangeAssignment{}}
	for _, id := range t.groupMembers[g.name] {
		rg.Members = append(rg.Members, t.byID[id].upn)
	}
	for _, a := range t.exchange {
		if a.group == g.name {
			rg.Assignments = append(rg.Assignments, t.exchangeView(a))
		}
	}
	return rg
}

// snapshotApps fills the app-only part of a State.
func (t *tenant) snapshotApps(st *State) {
	o := t.org.clone()
	st.Organization = Organization{ImpersonationRetired: o.impersonationRetired, EWSEnabled: o.ewsEnabled,
		EWSAllowedAppIDs: o.allowedAppIDs, EWSDisablementDate: dateText(o.disablementDate), EWSEndDate: dateText(o.endDate)}
	st.Applications, st.ServicePrincipals, st.ResourceServicePrincipals = []Application{}, []ServicePrincipal{}, []ResourceServicePrincipal{}
	st.ExchangeServicePrincipals, st.ManagementScopes = []ExchangeServicePrincipal{}, []ManagementScope{}
	for _, a := range t.apps {
		st.Applications = append(st.Applications, applicationView(a))
	}
	for _, sp := range t.sps {
		if sp.resource != nil {
			st.ResourceServicePrincipals = append(st.ResourceServicePrincipals, resourceView(sp))
		} else {
			st.ServicePrincipals = append(st.ServicePrincipals, t.servicePrincipalView(sp))
		}
	}
	for _, p := range t.exchangeSPs {
		v := ExchangeServicePrincipal{ObjectID: p.objectID, AppID: p.appID, DisplayName: p.displayName, Assignments: []ExchangeAssignment{}}
		for _, a := range t.appAssignmentsOf(p.objectID) {
			v.Assignments = append(v.Assignments, t.exchangeView(a))
		}
		st.ExchangeServicePrincipals = append(st.ExchangeServicePrincipals, v)
	}
	for _, s := range t.scopes {
		st.ManagementScopes = append(st.ManagementScopes, scopeView(s))
	}
}

func applicationView(a *application) Application {
	v := Application{ObjectID: a.objectID, AppID: a.appID, DisplayName: a.displayName,
		IdentifierURIs: slices.Clone(a.identifierURIs), Tags: slices.Clone(a.tags),
		PasswordCredentials: []PasswordCredential{}, KeyCredentials: []KeyCredential{}, CreatedAt: a.createdAt, CreatedBy: a.createdBy}
	for _, p := range a.passwords {
		v.PasswordCredentials = append(v.PasswordCredentials, PasswordCredential{KeyID: p.keyID, DisplayName: p.displayName, Hint: p.hint, Start: p.start, End: p.end})
	}
	for _, k := range a.keys {
		v.KeyCredentials = append(v.KeyCredentials, KeyCredential{KeyID: k.keyID, DisplayName: k.displayName,
			Thumbprint: strings.ToUpper(fmt.Sprintf("%x", k.sha1Thumbprint())), Start: k.start, End: k.end})
	}
	return v
}

func resourceView(sp *servicePrincipal) ResourceServicePrincipal {
	r := ResourceServicePrincipal{ID: sp.id, AppID: sp.appID, DisplayName: sp.displayName, AppRoles: []AppRole{}}
	for _, role := range sp.resource.roles {
		r.AppRoles = append(r.AppRoles, AppRole{ID: role.id, Value: role.value})
	}
	return r
}

func (t *tenant) servicePrincipalView(sp *servicePrincipal) ServicePrincipal {
	v := ServicePrincipal{ID: sp.id, AppID: sp.appID, DisplayName: sp.displayName, Enabled: sp.enabled,
		Consents: []Consent{}, DirectoryRoles: []string{}}
	for _, a := range t.appRoleAssignments {
		if a.principalID == sp.id {
			v.Consents = append(v.Consents, t.consentView(a))
		}
	}
	for _, id := range t.directoryRoleIDsOf(sp.id) {
		v.DirectoryRoles = append(v.DirectoryRoles, findDirectoryRole(id).displayName)
	}
	return v
}

func (t *tenant) consentView(a *appRoleAssignment) Consent {
	c := Consent{ID: a.id, AppRoleID: a.appRoleID, CreatedAt: a.createdAt, CreatedBy: a.createdBy}
	if res := t.spByID(a.resourceID); res != nil && res.resource != nil {
		c.Resource = res.displayName
		if role := res.resource.roleByID(a.appRoleID); role != nil {
			c.Permission = role.value
		}
	}
	return c
}

func scopeView(s *managementScope) ManagementScope {
	return ManagementScope{Name: s.name, Guid: s.guid, RecipientFilter: s.filter}
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func (t *tenant) exchangeView(a *exoAssignment) ExchangeAssignment {
	v := ExchangeAssignment{Name: a.name, Identity: a.name, Role: a.role, Guid: a.guid,
		AssignmentMethod: "Direct", RoleAssigneeType: "User", DelegationType: a.delegation,
		Enabled: a.enabled, CreatedAt: a.createdAt, CreatedBy: a.createdBy}
	if a.group != "" {
		v.AssignmentMethod, v.RoleAssigneeType, v.RoleAssigneeName = "RoleGroup", "RoleGroup", a.group
	} else if a.spID != "" {
		v.RoleAssigneeType, v.RoleAssigneeName, v.CustomResourceScope = "ServicePrincipal", a.spID, a.scope
	} else if u := t.byID[a.userID]; u != nil {
		v.RoleAssigneeName = u.alias
	}
	return v
}

func (t *tenant) directoryView(d *dirAssignment) DirectoryRoleAssignment {
	return DirectoryRoleAssignment{ID: d.id, RoleDefinitionID: d.roleID,
		RoleDisplayName: findDirectoryRole(d.roleID).displayName, DirectoryScopeID: d.scope, CreatedBy: d.createdBy}
}

type tenantJSON Tenant

// MarshalJSON writes the durations as Go duration strings ("5s").
func (t Tenant) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		tenantJSON
		PropagationDelay string `json:"propagation_delay"`
		Latency          string `json:"latency"`
		RBACDelay        string `json:"rbac_delay"`
	}{tenantJSON(t), t.PropagationDelay.String(), t.Latency.String(), t.RBACDelay.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Tenant) UnmarshalJSON(data []byte) error {
	var aux struct {
		*tenantJSON
		PropagationDelay string `json:"propagation_delay"`
		Latency          string `json:"latency"`
		RBACDelay        string `json:"rbac_delay"`
	}
	aux.tenantJSON = (*tenantJSON)(t)
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	var err error
	if t.PropagationDelay, err = time.ParseDuration(aux.PropagationDelay); err != nil {
		return err
	}
	if t.Latency, err = time.ParseDuration(aux.Latency); err != nil {
		return err
	}
	if aux.RBACDelay != "" {
		t.RBACDelay, err = time.ParseDuration(aux.RBACDelay)
	}
	return err
}
