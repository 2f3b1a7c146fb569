package connection

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The drift check of a registration (read, with what an import observes) and its removal.

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
	if importing {
		r.reg.Adoption = &Adoption{} // found, not created: everything it has is its own
	}
	r.reg.ObjectID, r.reg.ClientID, r.reg.DisplayName = app.ID, app.AppID, app.DisplayName
	r.readSecrets(app)
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
	err = r.consents(ctx, sp.ID, func(_ roles.API, err error) bool { return notProvisioned(err) },
		func(api roles.API, res *graph.ServicePrincipal, held []graph.AppRoleAssignment) error {
			for _, a := range held {
				r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], valueOf(res, a.AppRoleID))
			}
			return nil
		})
	if err != nil {
		return err
	}
	if importing {
		r.observe(ctx, app)
	}
	if r.spec.Options.Scoped {
		return r.readScoped(ctx)
	}
	return nil
}

// observe reads the settings of an imported registration from what the tenant shows: the
// protocol and user management from its consents, the scope from Exchange (when the
// management identity may ask), the certificate the provider registered. The options it
// finds become the spec's, so the permission sets are computed for them.
func (r *registrar) observe(ctx context.Context, app *graph.Application) {
	o := &Observed{Protocol: roles.ProtocolGraph}
	ews, users := roles.MailboxNeed(roles.ProtocolEWS), roles.UserManagementNeed()
	imports, items := roles.MailboxNeed(roles.ProtocolGraphImport), roles.ReadItemsNeed()
	switch {
	case containsFold(r.heldEntra[ews.Entra.API.AppID], ews.Entra.Value):
		o.Protocol = roles.ProtocolEWS
	case containsFold(r.heldEntra[imports.Entra.API.AppID], imports.Entra.Value):
		o.Protocol = roles.ProtocolGraphImport
	}
	o.UserManagement = containsFold(r.heldEntra[users.Entra.API.AppID], users.Entra.Value)
	o.ReadItems = containsFold(r.heldEntra[items.Entra.API.AppID], items.Entra.Value)
	if k := observedCertificate(app.KeyCredentials); k != nil {
		if der, err := base64.StdEncoding.DecodeString(k.Key); err == nil && len(der) > 0 {
			o.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
			if r.spec.Certificate == nil {
				r.spec.Certificate = &Certificate{DER: der} // the observed one is the configured one
				r.credentialExpiry(app)
			}
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
					switch {
					case strings.EqualFold(a.Role, ews.Exchange.Name):
						o.Protocol = roles.ProtocolEWS
					case strings.EqualFold(a.Role, imports.Exchange.Name):
						o.Protocol = roles.ProtocolGraphImport
					case strings.EqualFold(a.Role, items.Exchange.Name):
						o.ReadItems = true
					}
				}
			}
		}
	}
	o.ReadItems = o.ReadItems && o.Protocol == roles.ProtocolGraphImport
	r.spec.Options.Protocol, r.spec.Options.UserManagement, r.spec.Options.Scoped = o.Protocol, o.UserManagement, o.Scoped
	r.spec.Options.ReadItems = o.ReadItems
	r.spec.Options.PublicFolders = false
	r.reg.Observed = o
}

func (r *registrar) unregister(ctx context.Context) error {
	if err := r.signIn(ctx); err != nil {
		return err
	}
	app, err := r.findApplication(ctx)
	if err != nil {
		return err
	}
	if r.adopted() {
		return r.unadopt(ctx, app)
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
		// A resource API that cannot be read has nothing of the application to revoke.
		err := r.consents(ctx, sp.ID, func(roles.API, error) bool { return true },
			func(api roles.API, res *graph.ServicePrincipal, held []graph.AppRoleAssignment) error {
				for _, a := range held {
					if err := g.DeleteAppRoleAssignment(ctx, res.ID, a.ID); err != nil {
						return r.graphError(err, roles.ManageConsent, "revoke the consent to "+api.Name+"/"+valueOf(res, a.AppRoleID))
					}
				}
				return nil
			})
		if err != nil {
			return err
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
