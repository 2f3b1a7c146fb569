package provider

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The plan-time diagnosis of o365_target_connection (DESIGN.md §7.4): where the tenant
// answers, say when the seed's model cannot work, as an error when apply cannot succeed and
// a warning otherwise. The rule, documented in the resource's page:
//
//   - A new connection whose admin_email, cloud and secret are known at plan time is tried
//     once (sign-in and one EWS call, Env.Diagnose): a retired ApplicationImpersonation, EWS
//     closed, or multi-factor authentication on a password is an error at plan, since the
//     apply could only fail. Anything else is left to apply, which reports it.
//   - An existing connection's refresh (Read) only warns, so a refresh, a destroy or the
//     removal of the resource from the configuration is never blocked, and state records
//     what was found (missing_roles; the diagnosis itself in the private state, finding).
//     The plan that follows in the same process errors when
//     it would change the connection (configuration changed, or a role to repair), since
//     that apply cannot succeed; when there is nothing to do, the plan stays empty (a
//     retired role is not proposed for repair) and the refresh's warning stands.
//   - Without a refresh (-refresh=false) the plan knows nothing new, and apply fails with
//     the same words.

// findingKey is the private state key of a refresh's diagnosis of EWS: Read writes it and
// the ModifyPlan of the same plan reads it (its req.Private is the private state Read
// returned).
const findingKey = "diagnosis"

// finding is a refresh's diagnosis as the private state keeps it. Run names the
// provider process that wrote it: only the plan of that process's refresh uses it. A finding
// stored with the state by an earlier apply's refresh is stale, and a plan without a refresh
// (-refresh=false) knows nothing new; apply then fails with the same words.
type finding struct {
	Run     string               `json:"run"`
	Problem connection.Problem   `json:"problem"`
	Reason  connection.Reason    `json:"reason,omitempty"`
	Account connection.Account   `json:"account,omitempty"`
	Switch  connection.EWSSwitch `json:"switch,omitempty"`
	Summary string               `json:"summary"`
	Detail  string               `json:"detail"`
}

// blocking reports whether err is a diagnosis that no apply of this resource can overcome:
// the role retired, EWS closed.
func blocking(err error) (*connection.Error, bool) {
	ce, ok := connection.AsError(err)
	if !ok {
		return nil, false
	}
	return ce, ce.Problem == connection.ProblemImpersonationRetired || ce.Problem == connection.ProblemEWSClosed
}

// remember keeps the diagnosis of a refresh's EWS check in the private state for the plan
// that follows, and forgets an earlier one once the tenant is healthy again.
func (r *targetConnectionResource) remember(ctx context.Context, private privateSetter, err error) diag.Diagnostics {
	ce, _ := connection.AsError(err)
	if ce == nil || r.data == nil {
		return private.SetKey(ctx, findingKey, nil)
	}
	b, jerr := json.Marshal(finding{Run: r.data.run, Problem: ce.Problem, Reason: ce.Reason, Account: ce.Account, Switch: ce.Switch, Summary: ce.Summary, Detail: ce.Detail})
	if jerr != nil {
		return nil // nothing to carry: apply reports the diagnosis itself
	}
	return private.SetKey(ctx, findingKey, b)
}

// recalled is the diagnosis this process's refresh of the connection kept (nil when there
// is none).
func (r *targetConnectionResource) recalled(ctx context.Context, private privateState) (*connection.Error, diag.Diagnostics) {
	if r.data == nil || private == nil {
		return nil, nil
	}
	b, diags := private.GetKey(ctx, findingKey)
	var f finding
	if len(b) > 0 && json.Unmarshal(b, &f) == nil && f.Run == r.data.run {
		return &connection.Error{Problem: f.Problem, Reason: f.Reason, Account: f.Account, Switch: f.Switch, Summary: f.Summary, Detail: f.Detail}, diags
	}
	return nil, diags
}

// diagnoseExisting decides the plan of an existing connection after its refresh found a
// blocking problem: it returns the drift that is still worth planning (a retired role is
// not), and adds the error when the plan would change the connection.
func (r *targetConnectionResource) diagnoseExisting(ctx context.Context, private privateState, state targetConnectionModel, changed bool, diags *diag.Diagnostics) (drifted bool) {
	ce, pdiags := r.recalled(ctx, private)
	diags.Append(pdiags...)
	drifted, _ = driftRule(ce, setStrings(state.MissingRoles), changed, diags)
	return drifted
}

// driftRule is the one rule for what a check found (ce, the refresh's diagnosis of EWS, nil
// when healthy; missing, the roles found missing): the missing roles apply can assign are
// drift to plan (a retired role is not); when the check found a problem apply cannot
// overcome, a plan that would change the connection (changed, or drift to repair) fails with
// the diagnosis. It reports whether it failed.
func driftRule(ce *connection.Error, missing []string, changed bool, diags *diag.Diagnostics) (drifted, failed bool) {
	if ce == nil {
		return len(missing) > 0, false
	}
	if ce.Problem == connection.ProblemImpersonationRetired {
		missing = slices.DeleteFunc(missing, func(s string) bool { return s == roles.Impersonation().Name })
	}
	if changed || len(missing) > 0 {
		addConnectionError(diags, targetConnectionErrors, ce, "")
		return len(missing) > 0, true
	}
	return false, false
}

// checkAtPlan is the drift check of a connection whose state holds no secret (its refresh
// could not sign in), run by the plan with the configuration's secret (a write-only one is
// there during planning, and again in the final plan of the apply, which so repairs what the
// plan showed), so drift shows as with a stored secret: a missing role is planned for repair (the returned
// status), a problem apply cannot overcome warns, or fails a plan that would change the
// connection. Where the configuration's secret is unknown it warns that nothing was
// checked. It returns the status found (nil when nothing was checked) and whether drift is
// planned.
func (r *targetConnectionResource) checkAtPlan(ctx context.Context, req resource.ModifyPlanRequest, plan targetConnectionModel, changed bool, diags *diag.Diagnostics) (st *connection.Status, drifted bool) {
	ctx = connection.DriftCheck(ctx)
	m := plan
	diags.Append(writeOnlyFromConfig(ctx, req.Config, &m)...)
	known := false
	for _, v := range []types.String{m.Password, m.AppPassword, m.PasswordWO, m.AppPasswordWO} {
		if v.IsUnknown() {
			known = false
			break
		}
		known = known || (!v.IsNull() && v.ValueString() != "")
	}
	if !known {
		diags.AddWarning("Connection not re-verified",
			"The state holds no password or app password for "+plan.AdminEmail.ValueString()+" and the configured secret is only known at apply, "+
				"so this plan could not check its roles and EWS access. The apply verifies them with the configured secret.")
		return nil, false
	}
	callWith(ctx, diags, m.Timeouts.Read, defaultReadTimeout, r.specOf(ctx, m, nil), func(ctx context.Context, spec connection.Spec) {
		found, err := r.data.env.Check(ctx, spec)
		if err != nil {
			// Never block the plan that fixes the credentials (or the connection's other
			// problems): apply reports them with the same words.
			addConnectionError(diags, targetConnectionErrors, err, "Drift check skipped: ")
			return
		}
		st = found
		ce, _ := connection.AsError(found.EWSProblem)
		var failed bool
		drifted, failed = driftRule(ce, found.Missing, changed, diags)
		if ce != nil && !failed {
			addConnectionError(diags, targetConnectionErrors, ce, "Drift check: ")
		}
	})
	return st, drifted
}

// diagnoseNew tries a connection that does not exist yet, when everything it signs in with
// is known at plan time.
func (r *targetConnectionResource) diagnoseNew(ctx context.Context, req resource.ModifyPlanRequest, plan targetConnectionModel, diags *diag.Diagnostics) {
	ctx = connection.DriftCheck(ctx)
	if r.data == nil || plan.AdminEmail.IsUnknown() || plan.Cloud.IsUnknown() {
		return
	}
	m := plan
	diags.Append(writeOnlyFromConfig(ctx, req.Config, &m)...)
	for _, v := range []types.String{m.Password, m.AppPassword, m.PasswordWO, m.AppPasswordWO} {
		if v.IsUnknown() {
			return
		}
	}
	callWith(ctx, diags, m.Timeouts.Read, defaultReadTimeout, r.specOf(ctx, m, nil), func(ctx context.Context, spec connection.Spec) {
		err := r.data.env.Diagnose(ctx, spec)
		ce, block := blocking(err)
		if !block && ce != nil && ce.Problem == connection.ProblemCredentials && ce.Reason == connection.ReasonMFARequired {
			block = true
		}
		if block {
			addConnectionError(diags, targetConnectionErrors, err, "")
		}
	})
}

func setStrings(s types.Set) []string {
	var out []string
	for _, v := range s.Elements() {
		if sv, ok := v.(types.String); ok {
			out = append(out, sv.ValueString())
		}
	}
	return out
}
