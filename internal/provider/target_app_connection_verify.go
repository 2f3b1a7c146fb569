package provider

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The plan-time verification of an existing o365_target_app_connection, and the one rule
// for drift that no apply can repair (DESIGN.md §7.3):
//
//   - A refresh records what it found and warns (Read). A state without a stored credential
//     (write-only, or imported) cannot be checked by the refresh; the plan then checks it
//     with the configuration's credential (write-only values are in the configuration during
//     planning), with the same warnings. Only a credential whose value is unknown at plan
//     time leaves the connection unchecked, and says so.
//   - The resource changes nothing in the tenant, so no apply of it repairs drift: drift
//     alone plans no change (never a value the provider cannot set, such as ews_status
//     "enabled" or missing_permissions = []); the refresh's warning names the fix, and a
//     repair made elsewhere shows at the next refresh.
//   - A plan that changes the connection plans the healthy values and apply verifies again
//     (a permission may be granted by o365_migration_application in the same apply). While
//     EWS is closed nothing can make that apply succeed: the plan fails with the diagnosis.

// appFinding is what the check of this plan found (the refresh's, or the plan's own for a
// state without a stored credential): the EWS closure.
type appFinding struct {
	ewsStatus, ewsDetail string
}

// ewsClosed reports whether the finding is EWS closed for a connection over EWS.
func (f appFinding) ewsClosed() bool {
	return f.ewsStatus != "" && f.ewsStatus != connection.EWSEnabled
}

// rememberEWS keeps a refresh's EWS closure in the private state (the finding mechanism of
// target_connection_diagnosis.go) for the plan that follows, and forgets it once EWS is open.
func (r *targetAppConnectionResource) rememberEWS(ctx context.Context, private privateSetter, st *connection.AppStatus) diag.Diagnostics {
	if r.data == nil || st.EWSStatus == "" || st.EWSStatus == connection.EWSEnabled {
		return private.SetKey(ctx, findingKey, nil)
	}
	b, err := json.Marshal(finding{Run: r.data.run, Problem: connection.ProblemEWS, Summary: st.EWSStatus, Detail: st.EWSDetail})
	if err != nil {
		return nil
	}
	return private.SetKey(ctx, findingKey, b)
}

// planFinding is what this plan knows of an existing connection: the refresh's finding for
// a stored credential, or a check run now with the configuration's credential. ok is false
// when nothing could be checked.
func (r *targetAppConnectionResource) planFinding(ctx context.Context, req resource.ModifyPlanRequest, plan, config, state targetAppConnectionModel, diags *diag.Diagnostics) (appFinding, bool) {
	if state.hasStoredCredential() {
		f := appFinding{ewsStatus: state.EWSStatus.ValueString()}
		if req.Private != nil {
			b, pdiags := req.Private.GetKey(ctx, findingKey)
			diags.Append(pdiags...)
			var fd finding
			if len(b) > 0 && json.Unmarshal(b, &fd) == nil && fd.Run == r.data.run {
				f.ewsStatus, f.ewsDetail = fd.Summary, fd.Detail
			}
		}
		return f, true
	}
	if !r.refreshedHere(ctx, req, diags) {
		// No refresh in this process: a plan with -refresh=false, or the plan Terraform
		// makes again during apply. It knows nothing new and warns of nothing again.
		return appFinding{}, false
	}
	return r.verifyAtPlan(ctx, plan, config, state, diags)
}

// refreshedKey is the private state key by which Read tells the plan of the same process
// that it refreshed a state without a stored credential.
const refreshedKey = "refreshed"

// refreshedHere reports whether this provider process refreshed the resource.
func (r *targetAppConnectionResource) refreshedHere(ctx context.Context, req resource.ModifyPlanRequest, diags *diag.Diagnostics) bool {
	if req.Private == nil {
		return false
	}
	b, pdiags := req.Private.GetKey(ctx, refreshedKey)
	diags.Append(pdiags...)
	var run string
	return len(b) > 0 && json.Unmarshal(b, &run) == nil && run == r.data.run
}

// verifyAtPlan checks a connection whose state holds no credential with the credential of
// the configuration (a write-only one included), as a refresh would, warning of the drift.
func (r *targetAppConnectionResource) verifyAtPlan(ctx context.Context, plan, config, state targetAppConnectionModel, diags *diag.Diagnostics) (appFinding, bool) {
	a := configuredCredential(&config)
	if a == nil || a.field(&config).IsUnknown() || config.ClientCertificatePassword.IsUnknown() || plan.Tenant.IsUnknown() || plan.ClientID.IsUnknown() ||
		plan.VerifyMailboxes.IsUnknown() || plan.Cloud.IsUnknown() {
		why := "it was imported"
		if !state.CredentialWOVersion.IsNull() || !state.VerifiedAt.IsNull() {
			why = "its credential is write-only"
		}
		r.data.warnOnce(diags, strings.ToLower(plan.Tenant.ValueString()+"/"+state.ClientID.ValueString())+"|unverified", path.Empty(), "Connection not re-verified",
			"The state holds no client secret or certificate for application "+state.ClientID.ValueString()+" ("+why+") and the configured credential is not known "+
				"until apply, so this plan could not check its permissions and mailboxes. The apply verifies them with the configured credential.")
		return appFinding{}, false
	}
	m := plan
	for _, c := range appCredentials {
		*c.field(&m) = *c.field(&config)
	}
	m.ClientCertificatePassword = config.ClientCertificatePassword
	ctx = connection.DriftCheck(ctx)
	var f appFinding
	ok := false
	callWith(ctx, diags, state.Timeouts.Read, defaultAppReadTimeout, r.specOf(ctx, m, false), func(ctx context.Context, spec connection.AppSpec) {
		st, err := r.data.env.CheckApp(ctx, spec)
		if err != nil {
			addConnectionError(diags, appConnectionErrors(m), err, "Drift check skipped: ")
			return
		}
		r.addDrift(diags, spec.Principal.Name, st)
		f, ok = appFinding{ewsStatus: st.EWSStatus, ewsDetail: st.EWSDetail}, true
	})
	return f, ok
}

// refuseEWSClosed fails a plan that would change a connection over EWS while EWS is closed:
// its apply could only fail. The diagnosis is the refresh's (or the plan's own check's).
func refuseEWSClosed(f appFinding, plan targetAppConnectionModel, diags *diag.Diagnostics) {
	if !f.ewsClosed() || roles.ProtocolOf(plan.Protocol.ValueString()) != roles.ProtocolEWS {
		return
	}
	detail := f.ewsDetail
	if detail != "" {
		detail += "\n\n"
	}
	diags.AddAttributeError(path.Root("protocol"), "EWS closed: ews_status = "+f.ewsStatus,
		detail+"This plan changes the connection, and its apply cannot verify it while EWS is closed. Open EWS as said above and plan again, "+
			"or use `protocol = \"graph\"`, which EWS switches do not affect.")
}
