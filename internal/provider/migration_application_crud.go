package provider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// privateSetter writes a resource's private state (resp.Private of Create, Read, Update).
type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func (r *migrationApplicationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan migrationApplicationModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) {
		return
	}
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Create, defaultRegistrationCreateTimeout, r.registrationSpec(plan, nil, registrationPrivate{}),
		func(ctx context.Context, spec connection.RegistrationSpec) {
			tflog.Info(ctx, "registering the migration application", map[string]any{"display_name": spec.DisplayName})
			r.register(ctx, spec, plan, nil, &resp.State, resp.Identity, resp.Private, &resp.Diagnostics)
		})
}

func (r *migrationApplicationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state migrationApplicationModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) || !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	priv, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	adoption, diags := adoptionOf(ctx, req.Private, state)
	resp.Diagnostics.Append(diags...)
	callWith(ctx, &resp.Diagnostics, plan.Timeouts.Update, defaultRegistrationUpdateTimeout, r.registrationSpec(plan, &state, priv),
		func(ctx context.Context, spec connection.RegistrationSpec) {
			spec.Known.Adoption = adoption
			r.register(ctx, spec, plan, &state, &resp.State, resp.Identity, resp.Private, &resp.Diagnostics)
		})
}

// register runs the pipeline and records what exists, also after a failure: a create that
// failed half-way leaves the made objects in state (Terraform marks the resource tainted,
// and its replacement removes them); an update that failed keeps the prior settings with the
// permissions as they are now, so the next plan proposes the change again.
func (r *migrationApplicationResource) register(ctx context.Context, spec connection.RegistrationSpec, plan migrationApplicationModel,
	prior *migrationApplicationModel, state *tfsdk.State, identity *tfsdk.ResourceIdentity, private privateSetter, diags *diag.Diagnostics) {
	reg, err := r.data.env.Register(ctx, spec)
	for _, w := range reg.Warnings {
		diags.AddWarning("Permission id differs from the documented one", w)
	}
	if err == nil || reg.ObjectID != "" {
		base := plan
		if err != nil && prior != nil {
			base = *prior
			base.Timeouts = plan.Timeouts
			// A secret renewed before the failure keeps the overlap the plan gave the old one.
			base.RetiringClientSecretRemoveAfter = plan.RetiringClientSecretRemoveAfter
		}
		after := stateOf(base, reg)
		diags.Append(state.Set(ctx, after)...)
		id, complete := after.identity()
		writeIdentity(ctx, identity, id, complete, "the application "+after.ClientID.ValueString(), diags)
		diags.Append(private.SetKey(ctx, registrationPrivateKey, privateOf(reg))...)
		diags.Append(setAdoption(ctx, private, reg)...)
	}
	if err != nil {
		addRegistrationError(diags, err, "")
	}
}

// Read is the drift check of every plan.
func (r *migrationApplicationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = connection.DriftCheck(ctx)
	var state migrationApplicationModel
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
		writeIdentity(ctx, resp.Identity, id, complete, "the application "+state.ClientID.ValueString(), &resp.Diagnostics)
	}()
	if r.data == nil || r.data.cfg.Management == nil {
		resp.Diagnostics.AddWarning("Migration application not checked", "Without the provider's management identity the drift check is skipped. "+noManagementDetail)
		return
	}
	priv, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	adoption, diags := adoptionOf(ctx, req.Private, state)
	resp.Diagnostics.Append(diags...)
	callWith(ctx, &resp.Diagnostics, state.Timeouts.Read, defaultRegistrationReadTimeout, r.registrationSpec(state, &state, priv),
		func(ctx context.Context, spec connection.RegistrationSpec) {
			spec.Known.Adoption = adoption
			reg, err := r.data.env.ReadRegistration(ctx, spec)
			if err != nil {
				// Never block the plan that fixes the management identity: warn, keep the state.
				addRegistrationError(&resp.Diagnostics, err, "Drift check skipped: ")
				return
			}
			if reg.Gone {
				resp.Diagnostics.AddWarning("Migration application no longer exists",
					"The application "+state.ClientID.ValueString()+" was deleted outside Terraform. It is removed from state; the plan proposes to register it again.")
				resp.State.RemoveResource(ctx)
				return
			}
			if reg.Observed != nil {
				observed(&state, reg)
			}
			if reg.DisplayName != "" {
				state.DisplayName = types.StringValue(reg.DisplayName)
			}
			warnScopeBypassed(&resp.Diagnostics, path.Root("mailbox_scope"), reg.ScopeBypassed)
			resp.Diagnostics.Append(resp.State.Set(ctx, stateOf(state, reg))...)
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, registrationPrivateKey, privateOf(reg))...)
			resp.Diagnostics.Append(rememberRefresh(ctx, resp.Private, time.Now())...)
			resp.Diagnostics.Append(setAdoption(ctx, resp.Private, reg)...)
		})
}

// observed writes the settings an import found into the state.
func observed(m *migrationApplicationModel, reg *connection.Registration) {
	o := reg.Observed
	m.Protocol = types.StringValue(string(o.Protocol))
	m.UserManagement = types.BoolValue(o.UserManagement)
	m.ReadTargetItems = types.BoolValue(o.ReadItems)
	m.PublicFolders = types.BoolValue(false)
	m.MailboxScope = types.ObjectNull(mailboxScopeTypes)
	if o.Scoped {
		m.MailboxScope = scopeValue(o.RecipientFilter)
	}
	m.Certificate = types.StringNull()
	if o.CertificatePEM != "" {
		m.Certificate = types.StringValue(o.CertificatePEM)
	}
	m.CreateClientSecret = types.BoolValue(o.HasSecret)
}

func (r *migrationApplicationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state migrationApplicationModel
	if !decode(ctx, req.State, &state, &resp.Diagnostics) {
		return
	}
	priv, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	adoption, diags := adoptionOf(ctx, req.Private, state)
	resp.Diagnostics.Append(diags...)
	callWith(ctx, &resp.Diagnostics, state.Timeouts.Delete, defaultRegistrationDeleteTimeout, r.registrationSpec(state, &state, priv),
		func(ctx context.Context, spec connection.RegistrationSpec) {
			spec.Known.Adoption = adoption
			spec.WasScoped = !state.MailboxScope.IsNull()
			if err := r.data.env.Unregister(ctx, spec); err != nil {
				addRegistrationError(&resp.Diagnostics, err, "")
				resp.Diagnostics.Append(resp.State.Set(ctx, &state)...) // keep it: nothing is forgotten half-removed
				return
			}
			tflog.Info(ctx, "unregistered the migration application", map[string]any{"client_id": state.ClientID.ValueString()})
		})
}

// ImportState imports by client id, as the id or the identity (client_id, and optionally
// tenant_id: else the management identity's tenant, by its GUID); the read that follows
// finds the application and its settings.
func (r *migrationApplicationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := strings.TrimSpace(req.ID)
	tenantID := types.StringNull()
	if req.ID == "" {
		var ident migrationApplicationIdentity
		if resp.Diagnostics.Append(req.Identity.Get(ctx, &ident)...); resp.Diagnostics.HasError() {
			return
		}
		id = ident.ClientID.ValueString()
		if !ident.TenantID.IsNull() {
			if !guidPattern.MatchString(ident.TenantID.ValueString()) {
				resp.Diagnostics.AddError("Invalid import identity", "The identity's tenant_id is the tenant's ID, a GUID (or leave it out); got "+ident.TenantID.ValueString()+".")
				return
			}
			tenantID = types.StringValue(strings.ToLower(ident.TenantID.ValueString()))
		}
	}
	if !guidPattern.MatchString(id) {
		resp.Diagnostics.AddError("Invalid import ID", "Import an o365_migration_application by the application's client ID, a GUID; got "+id+".")
		return
	}
	id = strings.ToLower(id)
	if tenantID.IsNull() && r.data != nil && r.data.cfg.Management != nil {
		// The application lives in the management identity's tenant.
		tenant := r.data.cfg.Management.TenantID
		tid, resolved := r.data.tenantGUID(ctx, r.data.cfg.DefaultCloud, tenant)
		if !resolved {
			tenantNotResolved(&resp.Diagnostics, tenant, ", or give the identity's tenant_id")
			return
		}
		tenantID = types.StringValue(tid)
	}
	resp.Diagnostics.Append(importedState(ctx, &resp.State, map[string]attr.Value{
		"id": types.StringValue(id), "client_id": types.StringValue(id), "adopted": types.BoolValue(true), "tenant_id": tenantID,
		"required_permissions": stringSet(roles.GrantStrings(roles.Grants(roles.AppOptions{Protocol: roles.ProtocolGraph}))),
	})...)
	ident, complete := migrationApplicationModel{ClientID: types.StringValue(id), TenantID: tenantID}.identity()
	importIdentity(ctx, resp.Identity, ident, complete, &resp.Diagnostics)
}
