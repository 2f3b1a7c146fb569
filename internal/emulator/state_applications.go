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

// Entra's side of the app-only world (WIRE §I): app registrations and
// their credentials, service principals and consents. Like the rest of
// tenant, every access holds Server.mu.

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
	a := t.addApplication(sa.DisplayName, t.seedAppID(sa), "", now)
	a.identifierURIs = append(a.identifierURIs, sa.IdentifierURIs...)
	a.tags = append(a.tags, sa.Tags...)
	for _, s := range sa.Secrets {
		t.addSeedSecret(a, s, now)
	}
	for _, c := range sa.Certificates {
		_, _ = t.addSeedCertificate(a, c) // validated
	}
	if sa.NoServicePrincipal {
		return a, nil
	}
	return a, t.seedGrants(a, sa, now)
}

// seedAppID is the seed's app id or, without one, an id derived from the
// tenant and display name, whatever came before ("" when another
// application has it: addApplication then takes one of the sequence).
func (t *tenant) seedAppID(sa SeedApplication) string {
	if sa.AppID != "" {
		return strings.ToLower(sa.AppID)
	}
	appID := uuid.NewSHA1(t.namespace, []byte("seed-app-id:"+strings.ToLower(sa.DisplayName))).String()
	if t.appByAppID(appID) != nil {
		return ""
	}
	return appID
}

// seedGrants creates the application's service principal and what it was
// granted: consents, directory roles, and Exchange's pointer with its RBAC
// assignments.
func (t *tenant) seedGrants(a *application, sa SeedApplication, now time.Time) error {
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
	if !sa.ExchangeServicePrincipal && len(sa.ExchangeRoles) == 0 {
		return nil
	}
	p := &exchangeServicePrincipal{objectID: sp.id, appID: a.appID, displayName: a.displayName, createdAt: now.UTC()}
	t.exchangeSPs = append(t.exchangeSPs, p)
	for _, r := range sa.ExchangeRoles {
		if _, err := t.addAppExchangeAssignment(p, canonicalAppAssignableRole(r.Role), r.Scope, r.Name, "", now); err != nil {
			return err
		}
	}
	return nil
}

// addSeedSecret adds a secret as a seed or the control API describes it:
// Start defaults to now, End to Start + 2 years.
func (t *tenant) addSeedSecret(a *application, s SeedSecret, now time.Time) *passwordCredential {
	start, end := now, time.Time{}
	if s.Start != nil {
		start = *s.Start
	}
	if s.End != nil {
		end = *s.End
	}
	return t.addPassword(a, s.DisplayName, s.Value, s.KeyID, start, end)
}

// addSeedCertificate adds a certificate credential from PEM as a seed or the
// control API describes it; Start and End default to its validity.
func (t *tenant) addSeedCertificate(a *application, c SeedCertificate) (*keyCredential, error) {
	cert, err := parseCertificatePEM(c.PEM)
	if err != nil {
		return nil, err
	}
	var start, end time.Time
	if c.Start != nil {
		start = *c.Start
	}
	if c.End != nil {
		end = *c.End
	}
	k := t.newKeyCredential(a, cert, c.DisplayName, c.KeyID, start, end)
	a.keys = append(a.keys, k)
	return k, nil
}
