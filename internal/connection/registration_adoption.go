package connection

import (
	"context"
	"crypto/sha1" //nolint:gosec // Graph names certificates by their SHA-1 thumbprint (WIRE.md §I10)
	"encoding/base64"
	"slices"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Adoption: an application the registration did not create (found by its client id, an
// import) is adopted. Everything it had then stays its own; what the registration adds
// afterwards is recorded object by object, and the removal of an adopted registration takes
// away exactly that and leaves the application, its other credentials, consents and Exchange
// objects.

// Adoption is what the registration added to an adopted application. A registration that
// created its application has none (nil): removing it deletes the application.
type Adoption struct {
	// ServicePrincipal: the application had no service principal; the registration made it.
	ServicePrincipal bool `json:"service_principal,omitempty"`
	// Consents are the ids of the app role assignments the registration made.
	Consents []string `json:"consents,omitempty"`
	// Secrets and Keys are the key ids of the client secrets and certificates it added.
	Secrets []string `json:"secrets,omitempty"`
	Keys    []string `json:"keys,omitempty"`
	// ExchangeServicePrincipal and Scope: it made the Exchange service principal and the
	// management scope.
	ExchangeServicePrincipal bool `json:"exchange_service_principal,omitempty"`
	Scope                    bool `json:"scope,omitempty"`
	// Assignments are the names of the Exchange role assignments it made.
	Assignments []string `json:"assignments,omitempty"`
}

func (a *Adoption) clone() *Adoption {
	if a == nil {
		return nil
	}
	c := *a
	c.Consents, c.Secrets, c.Keys, c.Assignments = slices.Clone(a.Consents), slices.Clone(a.Secrets), slices.Clone(a.Keys), slices.Clone(a.Assignments)
	return &c
}

// adopted: the registration did not create its application.
func (r *registrar) adopted() bool { return r.reg.Adoption != nil }

// noteAdded records id in list (of an adopted registration) once.
func (r *registrar) noteAdded(list *[]string, id string) {
	if r.adopted() && id != "" && !containsFold(*list, id) {
		*list = append(*list, id)
	}
}

// ownsConsent: the registration may revoke the consent (app role assignment) id: one it made,
// or any of an application it created.
func (r *registrar) ownsConsent(id string) bool {
	return !r.adopted() || containsFold(r.reg.Adoption.Consents, id)
}

// ownsAssignment: likewise for an Exchange role assignment, by name.
func (r *registrar) ownsAssignment(name string) bool {
	return !r.adopted() || containsFold(r.reg.Adoption.Assignments, name)
}

// ownsSecret: the registration may remove the client secret keyID: one it added, or any of
// its name on an application it created.
func (r *registrar) ownsSecret(keyID string) bool {
	return !r.adopted() || containsFold(r.reg.Adoption.Secrets, keyID)
}

// ownsKey: the certificate k is the registration's: one it added (by key id) or, of an
// application it created, the one under its name.
func (r *registrar) ownsKey(k graph.KeyCredential) bool {
	if r.adopted() {
		return containsFold(r.reg.Adoption.Keys, k.KeyID)
	}
	return k.DisplayName == certificateName
}

// managesKey: the certificate k counts for credential_expires_at: the configured one (also
// when adopted), or one the registration registered.
func (r *registrar) managesKey(k graph.KeyCredential) bool {
	if c := r.spec.Certificate; c != nil && sameCertificate(k, c.DER) {
		return true
	}
	return r.ownsKey(k)
}

// noteSecret records the registration's client secret as added (every secret in reg.Secret
// is one the provider added).
func (r *registrar) noteSecret() {
	if r.adopted() && r.reg.Secret != nil {
		r.noteAdded(&r.reg.Adoption.Secrets, r.reg.Secret.KeyID)
	}
}

// confirmAddedKey records, for an adopted application, the id Graph gave the certificate the
// registration added (normally the one it chose, WIRE.md §I10): the application is read again
// and the key found by its thumbprint.
func (r *registrar) confirmAddedKey(ctx context.Context, app *graph.Application, der []byte) error {
	if !r.adopted() {
		return nil
	}
	got, err := r.graph().GetApplication(ctx, app.ID)
	if err != nil {
		return r.graphError(err, roles.ManageRegistrations, "read the certificate it registered")
	}
	if got == nil {
		return nil // deleted meanwhile: the next read finds it gone
	}
	for _, k := range got.KeyCredentials {
		if sameCertificate(k, der) {
			r.noteAdded(&r.reg.Adoption.Keys, k.KeyID)
		}
	}
	app.KeyCredentials = got.KeyCredentials
	return nil
}

// sameCertificate: the key credential k holds the certificate want (base64 DER): compared by
// their SHA-1 thumbprints, from the key when Graph returned it (only on a single object's
// $select, WIRE.md §I10), else from customKeyIdentifier.
func sameCertificate(k graph.KeyCredential, wantDER []byte) bool {
	want := sha1.Sum(wantDER) //nolint:gosec // a thumbprint, not a signature
	if k.Key != "" {
		der, err := base64.StdEncoding.DecodeString(k.Key)
		return err == nil && sha1.Sum(der) == want //nolint:gosec // a thumbprint
	}
	id, err := base64.StdEncoding.DecodeString(k.CustomKeyIdentifier)
	return err == nil && len(id) == len(want) && string(id) == string(want[:])
}

// unadopt removes what the registration added to an adopted application, in reverse order,
// and leaves the application and everything it had before.
func (r *registrar) unadopt(ctx context.Context, app *graph.Application) error {
	a := r.reg.Adoption
	if r.reg.ClientID != "" && (a.ExchangeServicePrincipal || a.Scope || len(a.Assignments) > 0) {
		if err := r.removeScoped(ctx); err != nil {
			return err
		}
	}
	if app == nil {
		return nil
	}
	if err := r.unadoptConsents(ctx, app.AppID); err != nil {
		return err
	}
	return r.unadoptCredentials(ctx, app)
}

// unadoptConsents deletes the service principal the registration created (its consents go
// with it), or else revokes only the consents it granted.
func (r *registrar) unadoptConsents(ctx context.Context, appID string) error {
	a := r.reg.Adoption
	g := r.graph()
	sp, err := g.ServicePrincipalByAppID(ctx, appID)
	if err != nil {
		return r.graphError(err, roles.ManageRegistrations, "read the application's service principal")
	}
	switch {
	case sp != nil && a.ServicePrincipal:
		if err := g.DeleteServicePrincipal(ctx, sp.ID); err != nil { // its consents go with it
			return r.graphError(err, roles.ManageRegistrations, "delete the application's service principal")
		}
	case sp != nil && len(a.Consents) > 0:
		err := r.consents(ctx, sp.ID, func(roles.API, error) bool { return true },
			func(api roles.API, res *graph.ServicePrincipal, held []graph.AppRoleAssignment) error {
				for _, c := range held {
					if !containsFold(a.Consents, c.ID) {
						continue
					}
					if err := g.DeleteAppRoleAssignment(ctx, res.ID, c.ID); err != nil {
						return r.graphError(err, roles.ManageConsent, "revoke the consent to "+api.Name+"/"+valueOf(res, c.AppRoleID))
					}
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	return nil
}

// unadoptCredentials removes the client secrets and certificates the registration added,
// and leaves the application's own.
func (r *registrar) unadoptCredentials(ctx context.Context, app *graph.Application) error {
	a := r.reg.Adoption
	g := r.graph()
	for _, p := range app.PasswordCredentials {
		if containsFold(a.Secrets, p.KeyID) {
			if err := g.RemovePassword(ctx, app.ID, p.KeyID); err != nil {
				return r.graphError(err, roles.ManageRegistrations, "remove the client secret it added")
			}
		}
	}
	keys := make([]graph.KeyCredential, 0, len(app.KeyCredentials))
	for _, k := range app.KeyCredentials {
		if !containsFold(a.Keys, k.KeyID) {
			keys = append(keys, k)
		}
	}
	if len(keys) != len(app.KeyCredentials) {
		if err := g.SetKeyCredentials(ctx, app.ID, keys); err != nil {
			return r.graphError(err, roles.ManageRegistrations, "remove the certificate it added")
		}
	}
	return nil
}

// observedCertificate is the certificate an import shows in `certificate`: the one the
// provider registered under its name, else the one valid the longest. Its key is there
// because the application is read as a single object (§I10).
func observedCertificate(keys []graph.KeyCredential) *graph.KeyCredential {
	var best *graph.KeyCredential
	for i := range keys {
		k := &keys[i]
		if k.Key == "" || !strings.EqualFold(k.Type, "AsymmetricX509Cert") {
			continue
		}
		switch {
		case best == nil, k.DisplayName == certificateName && best.DisplayName != certificateName:
			best = k
		case best.DisplayName == certificateName && k.DisplayName != certificateName:
		case k.EndDateTime != nil && (best.EndDateTime == nil || k.EndDateTime.After(*best.EndDateTime)):
			best = k
		}
	}
	return best
}

// withAccess is what an adopted application asks for (have) plus what the registration
// needs (want), in have's order.
func withAccess(have, want []graph.RequiredResourceAccess) []graph.RequiredResourceAccess {
	out := make([]graph.RequiredResourceAccess, 0, len(have)+len(want))
	for _, h := range have {
		out = append(out, graph.RequiredResourceAccess{ResourceAppID: h.ResourceAppID, ResourceAccess: slices.Clone(h.ResourceAccess)})
	}
	for _, w := range want {
		i := slices.IndexFunc(out, func(o graph.RequiredResourceAccess) bool { return strings.EqualFold(o.ResourceAppID, w.ResourceAppID) })
		if i < 0 {
			out = append(out, graph.RequiredResourceAccess{ResourceAppID: w.ResourceAppID})
			i = len(out) - 1
		}
		for _, ra := range w.ResourceAccess {
			if !slices.ContainsFunc(out[i].ResourceAccess, func(x graph.ResourceAccess) bool {
				return strings.EqualFold(x.ID, ra.ID) && strings.EqualFold(x.Type, ra.Type)
			}) {
				out[i].ResourceAccess = append(out[i].ResourceAccess, ra)
			}
		}
	}
	return out
}
