package connection

import (
	"context"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The Exchange side of a scoped registration (RBAC for Applications, WIRE.md §J): the
// Exchange service principal, the management scope and the role assignments limited to it.

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
		if r.adopted() {
			r.reg.Adoption.ExchangeServicePrincipal = true // before: a lost answer may have made it
		}
		if _, err := x.NewServicePrincipal(ctx, r.reg.ClientID, sp.ID, r.spec.DisplayName); err != nil {
			return r.exchangeError(err, "create the Exchange service principal")
		}
	}
	if err := r.ensureScope(ctx); err != nil {
		return err
	}
	return r.ensureAppRoleAssignments(ctx, sp.ID)
}

// ensureScope creates the registration's management scope, or brings its filter to the spec.
func (r *registrar) ensureScope(ctx context.Context) error {
	x := r.exchange()
	scope := ScopeName(r.reg.ClientID)
	sc, err := x.GetManagementScope(ctx, scope)
	if err != nil {
		return r.exchangeError(err, "read the management scope")
	}
	switch {
	case sc == nil:
		if r.adopted() {
			r.reg.Adoption.Scope = true // before: a lost answer may have made it
		}
		if _, err := x.NewManagementScope(ctx, scope, r.spec.RecipientFilter); err != nil {
			return r.exchangeError(err, "create the management scope")
		}
	case sc.RecipientFilter != r.spec.RecipientFilter:
		if err := x.SetManagementScopeFilter(ctx, scope, r.spec.RecipientFilter); err != nil {
			return r.exchangeError(err, "change the management scope's filter")
		}
	}
	return nil
}

// ensureAppRoleAssignments keeps one assignment per required Exchange application role,
// limited to the registration's scope, and removes every other assignment of the service
// principal spID.
func (r *registrar) ensureAppRoleAssignments(ctx context.Context, spID string) error {
	x := r.exchange()
	scope := ScopeName(r.reg.ClientID)
	held, err := x.GetAppRoleAssignments(ctx, spID)
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
		if !r.ownsAssignment(a.Name) {
			continue // an adopted application's own assignment stays
		}
		if err := x.RemoveManagementRoleAssignment(ctx, a.Identity); err != nil {
			return r.exchangeError(err, "remove the Exchange role assignment "+a.Identity)
		}
	}
	for _, g := range r.grants() {
		if g.Kind != roles.ExchangeApplicationRole || have[strings.ToLower(g.Role.Name)] {
			continue
		}
		name := assignmentName(g.Role.Name, r.reg.ClientID)
		if r.adopted() {
			r.noteAdded(&r.reg.Adoption.Assignments, name) // before: a lost answer may have made it
		}
		if _, err := x.NewAppRoleAssignment(ctx, g.Role.Name, spID, scope, name); err != nil {
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
		if !r.ownsAssignment(a.Name) {
			continue
		}
		if err := x.RemoveManagementRoleAssignment(ctx, a.Identity); err != nil {
			return r.exchangeError(err, "remove the Exchange role assignment "+a.Identity)
		}
	}
	if !r.adopted() || r.reg.Adoption.Scope {
		if err := x.RemoveManagementScope(ctx, ScopeName(r.reg.ClientID)); err != nil {
			return r.exchangeError(err, "remove the management scope")
		}
	}
	if !r.adopted() || r.reg.Adoption.ExchangeServicePrincipal {
		if err := x.RemoveServicePrincipal(ctx, spID); err != nil {
			return r.exchangeError(err, "remove the Exchange service principal")
		}
	}
	return nil
}
