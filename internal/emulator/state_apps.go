package emulator

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The app-only world's state (WIRE §I–§K): app registrations, service
// principals, consents, the Exchange pointers to service principals,
// management scopes and the organization's EWS switches. Like the rest of
// tenant, every access holds Server.mu.

// EWSEndDate is when Exchange Online stops EWS for everyone (WIRE §0, §K3).
// A seed models it with "ews":{"end_date":"2027-04-01"}.
var EWSEndDate = time.Date(2027, time.April, 1, 0, 0, 0, 0, time.UTC)

// application is an Entra app registration (WIRE §I7).
type application struct {
	objectID, appID, displayName, signInAudience string
	identifierURIs, tags                         []string
	notes, description                           string
	requiredResourceAccess                       []requiredResourceAccess
	passwords                                    []*passwordCredential
	keys                                         []*keyCredential
	createdAt                                    time.Time
	createdBy                                    string
}

// requiredResourceAccess is what an app asks for (WIRE §I7); it grants nothing.
type requiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type resourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// passwordCredential is a client secret; the value never leaves the
// emulator except once, in addPassword's answer (WIRE §I10).
type passwordCredential struct {
	keyID, displayName, hint, secret string
	start, end                       time.Time
}

// keyCredential is a certificate (public part only, WIRE §I10).
type keyCredential struct {
	keyID, displayName, keyType, usage string
	customKeyIdentifier                []byte
	cert                               *x509.Certificate
	start, end                         time.Time
}

func (k *keyCredential) sha1Thumbprint() []byte {
	sum := sha1.Sum(k.cert.Raw)
	return sum[:]
}

func (k *keyCredential) sha256Thumbprint() []byte {
	sum := sha256.Sum256(k.cert.Raw)
	return sum[:]
}

// servicePrincipal is an app's identity in the tenant (WIRE §I7). Resource
// service principals (Microsoft Graph, Exchange Online) have resource set.
type servicePrincipal struct {
	id, appID, displayName string
	enabled                bool
	app                    *application // nil for a first-party resource
	resource               *resourceApp // nil for a client
	tags                   []string
	createdAt              time.Time
}

// appRoleAssignment is a consent: principal holds appRoleID on resource (WIRE §I9).
type appRoleAssignment struct {
	id, appRoleID, principalID, resourceID string
	createdAt                              time.Time
	createdBy                              string
}

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

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// parseCertificatePEM reads the first CERTIFICATE block and requires an RSA
// key (MSAL signs assertions with RSA only, WIRE §I2).
func parseCertificatePEM(data string) (*x509.Certificate, error) {
	rest := []byte(data)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if block.Type == "CERTIFICATE" {
			return parseCertificateDER(block.Bytes)
		}
	}
}

// parseAnyCertificateDER accepts any X.509 certificate, as Graph does; only
// RSA keys can sign a client assertion, though.
func parseAnyCertificateDER(der []byte) (*x509.Certificate, error) {
	return x509.ParseCertificate(der)
}

func parseGUID(s string) (uuid.UUID, error) {
	if strings.Count(s, "-") != 4 {
		return uuid.UUID{}, errors.New("not a GUID")
	}
	return uuid.Parse(s)
}

func parseCertificateDER(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, errors.New("the certificate's key is not an RSA key")
	}
	return cert, nil
}

// parseDate reads YYYY-MM-DD (midnight UTC); "" is the zero time.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// secretHint is the first three characters Graph shows of a secret (WIRE §I10).
func secretHint(secret string) string {
	r := []rune(secret)
	return string(r[:min(3, len(r))])
}

func (t *tenant) appByAppID(appID string) *application {
	for _, a := range t.apps {
		if strings.EqualFold(a.appID, appID) {
			return a
		}
	}
	return nil
}

func (t *tenant) appByObjectID(id string) *application {
	for _, a := range t.apps {
		if strings.EqualFold(a.objectID, id) {
			return a
		}
	}
	return nil
}

func (t *tenant) spByID(id string) *servicePrincipal {
	for _, sp := range t.sps {
		if strings.EqualFold(sp.id, id) {
			return sp
		}
	}
	return nil
}

func (t *tenant) spByAppID(appID string) *servicePrincipal {
	for _, sp := range t.sps {
		if strings.EqualFold(sp.appID, appID) {
			return sp
		}
	}
	return nil
}

// resourceSP is the service principal of Microsoft Graph or Exchange Online.
func (t *tenant) resourceSP(r *resourceApp) *servicePrincipal { return t.spByAppID(r.appID) }

// addResourceServicePrincipals creates the first-party resources every tenant
// has. Their ids derive from the tenant alone (no sequence), so adding them
// leaves the seed's other ids as they were.
func (t *tenant) addResourceServicePrincipals() {
	for i := range resourceApps {
		r := &resourceApps[i]
		t.sps = append(t.sps, &servicePrincipal{
			id:    uuid.NewSHA1(t.namespace, []byte("resource-sp:"+r.appID)).String(),
			appID: r.appID, displayName: r.displayName, enabled: true, resource: r, createdAt: t.seededAt})
	}
}

// addApplication registers an app (POST /applications).
func (t *tenant) addApplication(displayName, appID, createdBy string, now time.Time) *application {
	objectID := t.newID("application", displayName)
	if appID == "" {
		appID = t.newID("app-id", displayName)
	}
	a := &application{objectID: objectID, appID: appID, displayName: displayName, signInAudience: "AzureADMyOrg",
		identifierURIs: []string{}, tags: []string{}, createdAt: now.UTC(), createdBy: createdBy}
	t.apps = append(t.apps, a)
	return a
}

// addServicePrincipal creates an app's service principal (POST /servicePrincipals).
func (t *tenant) addServicePrincipal(a *application, now time.Time) (*servicePrincipal, error) {
	if t.spByAppID(a.appID) != nil {
		return nil, fmt.Errorf("service principal of %s: %w", a.appID, errConflict)
	}
	sp := &servicePrincipal{id: t.newID("service-principal", a.appID), appID: a.appID, displayName: a.displayName,
		enabled: true, app: a, tags: []string{}, createdAt: now.UTC()}
	t.sps = append(t.sps, sp)
	return sp, nil
}

// addPassword adds a secret; end defaults to start + 2 years (WIRE §I10).
func (t *tenant) addPassword(a *application, displayName, secret, keyID string, start, end time.Time) *passwordCredential {
	if keyID == "" {
		keyID = t.newID("password-credential", a.appID)
	}
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	p := &passwordCredential{keyID: keyID, displayName: displayName, hint: secretHint(secret), secret: secret,
		start: start.UTC(), end: end.UTC()}
	a.passwords = append(a.passwords, p)
	return p
}

// newKeyCredential builds a certificate credential; start and end default to
// the certificate's validity.
func (t *tenant) newKeyCredential(a *application, cert *x509.Certificate, displayName, keyID string, start, end time.Time) *keyCredential {
	if keyID == "" {
		keyID = t.newID("key-credential", a.appID)
	}
	if start.IsZero() {
		start = cert.NotBefore
	}
	if end.IsZero() {
		end = cert.NotAfter
	}
	if displayName == "" {
		displayName = "CN=" + cert.Subject.CommonName
	}
	thumb := sha1.Sum(cert.Raw)
	return &keyCredential{keyID: keyID, displayName: displayName, keyType: "AsymmetricX509Cert", usage: "Verify",
		customKeyIdentifier: thumb[:], cert: cert, start: start.UTC(), end: end.UTC()}
}

// appRoleAssignmentID looks like Graph's: 43 characters of unpadded
// base64url (the principal's GUID bytes, then a derived GUID's).
func (t *tenant) appRoleAssignmentID(principalID, resourceID, appRoleID string) string {
	other := uuid.MustParse(t.newID("app-role-assignment", resourceID+":"+appRoleID))
	return base64.RawURLEncoding.EncodeToString(append(guidBytesLE(principalID), other[:]...))
}

// consent assigns an app role of resource to principal (WIRE §I9).
func (t *tenant) consent(principal, resource *servicePrincipal, role *appRole, createdBy string, now time.Time) (*appRoleAssignment, error) {
	for _, a := range t.appRoleAssignments {
		if a.principalID == principal.id && a.resourceID == resource.id && strings.EqualFold(a.appRoleID, role.id) {
			return nil, fmt.Errorf("%s already holds %s: %w", principal.displayName, role.value, errConflict)
		}
	}
	a := &appRoleAssignment{id: t.appRoleAssignmentID(principal.id, resource.id, role.id), appRoleID: role.id,
		principalID: principal.id, resourceID: resource.id, createdAt: now.UTC(), createdBy: createdBy}
	t.appRoleAssignments = append(t.appRoleAssignments, a)
	return a, nil
}

// consentedRoles are the role values principal holds on resource, in
// consent order: the roles claim of an app-only token (WIRE §I4).
func (t *tenant) consentedRoles(principal, resource *servicePrincipal) []string {
	var out []string
	for _, a := range t.appRoleAssignments {
		if a.principalID != principal.id || a.resourceID != resource.id {
			continue
		}
		if r := resource.resource.roleByID(a.appRoleID); r != nil && !slices.Contains(out, r.value) {
			out = append(out, r.value)
		}
	}
	return out
}

// directoryRoleIDsOf are the template ids of principalID's directory roles (wids).
func (t *tenant) directoryRoleIDsOf(principalID string) []string {
	ids := []string{}
	for _, d := range t.directory {
		if d.principalID == principalID && d.scope == "/" {
			ids = append(ids, d.roleID)
		}
	}
	return ids
}

// addDirectoryAssignmentTo assigns a directory role to any principal (a
// user or a service principal, WIRE §C5, §I11).
func (t *tenant) addDirectoryAssignmentTo(principalID string, role *directoryRole, createdBy string) (*dirAssignment, error) {
	for _, d := range t.directory {
		if d.principalID == principalID && d.roleID == role.templateID && d.scope == "/" {
			return nil, fmt.Errorf("%s already holds %s: %w", principalID, role.displayName, errConflict)
		}
	}
	d := &dirAssignment{id: directoryAssignmentID(role.templateID, principalID), roleID: role.templateID,
		principalID: principalID, scope: "/", createdBy: createdBy}
	t.directory = append(t.directory, d)
	return d, nil
}

// deleteServicePrincipal removes a client service principal with its
// consents and directory roles. Exchange's pointer stays (as in Exchange,
// which does not follow Entra deletions).
func (t *tenant) deleteServicePrincipal(sp *servicePrincipal) {
	t.sps = slices.DeleteFunc(t.sps, func(x *servicePrincipal) bool { return x == sp })
	t.appRoleAssignments = slices.DeleteFunc(t.appRoleAssignments, func(a *appRoleAssignment) bool {
		return a.principalID == sp.id || a.resourceID == sp.id
	})
	t.directory = slices.DeleteFunc(t.directory, func(d *dirAssignment) bool { return d.principalID == sp.id })
}

// deleteApplication removes the registration and its service principal
// (WIRE §I11 ⚠: the SP in the home tenant goes with it).
func (t *tenant) deleteApplication(a *application) {
	t.apps = slices.DeleteFunc(t.apps, func(x *application) bool { return x == a })
	if sp := t.spByAppID(a.appID); sp != nil && sp.app == a {
		t.deleteServicePrincipal(sp)
	}
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

// seedApplication creates what a SeedApplication describes: the app, its
// service principal, credentials, consents, directory roles and Exchange
// RBAC assignments. The seed and the control API share it.
func (t *tenant) seedApplication(sa SeedApplication, now time.Time) (*application, error) {
	if err := sa.validate(func(name string) bool { return t.findScope(name) != nil }, t.org.impersonationRetired); err != nil {
		return nil, err
	}
	if sa.AppID != "" && (t.appByAppID(sa.AppID) != nil || t.spByAppID(sa.AppID) != nil) {
		return nil, fmt.Errorf("application %s: %w", sa.AppID, errConflict)
	}
	appID := strings.ToLower(sa.AppID)
	if appID == "" {
		// Deterministic for the tenant and display name, whatever came before.
		appID = uuid.NewSHA1(t.namespace, []byte("seed-app-id:"+strings.ToLower(sa.DisplayName))).String()
		if t.appByAppID(appID) != nil {
			appID = ""
		}
	}
	a := t.addApplication(sa.DisplayName, appID, "", now)
	a.identifierURIs = append(a.identifierURIs, sa.IdentifierURIs...)
	a.tags = append(a.tags, sa.Tags...)
	for _, s := range sa.Secrets {
		start, end := now, time.Time{}
		if s.Start != nil {
			start = *s.Start
		}
		if s.End != nil {
			end = *s.End
		}
		t.addPassword(a, s.DisplayName, s.Value, s.KeyID, start, end)
	}
	for _, c := range sa.Certificates {
		cert, _ := parseCertificatePEM(c.PEM) // validated
		var start, end time.Time
		if c.Start != nil {
			start = *c.Start
		}
		if c.End != nil {
			end = *c.End
		}
		a.keys = append(a.keys, t.newKeyCredential(a, cert, c.DisplayName, c.KeyID, start, end))
	}
	if sa.NoServicePrincipal {
		return a, nil
	}
	sp, _ := t.addServicePrincipal(a, now)
	sp.enabled = !sa.Disabled
	for _, g := range []struct {
		alias  string
		values []string
	}{{"graph", sa.GraphPermissions}, {"exchange", sa.ExchangePermissions}} { // in order: ids derive from the sequence
		r := findResourceApp(g.alias)
		for _, v := range g.values {
			_, _ = t.consent(sp, t.resourceSP(r), r.roleByValue(v), "", now)
		}
	}
	for _, name := range sa.DirectoryRoles {
		_, _ = t.addDirectoryAssignmentTo(sp.id, findDirectoryRole(name), "")
	}
	if sa.ExchangeServicePrincipal || len(sa.ExchangeRoles) > 0 {
		p := &exchangeServicePrincipal{objectID: sp.id, appID: a.appID, displayName: a.displayName, createdAt: now.UTC()}
		t.exchangeSPs = append(t.exchangeSPs, p)
		for _, r := range sa.ExchangeRoles {
			if _, err := t.addAppExchangeAssignment(p, canonicalAppAssignableRole(r.Role), r.Scope, r.Name, "", now); err != nil {
				return a, err
			}
		}
	}
	return a, nil
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

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// snapshotApps fills the app-only part of a State.
func (t *tenant) snapshotApps(st *State) {
	o := t.org.clone()
	st.Organization = Organization{ImpersonationRetired: o.impersonationRetired, EWSEnabled: o.ewsEnabled,
		EWSAllowedAppIDs: o.allowedAppIDs, EWSDisablementDate: dateText(o.disablementDate), EWSEndDate: dateText(o.endDate)}
	st.Applications, st.ServicePrincipals, st.ResourceServicePrincipals = []Application{}, []ServicePrincipal{}, []ResourceServicePrincipal{}
	st.ExchangeServicePrincipals, st.ManagementScopes = []ExchangeServicePrincipal{}, []ManagementScope{}
	for _, a := range t.apps {
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
		st.Applications = append(st.Applications, v)
	}
	for _, sp := range t.sps {
		if sp.resource != nil {
			r := ResourceServicePrincipal{ID: sp.id, AppID: sp.appID, DisplayName: sp.displayName, AppRoles: []AppRole{}}
			for _, role := range sp.resource.roles {
				r.AppRoles = append(r.AppRoles, AppRole{ID: role.id, Value: role.value})
			}
			st.ResourceServicePrincipals = append(st.ResourceServicePrincipals, r)
			continue
		}
		v := ServicePrincipal{ID: sp.id, AppID: sp.appID, DisplayName: sp.displayName, Enabled: sp.enabled,
			Consents: []Consent{}, DirectoryRoles: []string{}}
		for _, a := range t.appRoleAssignments {
			if a.principalID != sp.id {
				continue
			}
			c := Consent{ID: a.id, AppRoleID: a.appRoleID, CreatedAt: a.createdAt, CreatedBy: a.createdBy}
			if res := t.spByID(a.resourceID); res != nil && res.resource != nil {
				c.Resource = res.displayName
				if role := res.resource.roleByID(a.appRoleID); role != nil {
					c.Permission = role.value
				}
			}
			v.Consents = append(v.Consents, c)
		}
		for _, id := range t.directoryRoleIDsOf(sp.id) {
			v.DirectoryRoles = append(v.DirectoryRoles, findDirectoryRole(id).displayName)
		}
		st.ServicePrincipals = append(st.ServicePrincipals, v)
	}
	for _, p := range t.exchangeSPs {
		v := ExchangeServicePrincipal{ObjectID: p.objectID, AppID: p.appID, DisplayName: p.displayName, Assignments: []ExchangeAssignment{}}
		for _, a := range t.appAssignmentsOf(p.objectID) {
			v.Assignments = append(v.Assignments, t.exchangeView(a))
		}
		st.ExchangeServicePrincipals = append(st.ExchangeServicePrincipals, v)
	}
	for _, s := range t.scopes {
		st.ManagementScopes = append(st.ManagementScopes, ManagementScope{Name: s.name, Guid: s.guid, RecipientFilter: s.filter})
	}
}
