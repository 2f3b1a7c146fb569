package connection

import (
	"context"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
)

// The management scope's recipient filter is checked before anything is created: its
// syntax here (also at plan time, by the caller), and a filter Exchange itself refuses when a
// create reaches the scope is undone by removing what that create made, so that nothing is
// left half-made to be replaced with a new client id by the next run.

// CheckRecipientFilter reports the syntax error of an OPATH recipient filter, with the fix
// (exchange.CheckRecipientFilter); nil when it has none.
func CheckRecipientFilter(filter string) error { return exchange.CheckRecipientFilter(filter) }

// checkFilter refuses a scoped spec whose filter has a syntax error, before any call.
func (r *registrar) checkFilter() error {
	if !r.spec.Options.Scoped {
		return nil
	}
	if err := exchange.CheckRecipientFilter(r.spec.RecipientFilter); err != nil {
		return r.s.fail(ProblemScopeRefused, "Invalid recipient filter", "The recipient filter is not valid OPATH: "+err.Error()+".", err)
	}
	return nil
}

// creating: the run registers a new application (nothing recorded, nothing to adopt).
func (r *registrar) creating() bool {
	return r.spec.Known.ObjectID == "" && r.spec.Known.ClientID == ""
}

// undoRefusedCreate removes what a create made when Exchange refused its filter: the
// registration is returned empty, and the error says so. If the removal fails too, what
// exists is returned as it is (the caller records it).
func (r *registrar) undoRefusedCreate(ctx context.Context, err error) (*Registration, error) {
	ce, ok := AsError(err)
	if !ok || ce.Problem != ProblemScopeRefused || !r.creating() || r.reg.ObjectID == "" {
		return r.reg, err
	}
	if uerr := r.unregister(ctx); uerr != nil {
		return r.reg, err
	}
	ce.Detail += " The application this run created was deleted again, so nothing is left half-made: correct the filter and apply again."
	return &Registration{TenantID: r.reg.TenantID}, ce
}
