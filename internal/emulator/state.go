package emulator

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The tenant's state: users, their Exchange role assignments (direct and
// through role groups) and directory role assignments. Every access holds
// Server.mu. Applications are state_applications.go, Exchange's RBAC for
// Applications and switches state_exchange.go, the public copy
// state_snapshot.go.

// Errors of the state operations; the surfaces translate them into
// Microsoft's error shapes, the control API into 404 / 409.
var (
	errNotFound = errors.New("not found")
	errConflict = errors.New("already exists")
)

// tenant is the mutable state; every access holds Server.mu.
type tenant struct {
	seed      *Seed
	namespace uuid.UUID // derives deterministic ids from the tenant id
	seededAt  time.Time
	users     []*user
	byUPN     map[string]*user // lower-case UPN
	byID      map[string]*user
	// groupMembers maps a role group name to its members' object ids.
	groupMembers map[string][]string
	exchange     []*exoAssignment   // all Exchange assignments, in creation order
	directory    []*dirAssignment   // all directory role assignments, in creation order
	sequence     int                // counter mixed into derived ids
	passwords    map[string]secrets // by object id

	// The app-only world (state_applications.go, state_exchange.go).
	apps               []*application
	sps                []*servicePrincipal
	appRoleAssignments []*appRoleAssignment
	exchangeSPs        []*exchangeServicePrincipal
	scopes             []*managementScope
	revokedRBAC        []*exoAssignment // removed SP assignments, still cached by Graph and EWS
	org                orgSettings
	noMailboxAnswers   int // alternates Graph's two answers for a user without mailbox

	// Graph's mailbox import API (state_import.go).
	importSessions []*importSession
	importUploads  []*importUpload
}

type secrets struct {
	password, appPassword string
	generation            int // bumped on password change: revokes refresh tokens
}

type user struct {
	upn, oid, displayName, alias                    string
	mfa, mfaRegistered, disabled, locked, caBlocked bool
	mailbox                                         bool
	ewsEnabled                                      *bool // CASMailbox EwsEnabled; nil = not configured
	department                                      string
	customAttributes                                [15]string
}

type exoAssignment struct {
	name, role, guid, delegation string
	enabled                      bool
	createdAt                    time.Time
	createdBy                    string
	seeded                       bool   // seeded assignments are effective at once
	userID                       string // set for a direct assignment
	group                        string // set for a role group's own assignment
	spID                         string // set for a service principal's assignment (RBAC for Applications)
	scope                        string // its CustomResourceScope; "" = organization-wide
	removedAt                    time.Time
}

type dirAssignment struct {
	id, roleID, principalID, scope, createdBy string
}

func newTenant(seed *Seed, now time.Time) *tenant {
	t := &tenant{
		seed:         seed,
		namespace:    uuid.MustParse(seed.TenantID),
		seededAt:     now.UTC().Truncate(time.Second),
		byUPN:        map[string]*user{},
		byID:         map[string]*user{},
		groupMembers: map[string][]string{},
		passwords:    map[string]secrets{},
	}
	t.org = seedOrgSettings(seed)
	t.seedRoleGroups()
	for _, su := range seed.Users {
		t.seedUser(su)
	}
	t.addResourceServicePrincipals()
	for _, sc := range seed.ManagementScopes {
		_, _ = t.addScope(sc.Name, sc.RecipientFilter, t.seededAt)
	}
	for _, sa := range seed.Applications {
		_, _ = t.seedApplication(sa, t.seededAt) // Validate checked it
	}
	return t
}

// seedRoleGroups gives the built-in role groups their own assignments.
func (t *tenant) seedRoleGroups() {
	for _, g := range roleGroups {
		for _, r := range g.roles {
			if t.org.impersonationRetired && r.role == "ApplicationImpersonation" {
				continue // the role no longer exists (WIRE §K1)
			}
			name := assignmentName(r.role, g.name)
			if r.delegation != "Regular" {
				name = assignmentName(r.role, g.name+"-"+r.delegation)
			}
			t.exchange = append(t.exchange, &exoAssignment{name: name, role: r.role,
				guid: t.newID("exchange-role-assignment", name), delegation: r.delegation,
				enabled: true, createdAt: t.seededAt, seeded: true, group: g.name})
		}
	}
}

// seedUser creates a seed's user with its secrets, role groups and roles.
func (t *tenant) seedUser(su SeedUser) {
	u := &user{
		upn: su.UserPrincipalName, displayName: su.DisplayName, alias: su.Alias,
		oid: uuid.NewSHA1(t.namespace, []byte("user:"+strings.ToLower(su.UserPrincipalName))).String(),
		mfa: su.MFA, mfaRegistered: su.MFARegistered == nil || *su.MFARegistered,
		disabled: su.Disabled, locked: su.Locked, caBlocked: su.CABlocked, mailbox: su.Mailbox,
		ewsEnabled: cloneBool(su.EWSEnabled), department: su.Department,
	}
	for k, v := range su.CustomAttributes {
		if i := customAttributeIndex(k); i >= 0 {
			u.customAttributes[i] = v
		}
	}
	t.users = append(t.users, u)
	t.byUPN[strings.ToLower(u.upn)] = u
	t.byID[u.oid] = u
	t.passwords[u.oid] = secrets{password: su.Password, appPassword: su.AppPassword}
	for _, g := range su.ExchangeRoleGroups {
		name := findRoleGroup(g).name
		t.groupMembers[name] = append(t.groupMembers[name], u.oid)
	}
	for _, r := range su.ExchangeRoles {
		a, _ := t.addExchangeAssignment(u, canonicalExchangeRole(r), "", "", t.seededAt)
		a.seeded = true
	}
	for _, r := range su.DirectoryRoles {
		_ = t.addDirectoryAssignment(u, findDirectoryRole(r))
	}
}

// newID derives a deterministic GUID from the tenant, a kind, a name and the
// running sequence, so a seed plus a sequence of operations always yields the
// same ids.
func (t *tenant) newID(kind, name string) string {
	t.sequence++
	return uuid.NewSHA1(t.namespace, fmt.Appendf(nil, "%s:%s:%d", kind, strings.ToLower(name), t.sequence)).String()
}

// assignmentName is Exchange's default "<Role>-<assignee>", at most 64
// characters (WIRE §E3 ⚠ format).
func assignmentName(role, assignee string) string {
	name := role + "-" + assignee
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64])
	}
	return name
}

func (t *tenant) userByUPN(upn string) *user { return t.byUPN[strings.ToLower(upn)] }

// resolveUser accepts an object id or a UPN (Graph accepts both in /users/{id}).
func (t *tenant) resolveUser(idOrUPN string) *user {
	if u := t.byID[strings.ToLower(idOrUPN)]; u != nil {
		return u
	}
	return t.userByUPN(idOrUPN)
}

// userBySMTP finds a user by UPN or any alias@verified-domain address.
func (t *tenant) userBySMTP(address string) *user {
	if u := t.userByUPN(address); u != nil {
		return u
	}
	local, domain, _ := strings.Cut(strings.ToLower(address), "@")
	if !slices.Contains(t.seed.Domains, domain) {
		return nil
	}
	for _, u := range t.users {
		if strings.EqualFold(u.alias, local) {
			return u
		}
	}
	return nil
}

// recipient resolves an Exchange identity: UPN, SMTP address or alias.
func (t *tenant) recipient(identity string) *user {
	if u := t.userBySMTP(identity); u != nil {
		return u
	}
	for _, u := range t.users {
		if strings.EqualFold(u.alias, identity) {
			return u
		}
	}
	return nil
}

func (t *tenant) mustUser(upn string) (*user, error) {
	if u := t.userByUPN(upn); u != nil {
		return u, nil
	}
	return nil, fmt.Errorf("user %q: %w", upn, errNotFound)
}

// isKnownTenant accepts the tenant GUID or any verified domain.
func (t *tenant) isKnownTenant(name string) bool {
	return strings.EqualFold(name, t.seed.TenantID) || slices.Contains(t.seed.Domains, strings.ToLower(name))
}

func (t *tenant) mail(u *user) string {
	if !u.mailbox {
		return ""
	}
	return u.alias + "@" + t.seed.defaultDomain()
}

// groupsOf lists the role groups u is a member of, in catalogue order.
func (t *tenant) groupsOf(u *user) []string {
	var groups []string
	for _, g := range roleGroups {
		if slices.Contains(t.groupMembers[g.name], u.oid) {
			groups = append(groups, g.name)
		}
	}
	return groups
}

// assignmentsOf returns u's direct assignments, then those of its role groups.
func (t *tenant) assignmentsOf(u *user) []*exoAssignment {
	var out []*exoAssignment
	for _, a := range t.exchange {
		if a.userID == u.oid {
			out = append(out, a)
		}
	}
	for _, g := range t.groupsOf(u) {
		for _, a := range t.exchange {
			if a.group == g {
				out = append(out, a)
			}
		}
	}
	return out
}

// holdsExchangeRole reports a Regular, enabled assignment of role (direct or
// through a role group). With effectiveAt set, an assignment also needs to be
// older than the propagation delay (how Exchange Online's replication lag looks
// to a client).
func (t *tenant) holdsExchangeRole(u *user, role string, effectiveAt time.Time, delay time.Duration) bool {
	for _, a := range t.assignmentsOf(u) {
		if !strings.EqualFold(a.role, role) || a.delegation != "Regular" || !a.enabled {
			continue
		}
		if effectiveAt.IsZero() || a.seeded || !effectiveAt.Before(a.createdAt.Add(delay)) {
			return true
		}
	}
	return false
}

func (t *tenant) findExchangeAssignment(identity string) *exoAssignment {
	for _, a := range t.exchange {
		if strings.EqualFold(a.name, identity) || strings.EqualFold(a.guid, identity) {
			return a
		}
	}
	return nil
}

// addExchangeAssignment is New-ManagementRoleAssignment -Role role -User u [-Name name].
func (t *tenant) addExchangeAssignment(u *user, role, name, createdBy string, now time.Time) (*exoAssignment, error) {
	canonical := canonicalExchangeRole(role)
	if canonical == "" {
		return nil, fmt.Errorf("management role %q: %w", role, errNotFound)
	}
	if name == "" {
		name = assignmentName(canonical, u.alias)
	}
	if t.findExchangeAssignment(name) != nil {
		return nil, fmt.Errorf("role assignment %q: %w", name, errConflict)
	}
	a := &exoAssignment{name: name, role: canonical, guid: t.newID("exchange-role-assignment", name),
		delegation: "Regular", enabled: true, createdAt: now.UTC(), createdBy: createdBy, userID: u.oid}
	t.exchange = append(t.exchange, a)
	return a, nil
}

// uniqueAssignmentName picks "<Role>-<alias>", or "<Role>-<alias>-N" when taken.
func (t *tenant) uniqueAssignmentName(role, alias string) string {
	name := assignmentName(role, alias)
	for n := 2; t.findExchangeAssignment(name) != nil; n++ {
		name = assignmentName(role, fmt.Sprintf("%s-%d", alias, n))
	}
	return name
}

func (t *tenant) removeExchangeAssignment(a *exoAssignment) {
	t.exchange = slices.DeleteFunc(t.exchange, func(x *exoAssignment) bool { return x == a })
}

// directoryAssignmentID mimics Graph's ids: unpadded base64url of the role
// definition and principal GUIDs (little-endian, as .NET lays them out),
// then "-1" (WIRE §C4 example decodes this way). Deterministic by design.
func directoryAssignmentID(roleID, principalID string) string {
	b := append(guidBytesLE(roleID), guidBytesLE(principalID)...)
	return base64.RawURLEncoding.EncodeToString(b) + "-1"
}

func guidBytesLE(s string) []byte {
	g := uuid.MustParse(s)
	b := g[:]
	return []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
}

// addDirectoryAssignment gives u role out of band (seed, control API):
// no creator is recorded, as for assignments made outside Graph.
func (t *tenant) addDirectoryAssignment(u *user, role *directoryRole) error {
	if _, err := t.addDirectoryAssignmentTo(u.oid, role, ""); err != nil {
		return fmt.Errorf("%s already holds %s: %w", u.upn, role.displayName, errConflict)
	}
	return nil
}

func (t *tenant) directoryAssignmentsOf(u *user) []*dirAssignment {
	var out []*dirAssignment
	for _, d := range t.directory {
		if d.principalID == u.oid {
			out = append(out, d)
		}
	}
	return out
}

// hasDirectoryRole reports a tenant-wide assignment of any of the named roles.
func (t *tenant) hasDirectoryRole(u *user, names ...string) bool {
	for _, d := range t.directoryAssignmentsOf(u) {
		for _, n := range names {
			if r := findDirectoryRole(n); r != nil && r.templateID == d.roleID && d.scope == "/" {
				return true
			}
		}
	}
	return false
}

// roleTemplateIDs are the wids claim of u's tokens.
func (t *tenant) roleTemplateIDs(u *user) []string {
	ids := []string{}
	for _, d := range t.directoryAssignmentsOf(u) {
		ids = append(ids, d.roleID)
	}
	return ids
}

func (t *tenant) deleteUser(u *user) {
	t.users = slices.DeleteFunc(t.users, func(x *user) bool { return x == u })
	delete(t.byUPN, strings.ToLower(u.upn))
	delete(t.byID, u.oid)
	delete(t.passwords, u.oid)
	t.exchange = slices.DeleteFunc(t.exchange, func(a *exoAssignment) bool { return a.userID == u.oid })
	t.directory = slices.DeleteFunc(t.directory, func(d *dirAssignment) bool { return d.principalID == u.oid })
	for g, members := range t.groupMembers {
		t.groupMembers[g] = slices.DeleteFunc(members, func(id string) bool { return id == u.oid })
	}
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// parseDate reads YYYY-MM-DD (midnight UTC); "" is the zero time.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
