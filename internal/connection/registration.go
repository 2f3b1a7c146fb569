package connection

import (
	"context"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The application registration (DESIGN.md §7.2): the management identity (§7.1) registers
// the Entra application a migration engine signs in as, with exactly the permissions a
// migration target needs, and consents to them. One ordered pipeline, every step idempotent
// and recorded as it completes:
//
//	resolve permission ids → application → service principal → consent → credential →
//	(scoped) Exchange service principal → management scope → role assignments → verify
//
// The application carries a tag the provider sets (WIRE.md §I7), so a create whose answer
// was lost is found again instead of made twice; every other object is found again by its
// owner (the application's service principal) or by a name derived from the client id.
// Delete goes the other way and removes only what belongs to the application
// (registration_read.go).

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
	// Certificate is the public certificate to register as a key credential (nil none), as
	// ParsePublicCertificate read it.
	Certificate    *Certificate
	CreateSecret   bool
	SecretLifetime time.Duration
	// RenewSecret replaces the recorded secret (its lifetime setting changed, it is inside
	// its renewal window, or it has expired).
	RenewSecret bool
	// RetiringSecretKeyID is a replaced secret the caller keeps for a while ("" none), so a
	// migration engine outside Terraform can switch to the new one; every other secret the
	// provider added and no longer needs is removed.
	RetiringSecretKeyID string
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
	// RetiringSecret is the replaced secret still kept (RegistrationSpec.RetiringSecretKeyID;
	// its Value is empty), nil when there is none.
	RetiringSecret *Secret
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
	// Adoption is what the registration added to an application it adopted (imported); nil
	// for an application it created (registration_adoption.go).
	Adoption *Adoption
	// ScopeBypassed are, for a scoped registration, the tenant-wide consents that defeat its
	// scope (given outside the provider: it never consents these when scoped).
	ScopeBypassed []ScopeBypass
}

// Observed are the settings of a registration as the tenant shows them, for an import.
type Observed struct {
	Protocol       roles.Protocol
	UserManagement bool
	// ReadItems: the graph_import application may list the target mailboxes' items.
	ReadItems bool
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

func (s Secret) String() string { return "Secret(" + s.KeyID + ", redacted)" }

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
	known.Warnings, known.Gone, known.Adoption = nil, false, known.Adoption.clone()
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
	if err != nil {
		return r.undoRefusedCreate(ctx, err)
	}
	return r.reg, nil
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
// service principal, the application. Objects already gone are skipped. Of an adopted
// application it removes only what it added, and leaves the application.
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
	if err := r.checkFilter(); err != nil {
		return err
	}
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
	err = r.ensureCredentials(ctx, app)
	r.noteSecret()
	if err != nil {
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

// summarise computes the permission sets of what was found.
func (r *registrar) summarise() {
	o := r.spec.Options
	r.reg.Required = roles.GrantStrings(roles.Grants(o))
	held := roles.Held{AppRoles: r.heldEntra, ExchangeRoles: r.heldExchange}
	r.reg.Granted, r.reg.Missing = roles.Missing(o, held)
	r.reg.ScopeBypassed = nil
	if o.Scoped {
		r.reg.ScopeBypassed = scopeBypasses(held, r.reg.ClientID)
	}
	if r.reg.Granted == nil {
		r.reg.Granted = []string{}
	}
	if r.reg.Missing == nil {
		r.reg.Missing = []string{}
	}
}
