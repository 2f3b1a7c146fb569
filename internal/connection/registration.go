package connection

// Automatic registration (DESIGN.md §7.2): the management identity (§7.1) registers the
// Entra application a migration engine signs in as, with exactly the permissions a
// migration target needs, and consents to them. One ordered pipeline, every step idempotent
// and recorded as it completes:
//
//	resolve permission ids → application → service principal → consent → credential →
//	(scoped) Exchange service principal → management scope → role assignments → verify
//
// The application carries a tag the provider sets (WIRE.md §I7), so a create whose answer
// was lost is found again instead of made twice; every other object is found again by its
// owner (the application's service principal) or by a name derived from the client id.
// Delete goes the other way and removes only what belongs to the application.

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// ManagementAccount is the management identity of a registration (DESIGN.md §7.1). It is
// numbered apart from the accounts of principal.go so that the two lists grow independently.
const ManagementAccount Account = 16

// Tag prefix of the applications this provider registers (WIRE.md §I7): the tag
// "tf-o365:<uuid>" identifies one registration.
const registrationTagPrefix = "tf-o365:"

// Display names of the credentials the provider adds, so that it recognises its own.
const (
	secretNamePrefix = "tf-o365 secret "
	certificateName  = "tf-o365 certificate"
)

// RegistrationSpec is what the configuration asks of a registration.
type RegistrationSpec struct {
	Cloud cloud.Cloud
	// Management signs in to change registrations (an application with client credentials).
	Management  Principal
	DisplayName string
	Options     roles.AppOptions
	// RecipientFilter is the management scope's OPATH filter (with Options.Scoped).
	RecipientFilter string
	// CertificatePEM is the public certificate to register as a key credential ("" none).
	CertificatePEM string
	CreateSecret   bool
	SecretLifetime time.Duration
	// RenewSecret replaces the recorded secret (its lifetime setting changed).
	RenewSecret bool
	// WasScoped: earlier applies made the Exchange side, which is undone when the spec is
	// no longer scoped.
	WasScoped bool
	// Known is what earlier applies recorded (zero on create; ClientID only after import).
	Known Registration
}

// Registration is what exists of a registration, as far as it got.
type Registration struct {
	ObjectID, ClientID, ServicePrincipalID, TenantID string
	// Secret is the client secret the provider added (its value is known only to the apply
	// that added it, and kept by the caller).
	Secret *Secret
	// Required, Granted and Missing are grant strings ("Microsoft Graph/Mail.ReadWrite",
	// "Exchange/Application Mail.ReadWrite"), sorted.
	Required, Granted, Missing []string
	// CredentialExpiresAt is the earliest end of the credentials the provider manages
	// (zero when none).
	CredentialExpiresAt time.Time
	// Warnings say what is not an error but deserves attention (an app role id that
	// differs from the catalogue's).
	Warnings []string
	// Gone: the application no longer exists (deleted out of band).
	Gone bool
	// DisplayName is the application's name as read.
	DisplayName string
	// Observed is what a read of an imported registration found of its settings (nil otherwise).
	Observed *Observed
}

// Observed are the settings of a registration as the tenant shows them, for an import.
type Observed struct {
	Protocol       roles.Protocol
	UserManagement bool
	// Scoped, with the management scope's filter, when Exchange shows the registration's scope.
	Scoped          bool
	RecipientFilter string
	// CertificatePEM is the certificate the provider registered ("" none).
	CertificatePEM string
	// HasSecret: a client secret the provider added exists (its value is not readable).
	HasSecret bool
}

// Secret is a client secret the provider added. It never prints its value.
type Secret struct {
	KeyID string
	Value string
	EndAt time.Time
}

func (s Secret) String() string   { return "Secret(" + s.KeyID + ", redacted)" }
func (s Secret) GoString() string { return s.String() }

// ScopeName is the name of the management scope of a registration (at most 64 characters,
// WIRE.md §J3), derived from the client id so it is found again.
func ScopeName(clientID string) string { return "tf-o365 " + clientID }

// assignmentName names the Exchange role assignment of role for the application clientID
// (at most 64 characters, §J5): found again by it.
func assignmentName(role, clientID string) string {
	short := clientID
	if len(short) > 8 {
		short = short[:8]
	}
	return role + " tf-" + short
}

// registrar runs one registration pipeline as the management identity.
type registrar struct {
	env  *Env
	spec RegistrationSpec
	s    *session
	reg  *Registration
	// resources are the resource APIs' service principals, by API app id.
	resources map[string]*graph.ServicePrincipal
	// roleIDs are the resolved app role ids, by grant string.
	roleIDs map[string]string
	// heldEntra are the consented app role values per API app id; heldExchange the
	// Exchange application roles inside the registration's scope.
	heldEntra    map[string][]string
	heldExchange []string
}

func (e *Env) registrar(spec RegistrationSpec) (*registrar, error) {
	s, err := e.session(spec.Cloud, spec.Management, ManagementAccount)
	if err != nil {
		if ce, ok := AsError(err); ok {
			ce.Account = ManagementAccount
		}
		return nil, err
	}
	known := spec.Known
	known.Warnings, known.Gone = nil, false
	return &registrar{env: e, spec: spec, s: s, reg: &known,
		resources: map[string]*graph.ServicePrincipal{}, roleIDs: map[string]string{}, heldEntra: map[string][]string{}}, nil
}

// Register creates or completes a registration and brings it to the spec: create and
// update. It returns what exists even with an error, so that the caller records it and the
// next run finishes the job without doubling anything.
func (e *Env) Register(ctx context.Context, spec RegistrationSpec) (*Registration, error) {
	r, err := e.registrar(spec)
	if err != nil {
		return &spec.Known, err
	}
	err = r.register(ctx)
	r.summarise()
	return r.reg, err
}

// ReadRegistration is the drift check of every plan: it reads the application, its
// consents and (scoped) its Exchange role assignments, and changes nothing. An application
// that no longer exists gives Gone. With only a client id known (after import) it finds the
// application by it.
func (e *Env) ReadRegistration(ctx context.Context, spec RegistrationSpec) (*Registration, error) {
	r, err := e.registrar(spec)
	if err != nil {
		return &spec.Known, err
	}
	err = r.read(ctx)
	r.summarise()
	return r.reg, err
}

// Unregister removes what the registration created, in reverse order: the Exchange role
// assignments, the management scope and the Exchange service principal, the consents, the
// service principal, the application. Objects already gone are skipped.
func (e *Env) Unregister(ctx context.Context, spec RegistrationSpec) error {
	r, err := e.registrar(spec)
	if err != nil {
		return err
	}
	return r.unregister(ctx)
}

func (r *registrar) signIn(ctx context.Context) error {
	t, err := r.s.src.Token(ctx, r.s.cloud.GraphScope())
	if err != nil {
		return signInError(r.s, err)
	}
	if t.TenantID != "" {
		r.reg.TenantID = t.TenantID
	}
	return nil
}

func (r *registrar) graph() *graph.Client { return r.s.graph() }

// exchange is the management identity's app-only admin API session (WIRE.md §J1).
func (r *registrar) exchange() *exchange.Client { return r.s.exchange() }

// grants are what the registration gives the application.
func (r *registrar) grants() []roles.Grant { return roles.Grants(r.spec.Options) }

func (r *registrar) register(ctx context.Context) error {
	if err := r.signIn(ctx); err != nil {
		return err
	}
	if err := r.resolvePermissions(ctx); err != nil {
		return err
	}
	app, err := r.ensureApplication(ctx)
	if err != nil {
		return err
	}
	sp, err := r.ensureServicePrincipal(ctx)
	if err != nil {
		return err
	}
	if err := r.ensureConsents(ctx, sp); err != nil {
		return err
	}
	if err := r.ensureCredentials(ctx, app); err != nil {
		return err
	}
	if r.spec.Options.Scoped {
		if err := r.ensureScoped(ctx, sp); err != nil {
			return err
		}
		return r.verifyScoped(ctx)
	}
	if r.spec.WasScoped {
		return r.removeScoped(ctx)
	}
	return nil
}

// resolvePermissions reads the resource APIs' service principals and resolves every
// Entra permission's app role id by its value (WIRE.md §I8: the catalogue's id is the
// expected result, never the only source).
func (r *registrar) resolvePermissions(ctx context.Context) error {
	for _, g := range r.grants() {
		if g.Kind != roles.ApplicationPermission {
			continue
		}
		api, err := r.resource(ctx, g.Permission.API)
		if err != nil {
			return err
		}
		role, ok := api.RoleByValue(g.Permission.Value)
		if !ok {
			return r.s.fail(ProblemResourceMissing, "Permission "+g.String()+" not offered",
				fmt.Sprintf("The service principal of %s in this tenant offers no application permission %q.", g.Permission.API.Name, g.Permission.Value), nil)
		}
		if !strings.EqualFold(role.ID, g.Permission.ExpectedID) {
			r.reg.Warnings = append(r.reg.Warnings, fmt.Sprintf("%s has the app role id %s in this tenant, not %s as documented; the tenant's id is used.",
				g.String(), role.ID, g.Permission.ExpectedID))
		}
		r.roleIDs[g.String()] = role.ID
	}
	return nil
}

// resource returns the service principal of a resource API, read once.
func (r *registrar) resource(ctx context.Context, api roles.API) (*graph.ServicePrincipal, error) {
	if sp, ok := r.resources[api.AppID]; ok {
		return sp, nil
	}
	sp, err := r.graph().ServicePrincipalByAppID(ctx, api.AppID)
	if err != nil {
		return nil, r.graphError(err, roles.ManageRegistrations, "read the service principal of "+api.Name)
	}
	if sp == nil {
		return nil, r.s.fail(ProblemResourceMissing, api.Name+" is not provisioned in the tenant",
			fmt.Sprintf("The tenant has no service principal for %s (application id %s), so its permissions cannot be granted. "+
				"It exists in every tenant with a Microsoft 365 subscription that includes it.", api.Name, api.AppID), nil)
	}
	r.resources[api.AppID] = sp
	return sp, nil
}

// requiredResourceAccess is what the application asks for (§I7): its Entra permissions.
func (r *registrar) requiredResourceAccess() []graph.RequiredResourceAccess {
	by := map[string][]graph.ResourceAccess{}
	var order []string
	for _, g := range r.grants() {
		if g.Kind != roles.ApplicationPermission {
			continue
		}
		id := g.Permission.API.AppID
		if _, ok := by[id]; !ok {
			order = append(order, id)
		}
		by[id] = append(by[id], graph.ResourceAccess{ID: r.roleIDs[g.String()], Type: "Role"})
	}
	out := make([]graph.RequiredResourceAccess, 0, len(order))
	for _, id := range order {
		out = append(out, graph.RequiredResourceAccess{ResourceAppID: id, ResourceAccess: by[id]})
	}
	return out
}

// ensureApplication finds the application (by its object id, or its client id after an
// import) or creates it with a new tag, then brings its name and requests up to date.
func (r *registrar) ensureApplication(ctx context.Context) (*graph.Application, error) {
	r.reg.DisplayName = r.spec.DisplayName
	g := r.graph()
	app, err := r.findApplication(ctx)
	if err != nil {
		return nil, err
	}
	rra := r.requiredResourceAccess()
	if app == nil {
		app, err = g.CreateApplication(ctx, graph.NewApplication{DisplayName: r.spec.DisplayName, Tag: registrationTagPrefix + uuid.NewString(), RequiredResourceAccess: rra})
		if err != nil {
			return nil, r.graphError(err, roles.ManageRegistrations, "create the application")
		}
		r.reg.ObjectID, r.reg.ClientID, r.reg.ServicePrincipalID, r.reg.Secret = app.ID, app.AppID, "", nil
		return app, nil
	}
	r.reg.ObjectID, r.reg.ClientID = app.ID, app.AppID
	props := map[string]any{}
	if app.DisplayName != r.spec.DisplayName {
		props["displayName"] = r.spec.DisplayName
	}
	if !sameAccess(app.RequiredResourceAccess, rra) {
		props["requiredResourceAccess"] = rra
	}
	if len(props) > 0 {
		if err := g.UpdateApplication(ctx, app.ID, props); err != nil {
			return nil, r.graphError(err, roles.ManageRegistrations, "update the application")
		}
		app.DisplayName = r.spec.DisplayName
	}
	return app, nil
}

// findApplication reads the recorded application; nil when there is none (yet, or any more).
func (r *registrar) findApplication(ctx context.Context) (*graph.Application, error) {
	g := r.graph()
	var (
		app *graph.Application
		err error
	)
	switch {
	case r.reg.ObjectID != "":
		app, err = g.GetApplication(ctx, r.reg.ObjectID)
	case r.reg.ClientID != "":
		app, err = g.ApplicationByAppID(ctx, r.reg.ClientID)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, r.graphError(err, roles.ManageRegistrations, "read the application")
	}
	return app, nil
}

func sameAccess(a, b []graph.RequiredResourceAccess) bool {
	key := func(rs []graph.RequiredResourceAccess) string {
		var parts []string
		for _, x := range rs {
			for _, ra := range x.ResourceAccess {
				parts = append(parts, strings.ToLower(x.ResourceAppID+"/"+ra.ID+"/"+ra.Type))
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	return key(a) == key(b)
}

func (r *registrar) ensureServicePrincipal(ctx context.Context) (*graph.ServicePrincipal, error) {
	g := r.graph()
	sp, err := g.ServicePrincipalByAppID(ctx, r.reg.ClientID)
	if err != nil {
		return nil, r.graphError(err, roles.ManageRegistrations, "read the application's service principal")
	}
	if sp == nil {
		if sp, err = g.CreateServicePrincipal(ctx, r.reg.ClientID); err != nil {
			return nil, r.graphError(err, roles.ManageRegistrations, "create the application's service principal")
		}
	}
	r.reg.ServicePrincipalID = sp.ID
	return sp, nil
}

// consentResources are the resource APIs whose consents the registration manages.
var consentResources = []roles.API{roles.MicrosoftGraph, roles.ExchangeOnline}

// ensureConsents grants every required Entra permission and revokes the application's
// consents that are not required (a toggle turned off, or mail moved into an Exchange
// scope: the two would add up, WIRE.md §J).
func (r *registrar) ensureConsents(ctx context.Context, sp *graph.ServicePrincipal) error {
	g := r.graph()
	want := map[string]map[string]bool{} // API app id → role id → wanted
	for _, gr := range r.grants() {
		if gr.Kind == roles.ApplicationPermission {
			id := gr.Permission.API.AppID
			if want[id] == nil {
				want[id] = map[string]bool{}
			}
			want[id][strings.ToLower(r.roleIDs[gr.String()])] = true
		}
	}
	for _, api := range consentResources {
		res, err := r.resource(ctx, api)
		if err != nil {
			if ce, ok := AsError(err); ok && ce.Problem == ProblemResourceMissing && len(want[api.AppID]) == 0 {
				continue // a resource the registration does not need may be absent
			}
			return err
		}
		// Exchange Online's app roles also accept the application administrators (WIRE.md §I11);
		// the fix names what suffices for both APIs.
		need := roles.ManageConsent
		held, err := g.ListAppRoleAssignedTo(ctx, res.ID, sp.ID)
		if err != nil {
			return r.graphError(err, need, "read the consents on "+api.Name)
		}
		have := map[string]bool{}
		for _, a := range held {
			id := strings.ToLower(a.AppRoleID)
			if want[api.AppID][id] {
				have[id] = true
				r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], valueOf(res, a.AppRoleID))
				continue
			}
			if err := g.DeleteAppRoleAssignment(ctx, res.ID, a.ID); err != nil {
				return r.graphError(err, need, "revoke the consent to "+api.Name+"/"+valueOf(res, a.AppRoleID))
			}
		}
		for _, gr := range r.grants() {
			if gr.Kind != roles.ApplicationPermission || gr.Permission.API.AppID != api.AppID {
				continue
			}
			id := r.roleIDs[gr.String()]
			if have[strings.ToLower(id)] {
				continue
			}
			if _, err := g.CreateAppRoleAssignment(ctx, res.ID, sp.ID, id); err != nil {
				return r.graphError(err, need, "consent to "+gr.String())
			}
			r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], gr.Permission.Value)
		}
	}
	return nil
}

func valueOf(res *graph.ServicePrincipal, roleID string) string {
	for _, ar := range res.AppRoles {
		if strings.EqualFold(ar.ID, roleID) {
			return ar.Value
		}
	}
	return roleID
}

// ensureCredentials brings the certificate and the secret to the spec. A secret is added
// once and kept while it exists and the lifetime is unchanged; secrets the provider added
// earlier and no longer needs are removed.
func (r *registrar) ensureCredentials(ctx context.Context, app *graph.Application) error {
	g := r.graph()
	if err := r.ensureCertificate(ctx, app); err != nil {
		return err
	}
	keep := ""
	if r.spec.CreateSecret {
		if k := r.reg.Secret; k != nil && k.Value != "" && hasSecret(app, k.KeyID) && !r.spec.RenewSecret {
			keep = k.KeyID
		} else {
			p, err := g.AddPassword(ctx, app.ID, secretNamePrefix+uuid.NewString(), r.env.clock().Add(r.spec.SecretLifetime))
			if err != nil {
				return r.graphError(err, roles.ManageRegistrations, "add a client secret")
			}
			r.reg.Secret = &Secret{KeyID: p.KeyID, Value: p.SecretText, EndAt: p.EndDateTime}
			keep = p.KeyID
		}
	} else {
		r.reg.Secret = nil
	}
	for _, p := range app.PasswordCredentials {
		if strings.HasPrefix(p.DisplayName, secretNamePrefix) && !strings.EqualFold(p.KeyID, keep) {
			if err := g.RemovePassword(ctx, app.ID, p.KeyID); err != nil {
				return r.graphError(err, roles.ManageRegistrations, "remove an old client secret")
			}
		}
	}
	r.credentialExpiry(app)
	return nil
}

func hasSecret(app *graph.Application, keyID string) bool {
	for _, p := range app.PasswordCredentials {
		if strings.EqualFold(p.KeyID, keyID) {
			return true
		}
	}
	return false
}

// ensureCertificate registers the configured public certificate as the provider's key
// credential, keeping keys registered by others (the PATCH replaces the list, §I10).
func (r *registrar) ensureCertificate(ctx context.Context, app *graph.Application) error {
	var want *graph.KeyCredential
	if r.spec.CertificatePEM != "" {
		c, err := ParsePublicCertificate(r.spec.CertificatePEM)
		if err != nil {
			return r.s.fail(ProblemOther, "Unusable certificate", err.Error(), err)
		}
		start, end := c.NotBefore.UTC().Truncate(time.Second), c.NotAfter.UTC().Truncate(time.Second)
		sum := sha1.Sum(c.Raw)
		want = &graph.KeyCredential{Type: "AsymmetricX509Cert", Usage: "Verify", Key: base64.StdEncoding.EncodeToString(c.Raw),
			DisplayName: certificateName, CustomKeyIdentifier: base64.StdEncoding.EncodeToString(sum[:]), StartDateTime: &start, EndDateTime: &end}
	}
	var keys []graph.KeyCredential
	found, changed := false, false
	for _, k := range app.KeyCredentials {
		if k.DisplayName != certificateName {
			keys = append(keys, k)
			continue
		}
		if want != nil && !found && k.Key == want.Key {
			found = true
			keys = append(keys, k)
			continue
		}
		changed = true // the provider's old certificate goes
	}
	if want != nil && !found {
		keys, changed = append(keys, *want), true
	}
	if !changed {
		return nil
	}
	if err := r.graph().SetKeyCredentials(ctx, app.ID, keys); err != nil {
		return r.graphError(err, roles.ManageRegistrations, "register the certificate")
	}
	app.KeyCredentials = keys
	return nil
}

// ParsePublicCertificate reads a PEM public certificate (the first CERTIFICATE block). It
// refuses private keys: only the public part is ever uploaded (§I10).
func ParsePublicCertificate(text string) (*x509.Certificate, error) {
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)")
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, errors.New("the PEM holds a private key; give only the public certificate, the key stays with the migration engine")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the certificate does not parse: %v", err)
		}
		return c, nil
	}
}

// Thumbprint is a certificate's SHA-1 thumbprint, upper-case hex, as Entra shows it.
func Thumbprint(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// ensureScoped gives the application its mailbox permissions through Exchange RBAC for
// Applications (§J): the Exchange service principal, the management scope, and one
// assignment per role limited to the scope; assignments of the application's service
// principal that are not required are removed.
func (r *registrar) ensureScoped(ctx context.Context, sp *graph.ServicePrincipal) error {
	x := r.exchange()
	ptr, err := x.GetServicePrincipal(ctx, r.reg.ClientID)
	if err != nil {
		return r.exchangeError(err, "read the Exchange service principal")
	}
	if ptr == nil {
		if _, err := x.NewServicePrincipal(ctx, r.reg.ClientID, sp.ID, r.spec.DisplayName); err != nil {
			return r.exchangeError(err, "create the Exchange service principal")
		}
	}
	scope := ScopeName(r.reg.ClientID)
	sc, err := x.GetManagementScope(ctx, scope)
	if err != nil {
		return r.exchangeError(err, "read the management scope")
	}
	switch {
	case sc == nil:
		if _, err := x.NewManagementScope(ctx, scope, r.spec.RecipientFilter); err != nil {
			return r.exchangeError(err, "create the management scope")
		}
	case sc.RecipientFilter != r.spec.RecipientFilter:
		if err := x.SetManagementScopeFilter(ctx, scope, r.spec.RecipientFilter); err != nil {
			return r.exchangeError(err, "change the management scope's filter")
		}
	}
	held, err := x.GetAppRoleAssignments(ctx, sp.ID)
	if err != nil {
		return r.exchangeError(err, "read the Exchange role assignments")
	}
	want := map[string]bool{}
	for _, g := range r.grants() {
		if g.Kind == roles.ExchangeApplicationRole {
			want[strings.ToLower(g.Role.Name)] = true
		}
	}
	have := map[string]bool{}
	for _, a := range held {
		role := strings.ToLower(a.Role)
		if want[role] && strings.EqualFold(a.CustomResourceScope, scope) && !have[role] {
			have[role] = true
			continue
		}
		if err := x.RemoveManagementRoleAssignment(ctx, a.Identity); err != nil {
			return r.exchangeError(err, "remove the Exchange role assignment "+a.Identity)
		}
	}
	for _, g := range r.grants() {
		if g.Kind != roles.ExchangeApplicationRole || have[strings.ToLower(g.Role.Name)] {
			continue
		}
		if _, err := x.NewAppRoleAssignment(ctx, g.Role.Name, sp.ID, scope, assignmentName(g.Role.Name, r.reg.ClientID)); err != nil {
			return r.exchangeError(err, "assign "+g.Role.Name)
		}
	}
	return nil
}

// verifyScoped asks Exchange what the application's service principal holds
// (Test-ServicePrincipalAuthorization, §J6: it bypasses the permission cache); a role
// counts when it is limited to the registration's scope.
func (r *registrar) verifyScoped(ctx context.Context) error {
	rows, err := r.exchange().TestServicePrincipalAuthorization(ctx, r.reg.ServicePrincipalID, "")
	if err != nil {
		return r.exchangeError(err, "verify the Exchange role assignments")
	}
	scope := ScopeName(r.reg.ClientID)
	for _, row := range rows {
		if strings.EqualFold(row.AllowedResourceScope, scope) {
			r.heldExchange = append(r.heldExchange, row.RoleName)
		}
	}
	return nil
}

// readScoped reads the Exchange role assignments inside the registration's scope.
func (r *registrar) readScoped(ctx context.Context) error {
	held, err := r.exchange().GetAppRoleAssignments(ctx, r.reg.ServicePrincipalID)
	if err != nil {
		return r.exchangeError(err, "read the Exchange role assignments")
	}
	scope := ScopeName(r.reg.ClientID)
	for _, a := range held {
		if strings.EqualFold(a.CustomResourceScope, scope) && a.Enabled {
			r.heldExchange = append(r.heldExchange, a.Role)
		}
	}
	return nil
}

// removeScoped undoes the Exchange side when the spec is not (or no longer) scoped. It
// asks Exchange only when the application's service principal has a pointer there, and a
// management identity without Exchange rights is not asked at all for an unscoped
// registration that never had one.
func (r *registrar) removeScoped(ctx context.Context) error {
	x := r.exchange()
	ptr, err := x.GetServicePrincipal(ctx, r.reg.ClientID)
	if err != nil {
		if isExchangeDenied(err) {
			return nil // it cannot have made any: the management identity may not use Exchange
		}
		return r.exchangeError(err, "read the Exchange service principal")
	}
	if ptr == nil {
		return nil
	}
	return r.removeExchange(ctx, ptr.ObjectID)
}

func (r *registrar) removeExchange(ctx context.Context, spID string) error {
	x := r.exchange()
	held, err := x.GetAppRoleAssignments(ctx, spID)
	if err != nil {
		return r.exchangeError(err, "read the Exchange role assignments")
	}
	for _, a := range held {
		if err := x.RemoveManagementRoleAssignment(ctx, a.Identity); err != nil {
			return r.exchangeError(err, "remove the Exchange role assignment "+a.Identity)
		}
	}
	if err := x.RemoveManagementScope(ctx, ScopeName(r.reg.ClientID)); err != nil {
		return r.exchangeError(err, "remove the management scope")
	}
	if err := x.RemoveServicePrincipal(ctx, spID); err != nil {
		return r.exchangeError(err, "remove the Exchange service principal")
	}
	return nil
}

func (r *registrar) read(ctx context.Context) error {
	if err := r.signIn(ctx); err != nil {
		return err
	}
	app, err := r.findApplication(ctx)
	if err != nil {
		return err
	}
	if app == nil {
		r.reg.Gone = true
		return nil
	}
	importing := r.spec.Known.ObjectID == ""
	r.reg.ObjectID, r.reg.ClientID, r.reg.DisplayName = app.ID, app.AppID, app.DisplayName
	if k := r.reg.Secret; k != nil && !hasSecret(app, k.KeyID) {
		r.reg.Secret = nil // removed out of band: the next apply adds one
	}
	r.credentialExpiry(app)
	sp, err := r.graph().ServicePrincipalByAppID(ctx, app.AppID)
	if err != nil {
		return r.graphError(err, roles.ManageRegistrations, "read the application's service principal")
	}
	if sp == nil {
		r.reg.ServicePrincipalID = ""
		return nil
	}
	r.reg.ServicePrincipalID = sp.ID
	for _, api := range consentResources {
		res, err := r.resource(ctx, api)
		if err != nil {
			if ce, ok := AsError(err); ok && ce.Problem == ProblemResourceMissing {
				continue
			}
			return err
		}
		held, err := r.graph().ListAppRoleAssignedTo(ctx, res.ID, sp.ID)
		if err != nil {
			return r.graphError(err, roles.ManageConsent, "read the consents on "+api.Name)
		}
		for _, a := range held {
			r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], valueOf(res, a.AppRoleID))
		}
	}
	if importing {
		r.observe(ctx, app)
	}
	if r.spec.Options.Scoped {
		return r.readScoped(ctx)
	}
	return nil
}

// credentialExpiry is the earliest end of the credentials the provider manages.
func (r *registrar) credentialExpiry(app *graph.Application) {
	var earliest time.Time
	note := func(t time.Time) {
		if !t.IsZero() && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	for _, p := range app.PasswordCredentials {
		if r.reg.Secret != nil && strings.EqualFold(p.KeyID, r.reg.Secret.KeyID) {
			note(p.EndDateTime)
		}
	}
	if r.reg.Secret != nil {
		note(r.reg.Secret.EndAt) // a secret added by this run is not in app yet
	}
	for _, k := range app.KeyCredentials {
		if k.DisplayName == certificateName && k.EndDateTime != nil {
			note(*k.EndDateTime)
		}
	}
	r.reg.CredentialExpiresAt = earliest
}

func (r *registrar) unregister(ctx context.Context) error {
	if err := r.signIn(ctx); err != nil {
		return err
	}
	app, err := r.findApplication(ctx)
	if err != nil {
		return err
	}
	if r.reg.ClientID != "" && (r.spec.Options.Scoped || r.spec.WasScoped) {
		if err := r.removeScoped(ctx); err != nil {
			return err
		}
	}
	if app == nil {
		return nil
	}
	g := r.graph()
	sp, err := g.ServicePrincipalByAppID(ctx, app.AppID)
	if err != nil {
		return r.graphError(err, roles.ManageRegistrations, "read the application's service principal")
	}
	if sp != nil {
		for _, api := range consentResources {
			res, err := r.resource(ctx, api)
			if err != nil {
				continue // not provisioned: nothing of it to revoke
			}
			held, err := g.ListAppRoleAssignedTo(ctx, res.ID, sp.ID)
			if err != nil {
				return r.graphError(err, roles.ManageConsent, "read the consents on "+api.Name)
			}
			for _, a := range held {
				if err := g.DeleteAppRoleAssignment(ctx, res.ID, a.ID); err != nil {
					return r.graphError(err, roles.ManageConsent, "revoke the consent to "+api.Name+"/"+valueOf(res, a.AppRoleID))
				}
			}
		}
		if err := g.DeleteServicePrincipal(ctx, sp.ID); err != nil {
			return r.graphError(err, roles.ManageRegistrations, "delete the application's service principal")
		}
	}
	if err := g.DeleteApplication(ctx, app.ID); err != nil {
		return r.graphError(err, roles.ManageRegistrations, "delete the application")
	}
	return nil
}

// summarise computes the permission sets of what was found.
func (r *registrar) summarise() {
	o := r.spec.Options
	r.reg.Required = roles.GrantStrings(roles.Grants(o))
	r.reg.Granted, r.reg.Missing = roles.Missing(o, roles.Held{AppRoles: r.heldEntra, ExchangeRoles: r.heldExchange})
	if r.reg.Granted == nil {
		r.reg.Granted = []string{}
	}
	if r.reg.Missing == nil {
		r.reg.Missing = []string{}
	}
}

// graphError explains a Graph failure of the management identity: a refusal names exactly
// what to grant it (roles.Management.Fix), anything else says which step failed.
func (r *registrar) graphError(err error, need roles.Management, step string) error {
	if graph.IsForbidden(err) {
		return r.denied(need, step, err)
	}
	return r.s.failed("Cannot "+step, err.Error(), err)
}

// exchangeError explains an admin API failure of the management identity.
func (r *registrar) exchangeError(err error, step string) error {
	if isExchangeDenied(err) {
		return r.denied(roles.ManageScopes, step, err)
	}
	if exchange.IsInvalidParameter(err) && strings.Contains(step, "management scope") {
		return r.s.fail(ProblemScopeRefused, "Exchange refused the recipient filter", err.Error(), err)
	}
	return r.s.failed("Cannot "+step, err.Error(), err)
}

// isExchangeDenied: the admin API refused the session (401 for an app without the right
// role or permission, §J1) or the cmdlet (403).
func isExchangeDenied(err error) bool {
	var e *exchange.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.StatusCode == 401 || exchange.IsAccessDenied(err)
}

func (r *registrar) denied(need roles.Management, step string, err error) error {
	e := r.s.fail(ProblemManagementDenied, "The management identity may not "+step,
		fmt.Sprintf("Microsoft refused the management application %s (%v). To fix it, %s.", r.s.who.Name, err, need.Fix()), err)
	return e
}

func (e *Env) clock() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// observe reads the settings of an imported registration from what the tenant shows: the
// protocol and user management from its consents, the scope from Exchange (when the
// management identity may ask), the certificate the provider registered. The options it
// finds become the spec's, so the permission sets are computed for them.
func (r *registrar) observe(ctx context.Context, app *graph.Application) {
	o := &Observed{Protocol: roles.ProtocolGraph}
	ews, users := roles.MailboxNeed(roles.ProtocolEWS), roles.UserManagementNeed()
	if hasValue(r.heldEntra[ews.Entra.API.AppID], ews.Entra.Value) {
		o.Protocol = roles.ProtocolEWS
	}
	o.UserManagement = hasValue(r.heldEntra[users.Entra.API.AppID], users.Entra.Value)
	for _, k := range app.KeyCredentials {
		if k.DisplayName != certificateName {
			continue
		}
		if der, err := base64.StdEncoding.DecodeString(k.Key); err == nil && len(der) > 0 {
			o.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		}
	}
	for _, p := range app.PasswordCredentials {
		if strings.HasPrefix(p.DisplayName, secretNamePrefix) {
			o.HasSecret = true
		}
	}
	if sc, err := r.exchange().GetManagementScope(ctx, ScopeName(r.reg.ClientID)); err == nil && sc != nil {
		o.Scoped, o.RecipientFilter = true, sc.RecipientFilter
		if o.Protocol == roles.ProtocolGraph {
			// Scoped EWS access is the Exchange role, not the consent.
			if held, err := r.exchange().GetAppRoleAssignments(ctx, r.reg.ServicePrincipalID); err == nil {
				for _, a := range held {
					if strings.EqualFold(a.Role, ews.Exchange.Name) {
						o.Protocol = roles.ProtocolEWS
					}
				}
			}
		}
	}
	r.spec.Options.Protocol, r.spec.Options.UserManagement, r.spec.Options.Scoped = o.Protocol, o.UserManagement, o.Scoped
	r.spec.Options.PublicFolders = false
	r.reg.Observed = o
}
