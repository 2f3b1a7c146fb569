package connection

import (
	"errors"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The errors of a registration: a refusal names exactly what to grant the management
// identity (roles.Management).

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
