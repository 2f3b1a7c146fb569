package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

func (r *targetAppConnectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan targetAppConnectionModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(appWriteOnlyFromConfig(ctx, req.Config, &plan)...)
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Create, defaultAppWriteTimeout, r.specOf(ctx, plan, true), func(ctx context.Context, spec connection.AppSpec) {
		r.ensure(ctx, spec, plan, nil, &resp.State, &resp.Diagnostics)
	})
}

func (r *targetAppConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state targetAppConnectionModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) || !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(appWriteOnlyFromConfig(ctx, req.Config, &plan)...)
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Update, defaultAppWriteTimeout, r.specOf(ctx, plan, false), func(ctx context.Context, spec connection.AppSpec) {
		r.ensure(ctx, spec, plan, &state, &resp.State, &resp.Diagnostics)
	})
}

// ensure verifies the connection and records what is true: on success the verified state;
// on failure of an update the prior state (nothing was changed in the tenant, and the
// state keeps the credential that last worked); on failure of a create nothing.
func (r *targetAppConnectionResource) ensure(ctx context.Context, spec connection.AppSpec, plan targetAppConnectionModel, prior *targetAppConnectionModel, state *tfsdk.State, diags *diag.Diagnostics) {
	tflog.Info(ctx, "verifying target app connection", map[string]any{"client_id": spec.Principal.Name, "tenant": spec.Principal.Tenant,
		"protocol": string(spec.Protocol), "mailboxes": len(spec.Mailboxes)})
	st, err := r.data.env.EnsureApp(ctx, spec)
	if err == nil {
		tflog.Info(ctx, "target app connection verified", map[string]any{"granted": strings.Join(st.Granted, ", ")})
		r.addDrift(diags, spec.Principal.Name, st)
		diags.Append(state.Set(ctx, r.appStateAfter(plan, st))...)
		return
	}
	if prior != nil {
		diags.Append(state.Set(ctx, prior)...)
	}
	addConnectionError(diags, appConnectionErrors(plan), err, "")
}

// Read is the drift check of every plan.
func (r *targetAppConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = connection.DriftCheck(ctx)
	var state targetAppConnectionModel
	if !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	if !state.hasStoredCredential() {
		// Without a stored credential the plan of this process checks the connection with
		// the configured one (verifyAtPlan); the refresh resolves only the tenant.
		r.resolveTenant(ctx, &state, &resp.Diagnostics)
		if r.data != nil {
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, refreshedKey, []byte(`"`+r.data.run+`"`))...)
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	callWith(ctx, &resp.Diagnostics, state.Timeouts.Read, defaultAppReadTimeout, r.specOf(ctx, state, false), func(ctx context.Context, spec connection.AppSpec) {
		st, err := r.data.env.CheckApp(ctx, spec)
		if err != nil {
			if refreshOnlyWarns(err) {
				// One warning per application and problem in this process (many connections
				// share one application).
				ce, _ := connection.AsError(err)
				if r.data.warned.first(strings.ToLower(spec.Principal.Tenant+"/"+spec.Principal.Name) + "|skipped|" + ce.Summary) {
					addConnectionError(&resp.Diagnostics, appConnectionErrors(state), err, "Drift check skipped: ")
				}
				return
			}
			addConnectionError(&resp.Diagnostics, appConnectionErrors(state), err, "")
			return
		}
		r.addDrift(&resp.Diagnostics, spec.Principal.Name, st)
		if len(st.Unconfirmed) > 0 {
			tflog.Info(ctx, "Exchange application roles not readable", map[string]any{"evidently_held": strings.Join(st.Unconfirmed, ", "), "why": st.ExchangeRolesUnread})
		}
		setAppStatus(&state, st)
		resp.Diagnostics.Append(r.rememberEWS(ctx, resp.Private, st)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	})
}

// resolveTenant fills tenant_id without a credential: a GUID is the id; a domain's tenant
// is named by its OpenID configuration.
func (r *targetAppConnectionResource) resolveTenant(ctx context.Context, m *targetAppConnectionModel, diags *diag.Diagnostics) {
	if !m.TenantID.IsNull() || r.data == nil {
		return
	}
	tenant := m.Tenant.ValueString()
	if guidPattern.MatchString(tenant) {
		m.TenantID = types.StringValue(strings.ToLower(tenant))
		return
	}
	cl, ok := r.data.cfg.Cloud(m.Cloud.ValueString())
	if !ok {
		return
	}
	tid, err := r.data.env.TenantID(ctx, cl, tenant)
	if err != nil {
		diags.AddWarning("Tenant not resolved", "Looking up the tenant "+tenant+" failed: "+err.Error())
		return
	}
	m.TenantID = types.StringValue(tid)
}

// Delete forgets the connection: it created nothing in the tenant.
func (r *targetAppConnectionResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState reads `<tenant>/<client_id>`. The credential, the name and the mailboxes live
// only in configuration, so the state starts from what the ID says and the schema's
// defaults; the first apply verifies with the configured credential.
func (r *targetAppConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	tenant, clientID, ok := strings.Cut(req.ID, "/")
	if !ok || checkTenantName(tenant) != nil || !guidPattern.MatchString(clientID) {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected <tenant>/<client_id>, e.g. contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a, where tenant is the tenant ID or a verified domain and client_id the application (client) ID; got %q.", req.ID))
		return
	}
	known := map[string]attr.Value{
		"id":        types.StringValue(appConnectionID(tenant, clientID)),
		"tenant":    types.StringValue(tenant),
		"client_id": types.StringValue(clientID),
	}
	if r.data != nil {
		known["cloud"] = types.StringValue(r.data.cfg.DefaultCloud)
	}
	resp.Diagnostics.Append(importedState(ctx, &resp.State, known)...)
}
