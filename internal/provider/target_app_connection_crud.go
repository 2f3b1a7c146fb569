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
		r.ensure(ctx, spec, plan, nil, &resp.State, resp.Identity, &resp.Diagnostics)
	})
}

func (r *targetAppConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state targetAppConnectionModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) || !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(appWriteOnlyFromConfig(ctx, req.Config, &plan)...)
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Update, defaultAppWriteTimeout, r.specOf(ctx, plan, false), func(ctx context.Context, spec connection.AppSpec) {
		r.ensure(ctx, spec, plan, &state, &resp.State, resp.Identity, &resp.Diagnostics)
	})
}

// ensure verifies the connection and records what is true, with its identity: on success
// the verified state; on failure of an update the prior state (nothing was changed in the
// tenant, and the state keeps the credential that last worked); on failure of a create
// nothing.
func (r *targetAppConnectionResource) ensure(ctx context.Context, spec connection.AppSpec, plan targetAppConnectionModel, prior *targetAppConnectionModel,
	state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	tflog.Info(ctx, "verifying target app connection", map[string]any{"client_id": spec.Principal.Name, "tenant": spec.Principal.Tenant,
		"protocol": string(spec.Protocol), "mailboxes": len(spec.Mailboxes)})
	st, err := r.data.env.EnsureApp(ctx, spec)
	if err == nil {
		tflog.Info(ctx, "target app connection verified", map[string]any{"granted": strings.Join(st.Granted, ", ")})
		r.addDrift(diags, spec.Principal.Name, st)
		after := r.appStateAfter(plan, st)
		diags.Append(state.Set(ctx, after)...)
		id, complete := after.identity()
		writeIdentity(ctx, identity, id, complete, "the connection's tenant "+plan.Tenant.ValueString(), diags)
		return
	}
	if prior != nil {
		diags.Append(state.Set(ctx, prior)...)
		id, complete := prior.identity()
		writeIdentity(ctx, identity, id, complete, "the connection's tenant "+prior.Tenant.ValueString(), diags)
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
	// Every way out writes the identity of what the state holds then, the tenant resolved
	// first where it is missing (an import by id of a domain, a state of an older provider).
	defer func() {
		final := state
		if !resp.State.Raw.IsNull() {
			decode(ctx, resp.State, &final, &resp.Diagnostics)
		}
		id, complete := final.identity()
		writeIdentity(ctx, resp.Identity, id, complete, "the connection's tenant "+state.Tenant.ValueString(), &resp.Diagnostics)
	}()
	r.resolveTenant(ctx, &state, &resp.Diagnostics)
	if !state.hasStoredCredential() {
		// Without a stored credential the plan of this process checks the connection with
		// the configured one (verifyAtPlan); the refresh resolves only the tenant (above).
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
		state.setID()
		resp.Diagnostics.Append(r.rememberEWS(ctx, resp.Private, st)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	})
}

// resolveTenant fills tenant_id without a credential where the state lacks it (an import
// by id of a domain, or a state of an older provider): a GUID is the id; a domain's tenant
// is named by its OpenID configuration. The id follows the tenant id.
func (r *targetAppConnectionResource) resolveTenant(ctx context.Context, m *targetAppConnectionModel, diags *diag.Diagnostics) {
	defer m.setID()
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
	m.TenantID = types.StringValue(strings.ToLower(tid))
}

// setID writes the id from the tenant id, the client id and the name, when they are known
// (and leaves it otherwise: a state of an older provider keeps its id until its tenant is).
func (m *targetAppConnectionModel) setID() {
	if known(m.TenantID, m.ClientID, m.Name) {
		m.ID = types.StringValue(appConnectionID(m.TenantID.ValueString(), m.ClientID.ValueString(), m.Name.ValueString()))
	}
}

// Delete forgets the connection: it created nothing in the tenant.
func (r *targetAppConnectionResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState reads the id `<tenant>/<client_id>/<name>` (tenant: its GUID or a verified
// domain) or the identity (tenant_id, client_id, name). Both give the same state: the
// tenant's GUID is resolved here, so the id is in its one format from the start. The
// credential and the mailboxes live only in configuration, so the state starts from the
// id, the schema's defaults and what follows from them; the first apply verifies with the
// configured credential.
func (r *targetAppConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var tenant, clientID, name string
	if req.ID != "" {
		var ok bool
		tenant, clientID, name, ok = cutAppConnectionID(req.ID)
		if !ok {
			resp.Diagnostics.AddError("Invalid import ID",
				fmt.Sprintf("Expected <tenant>/<client_id>/<name>, e.g. contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a/Contoso target, where tenant is the tenant ID or a verified domain, client_id the application (client) ID and name the connection's `name`; got %q.", req.ID))
			return
		}
	} else {
		var id appConnectionIdentity
		if resp.Diagnostics.Append(req.Identity.Get(ctx, &id)...); resp.Diagnostics.HasError() {
			return
		}
		tenant, clientID, name = id.TenantID.ValueString(), id.ClientID.ValueString(), id.Name.ValueString()
		if !guidPattern.MatchString(tenant) || !guidPattern.MatchString(clientID) || name == "" {
			resp.Diagnostics.AddError("Invalid import identity",
				fmt.Sprintf("Expected identity = { tenant_id = <the tenant's ID, a GUID>, client_id = <the application (client) ID>, name = <the connection's name> }; got tenant_id %q, client_id %q, name %q.", tenant, clientID, name))
			return
		}
	}
	cloudName := ""
	if r.data != nil {
		cloudName = r.data.cfg.DefaultCloud
	}
	known := map[string]attr.Value{
		"tenant":    types.StringValue(tenant),
		"client_id": types.StringValue(strings.ToLower(clientID)),
		"name":      types.StringValue(name),
		"cloud":     types.StringValue(cloudName),
	}
	if r.data != nil {
		tid, resolved := r.data.tenantGUID(ctx, cloudName, tenant)
		if !resolved {
			tenantNotResolved(&resp.Diagnostics, tenant, ", or import with the tenant's ID (a GUID)")
			return
		}
		known["tenant_id"] = types.StringValue(tid)
		known["id"] = types.StringValue(appConnectionID(tid, clientID, name))
	}
	resp.Diagnostics.Append(importedState(ctx, &resp.State, known)...)
	var m targetAppConnectionModel
	if resp.Diagnostics.Append(resp.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	id, complete := m.identity()
	importIdentity(ctx, resp.Identity, id, complete, &resp.Diagnostics)
}

// cutAppConnectionID reads `<tenant>/<client_id>/<name>`: the name is everything after the
// second slash.
func cutAppConnectionID(s string) (tenant, clientID, name string, ok bool) {
	tenant, rest, ok1 := strings.Cut(s, "/")
	clientID, name, ok2 := strings.Cut(rest, "/")
	ok = ok1 && ok2 && checkTenantName(tenant) == nil && guidPattern.MatchString(clientID) && strings.TrimSpace(name) != ""
	return tenant, clientID, name, ok
}
