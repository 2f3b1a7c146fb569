package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

func (r *targetConnectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan targetConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(writeOnlyFromConfig(ctx, req.Config, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	managed := r.data.handover().take(plan.ID.ValueString())
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Create, defaultCreateTimeout, r.specOf(ctx, plan, managed), func(ctx context.Context, spec connection.Spec) {
		tflog.Info(ctx, "verifying target connection", map[string]any{"admin_email": spec.Principal.Name, "cloud": plan.Cloud.ValueString()})
		r.ensure(ctx, spec, plan, nil, &resp.State, resp.Identity, &resp.Diagnostics)
	})
}

func (r *targetConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state targetConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(writeOnlyFromConfig(ctx, req.Config, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	managed, diags := managedFromState(ctx, state.ManagedRoleAssignments)
	resp.Diagnostics.Append(diags...)
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Update, defaultUpdateTimeout, r.specOf(ctx, plan, managed), func(ctx context.Context, spec connection.Spec) {
		r.ensure(ctx, spec, plan, &state, &resp.State, resp.Identity, &resp.Diagnostics)
	})
}

// ensure runs create or update and records what really happened: on success the verified
// state; on failure of an update the prior state with the assignments as they are now; on
// failure of a create the assignments made before it (Terraform marks the resource
// tainted), so nothing is lost and the next apply finishes the job; nothing when nothing
// was done.
func (r *targetConnectionResource) ensure(ctx context.Context, spec connection.Spec, plan targetConnectionModel, prior *targetConnectionModel,
	state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	res, err := r.data.env.Ensure(ctx, spec)
	record := func(s *targetConnectionModel) {
		diags.Append(state.Set(ctx, s)...)
		id, complete := s.identity()
		writeIdentity(ctx, identity, id, complete, "the admin account "+s.AdminEmail.ValueString(), diags)
	}
	switch {
	case err == nil:
		logResult(ctx, res)
		record(r.stateAfter(plan, res, true))
		return
	case prior != nil:
		s := *prior
		s.EWSStatus = ewsStatusOf(err, s.EWSStatus)
		s.ManagedRoleAssignments = managedList(res.Managed)
		if res.Status != nil {
			setRoleSets(&s, res.Status)
		}
		record(&s)
	case len(res.Managed) > 0:
		s := r.stateAfter(plan, res, false)
		s.EWSStatus = ewsStatusOf(err, types.StringNull()) // the plan's "enabled" was a prediction
		record(s)
	}
	addConnectionError(diags, targetConnectionErrors, err, "")
}

// Read is the drift check of every plan.
func (r *targetConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = connection.DriftCheck(ctx)
	var state targetConnectionModel
	if !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	// Every way out writes the identity of what the state holds then.
	defer func() {
		final := state
		if !resp.State.Raw.IsNull() {
			decode(ctx, resp.State, &final, &resp.Diagnostics)
		}
		id, complete := final.identity()
		writeIdentity(ctx, resp.Identity, id, complete, "the admin account "+state.AdminEmail.ValueString(), &resp.Diagnostics)
	}()
	if state.Password.IsNull() && state.AppPassword.IsNull() {
		r.readWithoutSecret(ctx, state, resp)
		return
	}
	callWith(ctx, &resp.Diagnostics, state.Timeouts.Read, defaultReadTimeout, r.specOf(ctx, state, nil), func(ctx context.Context, spec connection.Spec) {
		st, err := r.data.env.Check(ctx, spec)
		if err != nil {
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, uncheckedKey, []byte(`true`))...)
			ce, _ := connection.AsError(err)
			switch {
			case ce != nil && ce.Problem == connection.ProblemAccountGone:
				resp.Diagnostics.AddWarning("Admin account no longer exists",
					ce.Detail+" The connection is removed from state; the plan proposes to create it again.")
				resp.State.RemoveResource(ctx)
			case ce != nil && (ce.Problem == connection.ProblemCredentials || ce.Problem == connection.ProblemTenant || ce.Problem == connection.ProblemClient ||
				ce.Problem == connection.ProblemServiceUnavailable):
				// Never block the plan that fixes the credentials, nor the plan of the other
				// tenants when one tenant's service is down: warn and keep the state.
				addConnectionError(&resp.Diagnostics, targetConnectionErrors, err, "Drift check skipped: ")
			default:
				addConnectionError(&resp.Diagnostics, targetConnectionErrors, err, "")
			}
			return
		}
		if st.EWSProblem != nil {
			addConnectionError(&resp.Diagnostics, targetConnectionErrors, st.EWSProblem, "Drift check: ")
		}
		resp.Diagnostics.Append(r.remember(ctx, resp.Private, st.EWSProblem)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, uncheckedKey, nil)...)
		state.EWSStatus = ewsStatusOf(st.EWSProblem, state.EWSStatus)
		if st.TenantID != "" {
			state.TenantID = types.StringValue(st.TenantID)
		}
		r.fillKnown(&state)
		setRoleSets(&state, st)
		resp.Diagnostics.Append(setModel(ctx, &resp.State, &state)...)
	})
}

// readWithoutSecret is the read of a connection whose state holds no secret (imported, or
// write-only credentials): it cannot verify, so it leaves the check to the plan, which has
// the configuration's secret (checkAtPlan), and fills what needs no secret.
func (r *targetConnectionResource) readWithoutSecret(ctx context.Context, state targetConnectionModel, resp *resource.ReadResponse) {
	r.fillKnown(&state)
	if state.TenantID.IsNull() && r.data != nil {
		// The tenant id needs no secret: the tenant's OpenID configuration names it.
		if cl, ok := r.data.cfg.Cloud(state.Cloud.ValueString()); ok {
			email := state.AdminEmail.ValueString()
			if tid, err := r.data.env.TenantID(ctx, cl, email[strings.LastIndexByte(email, '@')+1:]); err == nil {
				state.TenantID = types.StringValue(tid)
			} else {
				resp.Diagnostics.AddWarning("Tenant not resolved", "Looking up the tenant of "+email+" failed: "+err.Error())
			}
		}
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, &state)...)
}

func (r *targetConnectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state targetConnectionModel
	if !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	managed, diags := managedFromState(ctx, state.ManagedRoleAssignments)
	resp.Diagnostics.Append(diags...)
	if len(managed) == 0 || resp.Diagnostics.HasError() {
		return
	}
	if !state.RevokeManagedRoles.ValueBool() {
		// Forgetting the connection is all a delete does without revoke_managed_roles. If a
		// Create of the same connection follows (a replacement), it continues the record.
		r.data.handover().put(state.ID.ValueString(), managed)
		return
	}
	if state.Password.IsNull() && state.AppPassword.IsNull() {
		resp.Diagnostics.AddWarning("Role assignments not revoked",
			"Write-only credentials are not available when destroying, so the assignments this connection created were left in place: "+managedSummary(managed)+
				". Remove them by hand (Remove-ManagementRoleAssignment), or use `password`/`app_password` with `revoke_managed_roles`.")
		return
	}
	if gaWriteOnly(ctx, state) {
		resp.Diagnostics.AddWarning("Role assignments not revoked",
			"The global administrator's write-only credentials are not available when destroying, so the assignments this connection created were left in place: "+managedSummary(managed)+
				". Remove them by hand (Remove-ManagementRoleAssignment), or use `global_admin.password`/`global_admin.app_password` with `revoke_managed_roles`.")
		return
	}
	callWith(ctx, &resp.Diagnostics, state.Timeouts.Delete, defaultDeleteTimeout, r.specOf(ctx, state, managed), func(ctx context.Context, spec connection.Spec) {
		left, err := r.data.env.Revoke(ctx, spec)
		if err != nil {
			addConnectionError(&resp.Diagnostics, targetConnectionErrors, err, "")
			// Keep the resource with the assignments still in place.
			state.ManagedRoleAssignments = managedList(left)
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
		tflog.Info(ctx, "revoked managed role assignments", map[string]any{"count": len(managed)})
	})
}

// gaWriteOnly reports whether the state's global_admin holds no stored secret (it uses the
// write-only ones), so nothing can sign in as it without the configuration.
func gaWriteOnly(ctx context.Context, m targetConnectionModel) bool {
	if m.GlobalAdmin.IsNull() || m.GlobalAdmin.IsUnknown() {
		return false
	}
	var ga globalAdminModel
	if m.GlobalAdmin.As(ctx, &ga, objectAsOptions).HasError() {
		return false
	}
	return ga.Password.IsNull() && ga.AppPassword.IsNull()
}
