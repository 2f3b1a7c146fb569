package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Seed is the tenant file the emulator starts from (and returns to on Reset).
type Seed struct {
	TenantID    string `json:"tenant_id"`
	DisplayName string `json:"display_name"`
	// Cloud is one of worldwide, germany, usgovernment, usgovernment_dod, china
	// (WIRE §B). It decides which resource URIs the token endpoint accepts.
	Cloud string `json:"cloud,omitempty"`
	// Domains are the verified domains; the first is the initial
	// (*.onmicrosoft.com) domain, the second (when present) the default one.
	Domains []string `json:"domains"`
	// LegacyBasicAuth lets EWS accept Basic auth with a user's app password (WIRE §A11).
	LegacyBasicAuth bool `json:"legacy_basic_auth,omitempty"`
	// PropagationDelay is how long a new Exchange role assignment takes to
	// become effective for EWS impersonation. JSON: a Go duration string ("5s").
	PropagationDelay time.Duration `json:"-"`
	Users            []SeedUser    `json:"users"`

	// The app-only world (WIRE §I–§K). Omitted, a seed describes the seed's
	// world: ApplicationImpersonation exists and EWS is open.

	// ImpersonationRetired removes the ApplicationImpersonation role, as
	// Exchange Online did in 2025 (WIRE §K1).
	ImpersonationRetired bool `json:"impersonation_retired,omitempty"`
	// EWS holds the organization's EWS switches and dates (WIRE §K2–§K3).
	EWS *SeedEWS `json:"ews,omitempty"`
	// RBACDelay is how long an Exchange RBAC-for-Applications change takes to
	// reach Graph and EWS (WIRE §J7.2; Microsoft documents 30 min – 2 h).
	// JSON: a Go duration string.
	RBACDelay time.Duration `json:"-"`
	// Applications are Entra app registrations with their service principals,
	// credentials and consents (WIRE §I).
	Applications []SeedApplication `json:"applications,omitempty"`
	// ManagementScopes are Exchange management scopes (WIRE §J3).
	ManagementScopes []SeedManagementScope `json:"management_scopes,omitempty"`
}

// SeedEWS is the organization's EWS configuration (Get-OrganizationConfig, WIRE §K2).
type SeedEWS struct {
	// Enabled is EwsEnabled: null (not configured, treated as true until the
	// disablement date), true or false.
	Enabled *bool `json:"enabled"`
	// AllowedAppIDs is EwsAllowedAppIDs; null = not configured. It only
	// counts when Enabled is true.
	AllowedAppIDs []string `json:"allowed_app_ids"`
	// DisablementDate (YYYY-MM-DD) is when a null EwsEnabled starts to count
	// as false (Exchange Online: tenant by tenant from 2026-10-01). "" = never.
	DisablementDate string `json:"disablement_date,omitempty"`
	// EndDate (YYYY-MM-DD) is when EWS stops for everyone (Exchange Online:
	// 2027-04-01, EWSEndDate). "" = never, as on-premises.
	EndDate string `json:"end_date,omitempty"`
}

// SeedApplication is an app registration, its service principal and what
// an administrator has granted it.
type SeedApplication struct {
	DisplayName string `json:"display_name"`
	// AppID is the client id; default: derived from the tenant and display name.
	AppID          string   `json:"app_id,omitempty"`
	IdentifierURIs []string `json:"identifier_uris,omitempty"`
	Tags           []string `json:"tags,omitempty"`
	// NoServicePrincipal leaves the app without a service principal in the
	// tenant (token requests then fail with AADSTS7000229).
	NoServicePrincipal bool `json:"no_service_principal,omitempty"`
	// Disabled sets the service principal's accountEnabled to false (AADSTS7000112).
	Disabled     bool              `json:"disabled,omitempty"`
	Secrets      []SeedSecret      `json:"secrets,omitempty"`
	Certificates []SeedCertificate `json:"certificates,omitempty"`
	// GraphPermissions and ExchangePermissions are consented app-role values
	// on Microsoft Graph and Office 365 Exchange Online (WIRE §I8, §I9).
	GraphPermissions    []string `json:"graph_permissions,omitempty"`
	ExchangePermissions []string `json:"exchange_permissions,omitempty"`
	// DirectoryRoles are Entra roles held by the service principal (WIRE §J1).
	DirectoryRoles []string `json:"directory_roles,omitempty"`
	// ExchangeServicePrincipal: New-ServicePrincipal has been run for it (WIRE §J2).
	// Implied by ExchangeRoles.
	ExchangeServicePrincipal bool `json:"exchange_service_principal,omitempty"`
	// ExchangeRoles are RBAC-for-Applications assignments (WIRE §J5).
	ExchangeRoles []SeedAppExchangeRole `json:"exchange_roles,omitempty"`
}

// SeedSecret is a password credential. Start defaults to the seeding time,
// End to Start + 2 years (WIRE §I10).
type SeedSecret struct {
	DisplayName string     `json:"display_name,omitempty"`
	Value       string     `json:"value"`
	KeyID       string     `json:"key_id,omitempty"`
	Start       *time.Time `json:"start,omitempty"`
	End         *time.Time `json:"end,omitempty"`
}

// SeedCertificate is a key credential: a PEM certificate (public part only
// is kept). Start and End default to the certificate's validity.
type SeedCertificate struct {
	DisplayName string     `json:"display_name,omitempty"`
	PEM         string     `json:"pem"`
	KeyID       string     `json:"key_id,omitempty"`
	Start       *time.Time `json:"start,omitempty"`
	End         *time.Time `json:"end,omitempty"`
}

// SeedAppExchangeRole is New-ManagementRoleAssignment -App -Role [-CustomResourceScope].
type SeedAppExchangeRole struct {
	Role string `json:"role"`
	// Scope names a management scope; "" = organization-wide.
	Scope string `json:"scope,omitempty"`
	Name  string `json:"name,omitempty"`
}

// SeedManagementScope is New-ManagementScope -Name -RecipientRestrictionFilter.
type SeedManagementScope struct {
	Name            string `json:"name"`
	RecipientFilter string `json:"recipient_filter"`
}

// SeedUser is one account of the seeded tenant.
type SeedUser struct {
	UserPrincipalName string `json:"user_principal_name"`
	DisplayName       string `json:"display_name,omitempty"`
	// Alias is the Exchange recipient name; default: the UPN's local part.
	Alias       string `json:"alias,omitempty"`
	Password    string `json:"password"`
	AppPassword string `json:"app_password,omitempty"`
	MFA         bool   `json:"mfa,omitempty"`
	// MFARegistered defaults to true; an MFA user that is not registered gets
	// AADSTS50079 instead of 50076.
	MFARegistered *bool `json:"mfa_registered,omitempty"`
	Disabled      bool  `json:"disabled,omitempty"`
	Locked        bool  `json:"locked,omitempty"`
	// CABlocked makes every sign-in fail with AADSTS53003 (Conditional Access).
	CABlocked          bool     `json:"ca_blocked,omitempty"`
	Mailbox            bool     `json:"mailbox,omitempty"`
	ExchangeRoles      []string `json:"exchange_roles,omitempty"`
	ExchangeRoleGroups []string `json:"exchange_role_groups,omitempty"`
	DirectoryRoles     []string `json:"directory_roles,omitempty"`
	// EWSEnabled is the mailbox's CASMailbox EwsEnabled: null (not
	// configured, allowed), true or false (WIRE §K3).
	EWSEnabled *bool  `json:"ews_enabled,omitempty"`
	Department string `json:"department,omitempty"`
	// CustomAttributes are CustomAttribute1..15, keyed "1".."15".
	CustomAttributes map[string]string `json:"custom_attributes,omitempty"`
}

type seedJSON Seed

// UnmarshalJSON reads propagation_delay as a duration string.
func (s *Seed) UnmarshalJSON(data []byte) error {
	var aux struct {
		*seedJSON
		PropagationDelay string `json:"propagation_delay"`
		RBACDelay        string `json:"rbac_delay"`
	}
	aux.seedJSON = (*seedJSON)(s)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	if aux.PropagationDelay != "" {
		d, err := time.ParseDuration(aux.PropagationDelay)
		if err != nil {
			return fmt.Errorf("propagation_delay: %w", err)
		}
		s.PropagationDelay = d
	}
	if aux.RBACDelay != "" {
		d, err := time.ParseDuration(aux.RBACDelay)
		if err != nil {
			return fmt.Errorf("rbac_delay: %w", err)
		}
		s.RBACDelay = d
	}
	return nil
}

// MarshalJSON writes propagation_delay and rbac_delay as duration strings.
func (s Seed) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		seedJSON
		PropagationDelay string `json:"propagation_delay"`
		RBACDelay        string `json:"rbac_delay,omitempty"`
	}{seedJSON(s), s.PropagationDelay.String(), durationText(s.RBACDelay)})
}

// LoadSeed reads and validates a seed file.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return seed, nil
}

// ParseSeed decodes and validates a seed document. Unknown fields are errors,
// so a typo in a flag name is not silently ignored.
func ParseSeed(data []byte) (*Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// failFunc records one validation problem.
type failFunc func(format string, args ...any)

// Validate checks the seed and fills defaults (cloud, aliases, mfa_registered).
// All problems are reported together.
func (s *Seed) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	domains := s.validateTenant(fail)
	upns, aliases := map[string]bool{}, map[string]string{}
	for i := range s.Users {
		s.Users[i].validate(i, domains, upns, aliases, fail)
	}
	s.validateAppWorld(fail)
	if len(errs) > 0 {
		return fmt.Errorf("invalid seed: %w", errors.Join(errs...))
	}
	return nil
}

// validateTenant checks the tenant's id, name, cloud, delay and domains
// (lower-cased here); it returns the set of domains.
func (s *Seed) validateTenant(fail failFunc) map[string]bool {
	if id, err := uuid.Parse(s.TenantID); err != nil || strings.Count(s.TenantID, "-") != 4 {
		fail("tenant_id %q is not a GUID", s.TenantID)
	} else {
		s.TenantID = id.String()
	}
	if strings.TrimSpace(s.DisplayName) == "" {
		fail("display_name is empty")
	}
	if s.Cloud == "" {
		s.Cloud = "worldwide"
	}
	if _, ok := clouds[s.Cloud]; !ok {
		fail("cloud %q is not one of worldwide, germany, usgovernment, usgovernment_dod, china", s.Cloud)
	}
	if s.PropagationDelay < 0 {
		fail("propagation_delay is negative")
	}
	if len(s.Domains) == 0 {
		fail("domains is empty (the first domain is the tenant's initial domain)")
	}
	domains := map[string]bool{}
	for i, d := range s.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		s.Domains[i] = d
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@/ ") {
			fail("domain %q is not a domain name", d)
		}
		if domains[d] {
			fail("domain %q is listed twice", d)
		}
		domains[d] = true
	}
	return domains
}

// validate checks users[i] against the tenant's domains and the UPNs and
// aliases (alias → UPN) of the users before it, and fills its defaults.
func (u *SeedUser) validate(i int, domains, upns map[string]bool, aliases map[string]string, fail failFunc) {
	local, domain, ok := strings.Cut(u.UserPrincipalName, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		fail("users[%d]: user_principal_name %q is not an address", i, u.UserPrincipalName)
		return
	}
	upn := strings.ToLower(u.UserPrincipalName)
	if upns[upn] {
		fail("users[%d]: duplicate user_principal_name %q", i, u.UserPrincipalName)
	}
	upns[upn] = true
	if !domains[strings.ToLower(domain)] {
		fail("users[%d]: the domain of %q is not in domains", i, u.UserPrincipalName)
	}
	if u.Alias == "" {
		u.Alias = local
	}
	if other, dup := aliases[strings.ToLower(u.Alias)]; dup {
		fail("users[%d]: alias %q is also the alias of %s", i, u.Alias, other)
	}
	aliases[strings.ToLower(u.Alias)] = u.UserPrincipalName
	if u.DisplayName == "" {
		u.DisplayName = local
	}
	if u.Password == "" {
		fail("users[%d] (%s): password is empty", i, u.UserPrincipalName)
	}
	if u.MFARegistered == nil {
		registered := true
		u.MFARegistered = &registered
	}
	u.validateRoles(i, fail)
}

// validateRoles checks that the user's roles and role groups exist.
func (u *SeedUser) validateRoles(i int, fail failFunc) {
	for _, r := range u.ExchangeRoles {
		if !isExchangeRole(r) {
			fail("users[%d] (%s): unknown Exchange role %q", i, u.UserPrincipalName, r)
		}
	}
	for _, g := range u.ExchangeRoleGroups {
		if findRoleGroup(g) == nil {
			fail("users[%d] (%s): unknown Exchange role group %q", i, u.UserPrincipalName, g)
		}
	}
	for _, r := range u.DirectoryRoles {
		if findDirectoryRole(r) == nil {
			fail("users[%d] (%s): unknown directory role %q", i, u.UserPrincipalName, r)
		}
	}
}

// defaultDomain is the domain new mail addresses use.
func (s *Seed) defaultDomain() string {
	if len(s.Domains) > 1 {
		return s.Domains[1]
	}
	return s.Domains[0]
}

// validate checks an application of the seed or the control API; scopeExists
// tells whether a management scope is known.
func (sa *SeedApplication) validate(scopeExists func(string) bool, impersonationRetired bool) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(sa.DisplayName) == "" {
		fail("display_name is empty")
	}
	if sa.AppID != "" {
		if _, err := uuid.Parse(sa.AppID); err != nil || strings.Count(sa.AppID, "-") != 4 {
			fail("app_id %q is not a GUID", sa.AppID)
		} else if findResourceApp(sa.AppID) != nil {
			fail("app_id %q is a Microsoft resource's", sa.AppID)
		}
	}
	sa.validateCredentials(fail)
	if sa.NoServicePrincipal && (sa.Disabled || len(sa.GraphPermissions)+len(sa.ExchangePermissions)+len(sa.DirectoryRoles)+len(sa.ExchangeRoles) > 0 || sa.ExchangeServicePrincipal) {
		fail("no_service_principal excludes disabled, permissions, directory roles and Exchange roles")
	}
	sa.validateGrants(scopeExists, impersonationRetired, fail)
	if len(errs) > 0 {
		return fmt.Errorf("application %q: %w", sa.DisplayName, errors.Join(errs...))
	}
	return nil
}

// validateCredentials checks the secrets and certificates.
func (sa *SeedApplication) validateCredentials(fail failFunc) {
	for i, s := range sa.Secrets {
		if s.Value == "" {
			fail("secrets[%d]: value is empty", i)
		}
		if s.Start != nil && s.End != nil && !s.End.After(*s.Start) {
			fail("secrets[%d]: end is not after start", i)
		}
	}
	for i, c := range sa.Certificates {
		if _, err := parseCertificatePEM(c.PEM); err != nil {
			fail("certificates[%d]: %v", i, err)
		}
		if c.Start != nil && c.End != nil && !c.End.After(*c.Start) {
			fail("certificates[%d]: end is not after start", i)
		}
	}
}

// validateGrants checks the consented permissions, directory roles and
// Exchange roles (with their scopes).
func (sa *SeedApplication) validateGrants(scopeExists func(string) bool, impersonationRetired bool, fail failFunc) {
	for _, g := range []struct {
		alias  string
		values []string
	}{{"graph", sa.GraphPermissions}, {"exchange", sa.ExchangePermissions}} {
		r := findResourceApp(g.alias)
		for _, v := range g.values {
			if r.roleByValue(v) == nil {
				fail("%s_permissions: %q is not an application permission of %s", g.alias, v, r.displayName)
			}
		}
	}
	for _, name := range sa.DirectoryRoles {
		if findDirectoryRole(name) == nil {
			fail("directory_roles: unknown directory role %q", name)
		}
	}
	for i, r := range sa.ExchangeRoles {
		switch role := canonicalAppAssignableRole(r.Role); {
		case role == "":
			fail("exchange_roles[%d]: unknown role %q", i, r.Role)
		case impersonationRetired && role == "ApplicationImpersonation":
			fail("exchange_roles[%d]: ApplicationImpersonation is retired in this tenant", i)
		}
		if r.Scope != "" && !scopeExists(r.Scope) {
			fail("exchange_roles[%d]: unknown management scope %q", i, r.Scope)
		}
	}
}

// validateAppWorld checks the seed's app-only part (WIRE §I–§K).
func (s *Seed) validateAppWorld(fail failFunc) {
	if s.RBACDelay < 0 {
		fail("rbac_delay is negative")
	}
	if s.EWS != nil {
		s.EWS.validate(fail)
	}
	for i, u := range s.Users {
		for k := range u.CustomAttributes {
			if customAttributeIndex(k) < 0 {
				fail("users[%d] (%s): custom_attributes key %q is not 1..15", i, u.UserPrincipalName, k)
			}
		}
		if s.ImpersonationRetired && slices.ContainsFunc(u.ExchangeRoles, func(r string) bool { return strings.EqualFold(r, "ApplicationImpersonation") }) {
			fail("users[%d] (%s): ApplicationImpersonation is retired in this tenant (impersonation_retired)", i, u.UserPrincipalName)
		}
	}
	scopes := s.validateScopes(fail)
	s.validateApplications(scopes, fail)
}

// validate checks the EWS dates and allowed application ids.
func (e *SeedEWS) validate(fail failFunc) {
	for _, d := range []struct{ name, value string }{{"ews.disablement_date", e.DisablementDate}, {"ews.end_date", e.EndDate}} {
		if _, err := parseDate(d.value); err != nil {
			fail("%s %q is not a date (YYYY-MM-DD)", d.name, d.value)
		}
	}
	for _, id := range e.AllowedAppIDs {
		if _, err := uuid.Parse(id); err != nil {
			fail("ews.allowed_app_ids: %q is not an application id", id)
		}
	}
}

// validateScopes checks the management scopes' names and filters; it returns
// the set of their lower-case names.
func (s *Seed) validateScopes(fail failFunc) map[string]bool {
	scopes := map[string]bool{}
	for i, sc := range s.ManagementScopes {
		switch {
		case strings.TrimSpace(sc.Name) == "" || len([]rune(sc.Name)) > 64:
			fail("management_scopes[%d]: name must have 1 to 64 characters", i)
		case scopes[strings.ToLower(sc.Name)]:
			fail("management_scopes[%d]: duplicate name %q", i, sc.Name)
		}
		scopes[strings.ToLower(sc.Name)] = true
		if _, err := parseOPATH(sc.RecipientFilter); err != nil {
			fail("management_scopes[%d] (%s): recipient_filter: %v", i, sc.Name, err)
		}
	}
	return scopes
}

// validateApplications checks each application, and that app ids (and the
// display names of applications without one) are unique.
func (s *Seed) validateApplications(scopes map[string]bool, fail failFunc) {
	appIDs, names := map[string]bool{}, map[string]bool{}
	for i := range s.Applications {
		sa := &s.Applications[i]
		if err := sa.validate(func(name string) bool { return scopes[strings.ToLower(name)] }, s.ImpersonationRetired); err != nil {
			fail("applications[%d]: %v", i, err)
		}
		if sa.AppID != "" {
			if appIDs[strings.ToLower(sa.AppID)] {
				fail("applications[%d]: duplicate app_id %q", i, sa.AppID)
			}
			appIDs[strings.ToLower(sa.AppID)] = true
		} else if names[strings.ToLower(sa.DisplayName)] {
			fail("applications[%d]: a second application named %q needs an app_id", i, sa.DisplayName)
		}
		names[strings.ToLower(sa.DisplayName)] = true
	}
}

// customAttributeIndex maps "1".."15" to 0..14, anything else to -1.
func customAttributeIndex(key string) int {
	n, err := strconv.Atoi(key)
	if err != nil || n < 1 || n > 15 || strconv.Itoa(n) != key {
		return -1
	}
	return n - 1
}
