package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Exchange's side of the tenant (WIRE §J, §K): the pointers to service
// principals, management scopes, RBAC-for-Applications assignments and
// the organization's EWS switches. Like the rest of tenant, every access
// holds Server.mu.

// EWSEndDate is when Exchange Online stops EWS for everyone (WIRE §0, §K3).
// A seed models it with "ews":{"end_date":"2027-04-01"}.
var EWSEndDate = time.Date(2027, time.April, 1, 0, 0, 0, 0, time.UTC)

// exchangeServicePrincipal is Exchange's pointer to an Entra service
// principal (New-ServicePrincipal, WIRE §J2).
type exchangeServicePrincipal struct {
	objectID, appID, displayName string
	createdAt                    time.Time
}

// name is the pointer's Name (the object id in Microsoft's examples, ⚠).
func (p *exchangeServicePrincipal) name() string { return p.objectID }

// managementScope is New-ManagementScope -RecipientRestrictionFilter (WIRE §J3).
type managementScope struct {
	name, guid, filter string
	expr               opathExpr
	createdAt          time.Time
	// replaced are the filters Set-ManagementScope replaced, oldest first:
	// Graph and EWS keep applying each until the RBAC delay has passed
	// since its replacement (WIRE §J7.2), as they do for assignments.
	replaced []replacedFilter
}

// replacedFilter is a scope's filter in force until replacedAt.
type replacedFilter struct {
	expr       opathExpr
	replacedAt time.Time
}

// exprAt is the filter in force at asOf: the oldest one replaced after it,
// else the current one.
func (s *managementScope) exprAt(asOf time.Time) opathExpr {
	for _, r := range s.replaced {
		if asOf.Before(r.replacedAt) {
			return r.expr
		}
	}
	return s.expr
}

// orgSettings are the organization switches of WIRE §K1–§K3.
type orgSettings struct {
	impersonationRetired bool
	ewsEnabled           *bool     // nil = not configured
	allowedAppIDs        []string  // nil = not configured
	disablementDate      time.Time // zero = never
	endDate              time.Time // zero = never
}

func (o orgSettings) clone() orgSettings {
	o.ewsEnabled = cloneBool(o.ewsEnabled)
	if o.allowedAppIDs != nil {
		o.allowedAppIDs = slices.Clone(o.allowedAppIDs)
	}
	return o
}

// seedOrgSettings reads the seed's switches; Validate has checked the dates.
func seedOrgSettings(seed *Seed) orgSettings {
	o := orgSettings{impersonationRetired: seed.ImpersonationRetired}
	if e := seed.EWS; e != nil {
		o.ewsEnabled = cloneBool(e.Enabled)
		if e.AllowedAppIDs != nil {
			o.allowedAppIDs = slices.Clone(e.AllowedAppIDs)
		}
		o.disablementDate, _ = parseDate(e.DisablementDate)
		o.endDate, _ = parseDate(e.EndDate)
	}
	return o
}

// exchangeSP finds Exchange's pointer by Name, ObjectId, AppId or
// Identity (WIRE §J2, §J6).
func (t *tenant) exchangeSP(identity string) *exchangeServicePrincipal {
	for _, p := range t.exchangeSPs {
		if strings.EqualFold(p.objectID, identity) || strings.EqualFold(p.appID, identity) || strings.EqualFold(p.displayName, identity) {
			return p
		}
	}
	return nil
}

func (t *tenant) exchangeSPByObjectID(id string) *exchangeServicePrincipal {
	for _, p := range t.exchangeSPs {
		if strings.EqualFold(p.objectID, id) {
			return p
		}
	}
	return nil
}

func (t *tenant) findScope(name string) *managementScope {
	for _, s := range t.scopes {
		if strings.EqualFold(s.name, name) || strings.EqualFold(s.guid, name) {
			return s
		}
	}
	return nil
}

// addScope is New-ManagementScope.
func (t *tenant) addScope(name, filter string, now time.Time) (*managementScope, error) {
	if t.findScope(name) != nil {
		return nil, fmt.Errorf("management scope %q: %w", name, errConflict)
	}
	expr, err := parseOPATH(filter)
	if err != nil {
		return nil, err
	}
	s := &managementScope{name: name, guid: t.newID("management-scope", name), filter: filter, expr: expr, createdAt: now.UTC()}
	t.scopes = append(t.scopes, s)
	return s, nil
}

// setScope is Set-ManagementScope: a new name (assignments follow it, they
// name their scope) and/or a new filter, the old one kept for Graph and
// EWS until the RBAC delay has passed. Empty arguments change nothing.
func (t *tenant) setScope(s *managementScope, name, filter string, now time.Time) error {
	if filter != "" {
		expr, err := parseOPATH(filter)
		if err != nil {
			return err
		}
		s.replaced = append(s.replaced, replacedFilter{expr: s.expr, replacedAt: now.UTC()})
		s.filter, s.expr = filter, expr
	}
	if name != "" {
		for _, list := range [][]*exoAssignment{t.exchange, t.revokedRBAC} {
			for _, a := range list {
				if strings.EqualFold(a.scope, s.name) {
					a.scope = name
				}
			}
		}
		s.name = name
	}
	return nil
}

// recipientType is the Exchange RecipientType of a user (OPATH RecipientType).
func recipientType(u *user) string {
	if u.mailbox {
		return "UserMailbox"
	}
	return "User"
}

// recipientProperties are the OPATH-filterable properties of u (WIRE §J3).
func (t *tenant) recipientProperties(u *user) map[string]string {
	props := map[string]string{"Department": u.department, "PrimarySmtpAddress": t.mail(u), "RecipientType": recipientType(u)}
	for i, v := range u.customAttributes {
		props[fmt.Sprintf("CustomAttribute%d", i+1)] = v
	}
	return props
}

// scopeContains: "" is organization-wide; a scope contains the recipients
// its filter matches.
func (t *tenant) scopeContains(scopeName string, u *user) bool {
	if scopeName == "" {
		return true
	}
	s := t.findScope(scopeName)
	return s != nil && s.expr.matches(t.recipientProperties(u))
}

// scopeContainedAt is scopeContains with the filter in force at asOf.
func (t *tenant) scopeContainedAt(scopeName string, u *user, asOf time.Time) bool {
	if scopeName == "" {
		return true
	}
	s := t.findScope(scopeName)
	return s != nil && s.exprAt(asOf).matches(t.recipientProperties(u))
}

// canonicalAppAssignableRole is the catalogue spelling of a role that
// New-ManagementRoleAssignment -App accepts: an application role (WIRE §J4)
// or a management role; "" when unknown.
func canonicalAppAssignableRole(name string) string {
	if r := findApplicationRole(name); r != nil {
		return r.name
	}
	return canonicalExchangeRole(name)
}

// addAppExchangeAssignment is New-ManagementRoleAssignment -App -Role [-CustomResourceScope] (WIRE §J5).
func (t *tenant) addAppExchangeAssignment(p *exchangeServicePrincipal, role, scope, name, createdBy string, now time.Time) (*exoAssignment, error) {
	if name == "" {
		name = assignmentName(role, p.name())
	}
	if t.findExchangeAssignment(name) != nil {
		return nil, fmt.Errorf("role assignment %q: %w", name, errConflict)
	}
	a := &exoAssignment{name: name, role: role, guid: t.newID("exchange-role-assignment", name),
		delegation: "Regular", enabled: true, createdAt: now.UTC(), createdBy: createdBy, spID: p.objectID, scope: scope}
	t.exchange = append(t.exchange, a)
	return a, nil
}

// removeAppExchangeAssignment removes an assignment of a service principal;
// the removal reaches Graph and EWS only after the RBAC delay (WIRE §J7.2),
// so the assignment is kept aside until then.
func (t *tenant) removeAppExchangeAssignment(a *exoAssignment, now time.Time) {
	t.removeExchangeAssignment(a)
	a.removedAt = now.UTC()
	t.revokedRBAC = append(t.revokedRBAC, a)
}

// appAssignmentsOf lists the service principal's current Exchange assignments.
func (t *tenant) appAssignmentsOf(objectID string) []*exoAssignment {
	var out []*exoAssignment
	for _, a := range t.exchange {
		if strings.EqualFold(a.spID, objectID) {
			out = append(out, a)
		}
	}
	return out
}

// rbacGrants reports whether the service principal objectID may use
// permission on mailbox through RBAC for Applications, as Graph and EWS see
// it at now: an assignment counts once it is delay old, and a removed one
// until its removal is (WIRE §J7.1–2). Test-ServicePrincipalAuthorization
// reads the current assignments instead (it bypasses the cache). A scope's
// filter counts as it was delay ago (Set-ManagementScope is an RBAC change).
func (t *tenant) rbacGrants(objectID, permission string, mailbox *user, now time.Time, delay time.Duration) bool {
	grants := func(a *exoAssignment) bool {
		role := findApplicationRole(a.role)
		return strings.EqualFold(a.spID, objectID) && a.enabled && role != nil &&
			slices.ContainsFunc(role.permissions, func(p string) bool { return strings.EqualFold(p, permission) }) &&
			t.scopeContainedAt(a.scope, mailbox, now.Add(-delay))
	}
	for _, a := range t.exchange {
		if grants(a) && !now.Before(a.createdAt.Add(delay)) {
			return true
		}
	}
	for _, a := range t.revokedRBAC {
		if grants(a) && !now.Before(a.createdAt.Add(delay)) && now.Before(a.removedAt.Add(delay)) {
			return true
		}
	}
	return false
}

// ewsRefusal applies the organization and mailbox gates of WIRE §K3 in
// order at now; "" when EWS is open for appID on mailbox.
func (t *tenant) ewsRefusal(mailbox *user, appID string, now time.Time) string {
	o := t.org
	switch {
	case !o.endDate.IsZero() && !now.Before(o.endDate):
		return "EWS has been turned off in Exchange Online"
	case o.ewsEnabled != nil && !*o.ewsEnabled:
		return "EWS is disabled for the organization (EwsEnabled is False)"
	case o.ewsEnabled == nil && !o.disablementDate.IsZero() && !now.Before(o.disablementDate):
		return "EWS is disabled for the organization (EwsEnabled was not configured before the disablement date)"
	case mailbox != nil && mailbox.ewsEnabled != nil && !*mailbox.ewsEnabled:
		return "EWS is disabled for the mailbox (CASMailbox EwsEnabled is False)"
	case o.ewsEnabled != nil && *o.ewsEnabled && o.allowedAppIDs != nil &&
		!slices.ContainsFunc(o.allowedAppIDs, func(id string) bool { return strings.EqualFold(id, appID) }):
		return "the application is not in EwsAllowedAppIDs"
	}
	return ""
}
