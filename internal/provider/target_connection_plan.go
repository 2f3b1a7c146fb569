package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/helpers/validatordiag"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Plan-time validation and planning of o365_target_connection: errors name the attribute and
// the fix while the values are still only configuration.

// secretAttributes are the admin's secrets, of which a configuration sets exactly one.
var secretAttributes = []string{"password", "app_password", "password_wo", "app_password_wo"}

// exactlyOneSecret is the framework validator whose rule and words checkOneSecret applies.
var exactlyOneSecret = resourcevalidator.ExactlyOneOf(path.MatchRoot("password"), path.MatchRoot("app_password"), path.MatchRoot("password_wo"), path.MatchRoot("app_password_wo"))

// checkOneSecret is exactlyOneSecret's check on the decoded configuration, with its
// diagnostics: the validator itself would search the whole configuration once per attribute
// (Config.PathMatches) on every validation of every connection.
func checkOneSecret(ctx context.Context, m targetConnectionModel, diags *diag.Diagnostics) {
	var configured []path.Path
	unknown := false
	for i, v := range []types.String{m.Password, m.AppPassword, m.PasswordWO, m.AppPasswordWO} {
		switch {
		case v.IsUnknown():
			unknown = true
		case !v.IsNull():
			configured = append(configured, path.Root(secretAttributes[i]))
		}
	}
	if len(configured) > 1 {
		diags.Append(validatordiag.InvalidAttributeCombinationDiagnostic(configured[0], exactlyOneSecret.Description(ctx)))
	}
	if !unknown && len(configured) == 0 {
		diags.AddError("Missing Attribute Configuration", exactlyOneSecret.Description(ctx))
	}
}

// ValidateConfig checks what needs more than one attribute at plan time: exactly one secret,
// the address's domain against the cloud, and the global administrator's secret.
func (r *targetConnectionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m targetConnectionModel
	if !decode(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	checkOneSecret(ctx, m, &resp.Diagnostics)
	if !m.Cloud.IsNull() && !m.Cloud.IsUnknown() && !m.AdminEmail.IsUnknown() && !m.AdminEmail.IsNull() {
		checkAddressCloud(m.AdminEmail.ValueString(), m.Cloud.ValueString(), path.Root("admin_email"), &resp.Diagnostics)
	}
	if !m.Cloud.IsNull() && !m.Cloud.IsUnknown() {
		warnRetiredCloud(m.Cloud.ValueString(), path.Root("cloud"), &resp.Diagnostics)
	}
	if !m.GlobalAdmin.IsNull() && !m.GlobalAdmin.IsUnknown() {
		var ga globalAdminModel
		resp.Diagnostics.Append(m.GlobalAdmin.As(ctx, &ga, objectAsOptions)...)
		if resp.Diagnostics.HasError() {
			return
		}
		checkGlobalAdminSecret(ga, &resp.Diagnostics)
		if !ga.Email.IsNull() && !ga.Email.IsUnknown() && !m.Cloud.IsNull() && !m.Cloud.IsUnknown() {
			checkAddressCloud(ga.Email.ValueString(), m.Cloud.ValueString(), path.Root("global_admin").AtName("email"), &resp.Diagnostics)
		}
	}
}

// globalAdminSecrets are the global administrator's secrets, of which a configuration sets
// exactly one (the write-only ones stay out of state).
var globalAdminSecrets = []string{"password", "app_password", "password_wo", "app_password_wo"}

// checkGlobalAdminSecret requires exactly one of global_admin's secrets, naming the one to
// remove (or the block, when none is set).
func checkGlobalAdminSecret(ga globalAdminModel, diags *diag.Diagnostics) {
	var configured []string
	for i, v := range []types.String{ga.Password, ga.AppPassword, ga.PasswordWO, ga.AppPasswordWO} {
		if v.IsUnknown() {
			return
		}
		if !v.IsNull() {
			configured = append(configured, globalAdminSecrets[i])
		}
	}
	const which = "`global_admin.password`, `global_admin.app_password`, `global_admin.password_wo` and `global_admin.app_password_wo` " +
		"(an app password when that account has multi-factor authentication; a write-only one to keep it out of state)"
	switch {
	case len(configured) == 0:
		diags.AddAttributeError(path.Root("global_admin"), "Global administrator needs exactly one secret", "Set exactly one of "+which+".")
	case len(configured) > 1:
		diags.AddAttributeError(path.Root("global_admin").AtName(configured[1]), "Global administrator needs exactly one secret",
			"`global_admin."+configured[0]+"` and `global_admin."+configured[1]+"` are both set. Set exactly one of "+which+".")
	}
}

// checkAddressCloud enforces DESIGN.md §3: *.onmicrosoft.de ⇔ germany (the clouds'
// credentials never cross), and warns when the address is not the tenant's initial domain.
func checkAddressCloud(addr, cloudName string, at path.Path, diags *diag.Diagnostics) {
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	cl, ok := cloud.Lookup(cloudName)
	if !ok {
		return
	}
	if owner := cloud.CloudForInitialDomain(domain); owner != "" && owner != cloudName {
		diags.AddAttributeError(at, "Address belongs to another cloud",
			fmt.Sprintf("%q is an address of the %s cloud, but the connection uses cloud %q. Office 365 clouds are separate and their credentials never cross: set `cloud = %q`, or use the account's address in %s.",
				addr, owner, cloudName, owner, cloudName))
		return
	}
	if cloudName == cloud.Germany && !cl.IsInitialDomain(domain) && strings.HasSuffix(strings.ToLower(domain), ".onmicrosoft.com") {
		diags.AddAttributeError(at, "Address belongs to another cloud",
			fmt.Sprintf("%q is an Office 365 worldwide address, but the connection uses cloud \"germany\". Set `cloud = \"worldwide\"`, or use the account's *.onmicrosoft.de address.", addr))
		return
	}
	if !cl.IsInitialDomain(domain) && at.Equal(path.Root("admin_email")) {
		diags.AddAttributeWarning(at, "Prefer the account's initial domain",
			fmt.Sprintf("%q is not a *%s address. The tenant's initial domain never changes, so a connection that uses it keeps working if the tenant's domains change during the migration; consider the account's %s address.",
				addr, cl.InitialDomainSuffixes[0], cl.InitialDomainSuffixes[0]))
	}
}

// ModifyPlan fills what is known at plan time (cloud, id, ews_url, required_roles) and turns
// drift into a plan: when the last read found missing roles, it plans missing_roles = [] so
// that apply assigns them again. It also says when apply cannot succeed
// (target_connection_diagnosis.go).
func (r *targetConnectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or provider not configured yet (validate)
	}
	// Every plan of every connection runs this: each model is decoded once, without the
	// framework's reflection (model_codec.go), and of the configuration only `cloud` is read.
	var plan, state targetConnectionModel
	var configCloud types.String
	hasState := !req.State.Raw.IsNull()
	decode(ctx, req.Plan, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("cloud"), &configCloud)...)
	if hasState {
		decode(ctx, req.State, &state, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if configCloud.IsNull() {
		if hasState && state.Cloud.ValueString() != r.data.cfg.DefaultCloud && !state.Cloud.IsNull() {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("cloud"))
		}
		plan.Cloud = types.StringValue(r.data.cfg.DefaultCloud)
		if !plan.AdminEmail.IsUnknown() {
			checkAddressCloud(plan.AdminEmail.ValueString(), plan.Cloud.ValueString(), path.Root("admin_email"), &resp.Diagnostics)
		}
	}
	if plan.Cloud.IsUnknown() || plan.AdminEmail.IsUnknown() {
		return
	}
	cl, ok := r.data.cfg.Cloud(plan.Cloud.ValueString())
	if !ok {
		return
	}
	plan.ID = types.StringValue(connectionID(plan.Cloud.ValueString(), plan.AdminEmail.ValueString()))
	plan.EWSURL = types.StringValue(cl.EWSURL())
	if !plan.PublicFoldersRole.IsUnknown() && !plan.UserManagementRole.IsUnknown() {
		plan.RequiredRoles = stringSet(roles.Names(roles.Required(toggles(plan))))
	} else {
		plan.RequiredRoles = types.SetUnknown(types.StringType)
	}

	if !hasState {
		plan.MissingRoles = stringSet(nil)      // a successful create leaves nothing missing
		plan.AssignedRoles = plan.RequiredRoles // ... and every required role assigned
		plan.EWSStatus = types.StringValue(connection.EWSEnabled)
		r.diagnoseNew(ctx, req, plan, &resp.Diagnostics)
	} else {
		r.planExisting(ctx, req, &plan, state, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.Plan, &plan)...)
}

// planExisting plans an update of state: drift becomes a change when apply can repair it,
// and what a successful apply records is known in the plan wherever it can be.
func (r *targetConnectionResource) planExisting(ctx context.Context, req resource.ModifyPlanRequest, plan *targetConnectionModel, state targetConnectionModel, diags *diag.Diagnostics) {
	// Any attribute a configuration sets, read from the schema: no hand-kept list to go stale.
	changed := !equalAttributes(*plan, state, configurable(req.Plan.Schema.GetAttributes()))
	// Drift is a missing role to repair, unless the refresh found it cannot be repaired.
	// A refresh without a stored secret left the check to this plan, which has the
	// configuration's.
	var drifted bool
	predicted := types.ListUnknown(managedAssignmentType)
	if state.Password.IsNull() && state.AppPassword.IsNull() {
		// The plan's own check: the final plan of the apply checks again, so nothing
		// it found can be promised as a known value.
		_, drifted = r.checkAtPlan(ctx, req, *plan, changed, diags)
	} else {
		drifted = r.diagnoseExisting(ctx, req.Private, state, changed, diags)
		checked, pdiags := refreshChecked(ctx, req.Private)
		diags.Append(pdiags...)
		if checked {
			predicted = predictedManaged(ctx, *plan, state, setStrings(state.MissingRoles))
		}
	}
	if drifted || changed {
		// A successful apply leaves EWS working, but apply cannot reopen it: a plan never
		// proposes `enabled` over a closed EWS (such a plan fails above, or, without a
		// refresh, apply finds out).
		plan.EWSStatus = types.StringUnknown()
		if state.EWSStatus.ValueString() == connection.EWSEnabled {
			plan.EWSStatus = state.EWSStatus
		}
		// A successful apply leaves every required role assigned, and records the
		// assignments it makes: known here wherever they can be (predictedManaged).
		plan.MissingRoles = stringSet(nil)
		plan.AssignedRoles = plan.RequiredRoles
		plan.ManagedRoleAssignments = predicted
		plan.VerifiedAt = types.StringUnknown()
	}
}

// predictedManaged is managed_role_assignments after a successful apply of plan over state,
// whose check found missing: the recorded assignments, less those removed outside Terraform
// (apply forgets them) and those revoke_managed_roles removes, plus one per missing role,
// whose identity apply names (connection.ManagedName). It is unknown where apply's record
// cannot be known at plan time: a state never verified by an apply (an import: apply adopts
// assignments it finds), toggles that change (a newly required role may be held already),
// or a missing directory role (its assignment's id is Graph's).
func predictedManaged(ctx context.Context, plan, state targetConnectionModel, missing []string) types.List {
	unknown := types.ListUnknown(managedAssignmentType)
	if state.VerifiedAt.IsNull() || state.VerifiedAt.IsUnknown() || plan.RequiredRoles.IsUnknown() || !plan.RequiredRoles.Equal(state.RequiredRoles) ||
		plan.RevokeManagedRoles.IsUnknown() || plan.AdminEmail.IsUnknown() {
		return unknown
	}
	held, diags := managedFromState(ctx, state.ManagedRoleAssignments)
	if diags.HasError() || state.ManagedRoleAssignments.IsUnknown() {
		return unknown
	}
	gone := map[string]bool{}
	for _, name := range missing {
		if role, ok := roles.Lookup(name); !ok || role.Kind != roles.ExchangeManagementRole {
			return unknown
		}
		gone[name] = true
	}
	required := map[string]bool{}
	for _, name := range setStrings(plan.RequiredRoles) {
		required[name] = true
	}
	var out []connection.Managed
	for _, m := range held {
		if (m.Kind == roles.ExchangeManagementRole && gone[m.Role]) || (plan.RevokeManagedRoles.ValueBool() && !required[m.Role]) {
			continue
		}
		out = append(out, m)
	}
	for _, name := range missing {
		out = append(out, connection.Managed{Role: name, Kind: roles.ExchangeManagementRole, ID: connection.ManagedName(name, plan.AdminEmail.ValueString())})
	}
	return managedList(out)
}

// uncheckedKey marks, in the private state, a refresh whose check failed (its state is the
// previous one): the state it leaves says nothing about the tenant now, so no plan predicts
// from it. The plan of an apply reads the same private state as the plan it carries out,
// so both predict the same.
const uncheckedKey = "unchecked"

// refreshChecked reports whether the last refresh checked the connection.
func refreshChecked(ctx context.Context, private privateState) (bool, diag.Diagnostics) {
	if private == nil {
		return true, nil
	}
	b, diags := private.GetKey(ctx, uncheckedKey)
	return len(b) == 0, diags
}
