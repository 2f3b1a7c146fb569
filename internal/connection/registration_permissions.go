package connection

import (
	"context"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The Entra side of a registration: the permissions' app role ids, what the application asks
// for, and the consents.

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

// consentResources are the resource APIs whose consents the registration manages.
var consentResources = []roles.API{roles.MicrosoftGraph, roles.ExchangeOnline}

// consents reads the application's consents (its app role assignments) on each resource API
// whose consents the registration manages, and hands them to visit. skip says whether a
// resource API that could not be read is passed over (one not provisioned in the tenant has
// no consents to read).
func (r *registrar) consents(ctx context.Context, spID string, skip func(api roles.API, err error) bool,
	visit func(api roles.API, res *graph.ServicePrincipal, held []graph.AppRoleAssignment) error) error {
	for _, api := range consentResources {
		res, err := r.resource(ctx, api)
		if err != nil {
			if skip(api, err) {
				continue
			}
			return err
		}
		held, err := r.graph().ListAppRoleAssignedTo(ctx, res.ID, spID)
		if err != nil {
			return r.graphError(err, roles.ManageConsent, "read the consents on "+api.Name)
		}
		if err := visit(api, res, held); err != nil {
			return err
		}
	}
	return nil
}

// notProvisioned: the resource API has no service principal in the tenant.
func notProvisioned(err error) bool {
	ce, ok := AsError(err)
	return ok && ce.Problem == ProblemResourceMissing
}

// ensureConsents grants every required Entra permission and revokes the application's
// consents that are not required (a toggle turned off, or mail moved into an Exchange
// scope: the two would add up, WIRE.md §J). Exchange Online's app roles also accept the
// application administrators (WIRE.md §I11); a refusal names what suffices for both APIs
// (roles.ManageConsent).
func (r *registrar) ensureConsents(ctx context.Context, sp *graph.ServicePrincipal) error {
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
	// A resource the registration does not need may be absent.
	unneeded := func(api roles.API, err error) bool { return notProvisioned(err) && len(want[api.AppID]) == 0 }
	return r.consents(ctx, sp.ID, unneeded, func(api roles.API, res *graph.ServicePrincipal, held []graph.AppRoleAssignment) error {
		have := map[string]bool{}
		for _, a := range held {
			id := strings.ToLower(a.AppRoleID)
			if want[api.AppID][id] {
				have[id] = true
				r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], valueOf(res, a.AppRoleID))
				continue
			}
			if !r.ownsConsent(a.ID) {
				continue // an adopted application's own consent stays
			}
			if err := r.graph().DeleteAppRoleAssignment(ctx, res.ID, a.ID); err != nil {
				return r.graphError(err, roles.ManageConsent, "revoke the consent to "+api.Name+"/"+valueOf(res, a.AppRoleID))
			}
		}
		return r.grantMissing(ctx, api, res, sp.ID, have)
	})
}

// grantMissing consents to the required permissions of api that the application lacks.
func (r *registrar) grantMissing(ctx context.Context, api roles.API, res *graph.ServicePrincipal, spID string, have map[string]bool) error {
	for _, gr := range r.grants() {
		if gr.Kind != roles.ApplicationPermission || gr.Permission.API.AppID != api.AppID {
			continue
		}
		id := r.roleIDs[gr.String()]
		if have[strings.ToLower(id)] {
			continue
		}
		made, err := r.graph().CreateAppRoleAssignment(ctx, res.ID, spID, id)
		if err != nil {
			return r.graphError(err, roles.ManageConsent, "consent to "+gr.String())
		}
		if r.adopted() {
			r.noteAdded(&r.reg.Adoption.Consents, made.ID)
		}
		r.heldEntra[api.AppID] = append(r.heldEntra[api.AppID], gr.Permission.Value)
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
