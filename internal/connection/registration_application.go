package connection

import (
	"context"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The application and its service principal.

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
		r.reg.Adoption = nil // created, so its own entirely
		return app, nil
	}
	r.reg.ObjectID, r.reg.ClientID = app.ID, app.AppID
	if r.adopted() {
		rra = withAccess(app.RequiredResourceAccess, rra) // what it asked for before stays
	}
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
		// A list carries no certificate's key (§I10): found, the application is read again
		// as a single object.
		if app, err = g.ApplicationByAppID(ctx, r.reg.ClientID); err == nil && app != nil {
			app, err = g.GetApplication(ctx, app.ID)
		}
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
		if r.adopted() {
			r.reg.Adoption.ServicePrincipal = true
		}
	}
	r.reg.ServicePrincipalID = sp.ID
	return sp, nil
}
