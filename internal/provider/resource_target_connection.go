package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

var (
	_ resource.ResourceWithConfigure        = (*targetConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*targetConnectionResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*targetConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*targetConnectionResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*targetConnectionResource)(nil)
)

// Default timeouts. Create and update include the wait for new roles to take effect.
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
)

func newTargetConnectionResource() resource.Resource { return &targetConnectionResource{} }

type targetConnectionResource struct {
	data *providerData
}

func (r *targetConnectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_target_connection"
}

func (r *targetConnectionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A target connection of an Office 365 mailbox migration: an Exchange Online admin account whose EWS access and " +
			"impersonation are verified and which holds the management roles the migration needs. Missing roles are assigned " +
			"(optionally by a separate Global Administrator), and every plan checks that nothing has drifted.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "`<cloud>/<admin_email>` in lower case; also the import ID.",
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Display name of the connection. Changing it updates in place.",
				Validators:          []validator.String{nonBlank()},
			},
			"cloud": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Microsoft cloud of the tenant: `worldwide`, `germany`, `usgovernment`, `usgovernment_dod` or `china`. " +
					"Defaults to the provider's `cloud`. Changing it replaces the connection.",
				Validators:    []validator.String{stringvalidator.OneOf(cloud.Names()...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"admin_email": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "User principal name of the Exchange Online admin account the migration uses. Its `*.onmicrosoft.com` " +
					"address is recommended, so a later domain change breaks nothing. Changing it replaces the connection.",
				Validators:    []validator.String{emailAddress()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Password of the admin account. Set exactly one of `password` and `app_password`.",
				Validators:          []validator.String{nonBlank()},
			},
			"app_password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "App password of the admin account, for an account with multi-factor authentication (its normal password would fail).",
				Validators:          []validator.String{nonBlank()},
			},
			"password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "Write-only alternative to `password`: used during apply, never stored in state (Terraform 1.11+ / OpenTofu 1.11+). " +
					"Plans cannot re-verify the connection without a stored secret and say so. Change `password_wo_version` to apply a new value.",
				Validators: []validator.String{nonBlank()},
			},
			"app_password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "Write-only alternative to `app_password`, never stored in state. Change `password_wo_version` to apply a new value.",
				Validators:          []validator.String{nonBlank()},
			},
			"password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; change it to make apply use a new `password_wo` / `app_password_wo` (write-only values never show as a change).",
			},
			"assign_missing_roles": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Assign the required roles the account lacks. When `false`, apply fails listing each missing role and the command an administrator would run. Defaults to `true`.",
			},
			"public_folders_role": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Require (and assign) the optional *Public Folders* role, needed only to migrate public folders. Defaults to `false`.",
			},
			"user_management_role": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Require (and assign) the optional directory role *User Administrator*, needed only to create new users and mailboxes. Defaults to `false`.",
			},
			"global_admin": schema.SingleNestedAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Credentials of a Global Administrator used **only** to assign the roles the admin account cannot assign itself; never for the migration or EWS.",
				Attributes: map[string]schema.Attribute{
					"email":        schema.StringAttribute{Required: true, MarkdownDescription: "User principal name of the Global Administrator.", Validators: []validator.String{emailAddress()}},
					"password":     schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Its password."},
					"app_password": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Its app password, when it has multi-factor authentication."},
				},
			},
			"revoke_managed_roles": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Remove a role assignment **this resource created** when its role is no longer required (a toggle turned off) and on destroy. Assignments that existed before are never touched. Defaults to `false`.",
			},
			"tenant_id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The tenant's GUID.",
			},
			"ews_url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The Exchange Web Services endpoint the connection uses.",
			},
			"required_roles": schema.SetAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The roles this connection needs, given the toggles.",
			},
			"assigned_roles": schema.SetAttribute{
				Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Required roles found assigned at the last check.",
			},
			"missing_roles": schema.SetAttribute{
				Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "`required_roles` minus `assigned_roles`. Empty after a successful apply; a role removed outside Terraform shows here on the next plan, which then proposes to assign it again.",
			},
			"managed_role_assignments": schema.ListNestedAttribute{
				Computed:            true,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "The role assignments this resource created (the only ones `revoke_managed_roles` ever removes).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"role": schema.StringAttribute{Computed: true, MarkdownDescription: "Role name."},
					"kind": schema.StringAttribute{Computed: true, MarkdownDescription: "`exchange_management_role` or `directory_role`."},
					"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "The Exchange assignment's identity, or the directory role assignment's ID."},
				}},
			},
			"verified_at": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "When the last full verification succeeded (RFC 3339). Set by create and update only, so plans stay quiet.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *targetConnectionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("password"), path.MatchRoot("app_password"), path.MatchRoot("password_wo"), path.MatchRoot("app_password_wo")),
	}
}

// ValidateConfig checks what needs more than one attribute at plan time: the address's
// domain against the cloud, and the global administrator's secret.
func (r *targetConnectionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m targetConnectionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
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
		known := func(v types.String) bool { return !v.IsNull() }
		if !ga.Password.IsUnknown() && !ga.AppPassword.IsUnknown() && known(ga.Password) == known(ga.AppPassword) {
			resp.Diagnostics.AddAttributeError(path.Root("global_admin"), "Global administrator needs exactly one secret",
				"Set exactly one of `global_admin.password` and `global_admin.app_password` (the app password when that account has multi-factor authentication).")
		}
		if !ga.Email.IsNull() && !ga.Email.IsUnknown() && !m.Cloud.IsNull() && !m.Cloud.IsUnknown() {
			checkAddressCloud(ga.Email.ValueString(), m.Cloud.ValueString(), path.Root("global_admin").AtName("email"), &resp.Diagnostics)
		}
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

func (r *targetConnectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	d, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T; this is a bug in the provider", req.ProviderData))
		return
	}
	r.data = d
}

// ModifyPlan fills what is known at plan time (cloud, id, ews_url, required_roles) and turns
// drift into a plan: when the last read found missing roles, it plans missing_roles = [] so
// that apply assigns them again.
func (r *targetConnectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or provider not configured yet (validate)
	}
	var plan, config targetConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if config.Cloud.IsNull() {
		if !req.State.Raw.IsNull() {
			var state targetConnectionModel
			resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
			if state.Cloud.ValueString() != r.data.cfg.DefaultCloud && !state.Cloud.IsNull() {
				resp.RequiresReplace = append(resp.RequiresReplace, path.Root("cloud"))
			}
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

	if req.State.Raw.IsNull() {
		plan.MissingRoles = stringSet(nil) // a successful create leaves nothing missing
	} else {
		var state targetConnectionModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		drifted := len(state.MissingRoles.Elements()) > 0
		changed := !configEqual(plan, state)
		if drifted || changed {
			plan.MissingRoles = stringSet(nil)
			plan.AssignedRoles = types.SetUnknown(types.StringType)
			plan.ManagedRoleAssignments = types.ListUnknown(managedAssignmentType)
			plan.VerifiedAt = types.StringUnknown()
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// configEqual reports whether the configurable attributes of plan and state are equal.
func configEqual(a, b targetConnectionModel) bool {
	return a.Name.Equal(b.Name) && a.Cloud.Equal(b.Cloud) && a.AdminEmail.Equal(b.AdminEmail) &&
		a.Password.Equal(b.Password) && a.AppPassword.Equal(b.AppPassword) && a.PasswordWOVersion.Equal(b.PasswordWOVersion) &&
		a.AssignMissingRoles.Equal(b.AssignMissingRoles) && a.PublicFoldersRole.Equal(b.PublicFoldersRole) &&
		a.UserManagementRole.Equal(b.UserManagementRole) && a.GlobalAdmin.Equal(b.GlobalAdmin) &&
		a.RevokeManagedRoles.Equal(b.RevokeManagedRoles)
}

func toggles(m targetConnectionModel) roles.Toggles {
	return roles.Toggles{PublicFolders: m.PublicFoldersRole.ValueBool(), UserManagement: m.UserManagementRole.ValueBool()}
}

func connectionID(cloudName, email string) string {
	return strings.ToLower(cloudName + "/" + email)
}

func (r *targetConnectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan targetConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(writeOnlyFromConfig(ctx, req.Config, &plan)...)
	spec, diags := r.spec(ctx, plan, r.data.takeOver(plan.ID.ValueString()))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.masked(ctx, spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tflog.Info(ctx, "verifying target connection", map[string]any{"admin_email": spec.Admin.Username, "cloud": plan.Cloud.ValueString()})
	res, err := r.data.env.Ensure(ctx, spec)
	if err != nil {
		addConnectionError(&resp.Diagnostics, err, "")
		if res == nil || len(res.Managed) == 0 {
			return // nothing was done: no state
		}
		// Some roles were assigned before the failure: record them (Terraform marks the
		// resource tainted), so nothing is lost and the next apply finishes the job.
		resp.Diagnostics.Append(resp.State.Set(ctx, r.stateAfter(plan, res, false))...)
		return
	}
	logResult(ctx, res)
	resp.Diagnostics.Append(resp.State.Set(ctx, r.stateAfter(plan, res, true))...)
}

func (r *targetConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state targetConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	managed, diags := managedFromState(ctx, state.ManagedRoleAssignments)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(writeOnlyFromConfig(ctx, req.Config, &plan)...)
	spec, diags := r.spec(ctx, plan, managed)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.masked(ctx, spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res, err := r.data.env.Ensure(ctx, spec)
	if err != nil {
		addConnectionError(&resp.Diagnostics, err, "")
		// Keep the prior state, with the assignments as they really are now.
		if res != nil {
			state.ManagedRoleAssignments = managedList(res.Managed)
			if res.Status != nil {
				setRoleSets(&state, res.Status)
			}
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	logResult(ctx, res)
	resp.Diagnostics.Append(resp.State.Set(ctx, r.stateAfter(plan, res, true))...)
}

// Read is the drift check of every plan.
func (r *targetConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state targetConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Password.IsNull() && state.AppPassword.IsNull() {
		// Imported, or write-only credentials: no secret in state. The next apply verifies
		// with the configured one.
		why := "it was imported"
		if !state.PasswordWOVersion.IsNull() || !state.VerifiedAt.IsNull() {
			why = "its credentials are write-only"
		}
		resp.Diagnostics.AddWarning("Connection not re-verified",
			"The state holds no password or app password for "+state.AdminEmail.ValueString()+" ("+why+"), so this plan could not check its roles and EWS access. The next apply verifies them with the configured secret.")
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
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	spec, diags := r.spec(ctx, state, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.masked(ctx, spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	st, err := r.data.env.Check(ctx, spec)
	if err != nil {
		if ce, ok := connection.AsError(err); ok {
			switch ce.Problem {
			case connection.ProblemAccountGone:
				resp.Diagnostics.AddWarning("Admin account no longer exists",
					ce.Detail+" The connection is removed from state; the plan proposes to create it again.")
				resp.State.RemoveResource(ctx)
				return
			case connection.ProblemCredentials, connection.ProblemTenant:
				// Never block the plan that fixes the credentials: warn and keep the state.
				addConnectionError(&resp.Diagnostics, err, "Drift check skipped: ")
				return
			}
		}
		addConnectionError(&resp.Diagnostics, err, "")
		return
	}
	if st.EWSProblem != nil {
		addConnectionError(&resp.Diagnostics, st.EWSProblem, "Drift check: ")
	}
	if st.TenantID != "" {
		state.TenantID = types.StringValue(st.TenantID)
	}
	r.fillKnown(&state)
	setRoleSets(&state, st)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *targetConnectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state targetConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
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
		r.data.handOver(state.ID.ValueString(), managed)
		return
	}
	if state.Password.IsNull() && state.AppPassword.IsNull() {
		resp.Diagnostics.AddWarning("Role assignments not revoked",
			"Write-only credentials are not available when destroying, so the assignments this connection created were left in place: "+managedSummary(managed)+
				". Remove them by hand (Remove-ManagementRoleAssignment), or use `password`/`app_password` with `revoke_managed_roles`.")
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	spec, diags := r.spec(ctx, state, managed)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.masked(ctx, spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	left, err := r.data.env.Revoke(ctx, spec)
	if err != nil {
		addConnectionError(&resp.Diagnostics, err, "")
		// Keep the resource with the assignments still in place.
		state.ManagedRoleAssignments = managedList(left)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	tflog.Info(ctx, "revoked managed role assignments", map[string]any{"count": len(managed)})
}

func (r *targetConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cloudName, email, ok := strings.Cut(req.ID, "/")
	if _, known := cloud.Lookup(cloudName); !ok || !known || !strings.Contains(email, "@") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected <cloud>/<admin_email>, e.g. worldwide/admin@contoso.onmicrosoft.com, where cloud is one of %v; got %q.", cloud.Names(), req.ID))
		return
	}
	m := targetConnectionModel{
		ID:                     types.StringValue(connectionID(cloudName, email)),
		Name:                   types.StringNull(),
		Cloud:                  types.StringValue(cloudName),
		AdminEmail:             types.StringValue(strings.ToLower(email)),
		Password:               types.StringNull(),
		AppPassword:            types.StringNull(),
		PasswordWO:             types.StringNull(),
		AppPasswordWO:          types.StringNull(),
		PasswordWOVersion:      types.Int64Null(),
		AssignMissingRoles:     types.BoolValue(true),
		PublicFoldersRole:      types.BoolValue(false),
		UserManagementRole:     types.BoolValue(false),
		GlobalAdmin:            types.ObjectNull(globalAdminAttrTypes),
		RevokeManagedRoles:     types.BoolValue(false),
		Timeouts:               timeouts.Value{Object: types.ObjectNull(timeoutsAttrTypes)},
		TenantID:               types.StringNull(),
		RequiredRoles:          types.SetNull(types.StringType),
		AssignedRoles:          types.SetNull(types.StringType),
		MissingRoles:           types.SetNull(types.StringType),
		ManagedRoleAssignments: types.ListValueMust(managedAssignmentType, nil),
		VerifiedAt:             types.StringNull(),
	}
	r.fillKnown(&m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// fillKnown sets what follows from the configuration alone.
func (r *targetConnectionResource) fillKnown(m *targetConnectionModel) {
	if r.data != nil {
		if cl, ok := r.data.cfg.Cloud(m.Cloud.ValueString()); ok {
			m.EWSURL = types.StringValue(cl.EWSURL())
		}
	}
	m.RequiredRoles = stringSet(roles.Names(roles.Required(toggles(*m))))
}

// spec translates the model into what the connection logic needs.
func (r *targetConnectionResource) spec(ctx context.Context, m targetConnectionModel, managed []connection.Managed) (connection.Spec, diag.Diagnostics) {
	var diags diag.Diagnostics
	if r.data == nil {
		diags.AddError("Provider not configured", "The o365 provider was not configured; this is a bug in the provider.")
		return connection.Spec{}, diags
	}
	cl, ok := r.data.cfg.Cloud(m.Cloud.ValueString())
	if !ok {
		diags.AddAttributeError(path.Root("cloud"), "Unknown cloud", fmt.Sprintf("Cloud %q is not one of %v.", m.Cloud.ValueString(), cloud.Names()))
		return connection.Spec{}, diags
	}
	spec := connection.Spec{
		Cloud:         cl,
		Admin:         adminCredential(m),
		Toggles:       toggles(m),
		AssignMissing: m.AssignMissingRoles.ValueBool(),
		RevokeManaged: m.RevokeManagedRoles.ValueBool(),
		Managed:       managed,
	}
	if !m.GlobalAdmin.IsNull() && !m.GlobalAdmin.IsUnknown() {
		var ga globalAdminModel
		diags.Append(m.GlobalAdmin.As(ctx, &ga, objectAsOptions)...)
		c := credential(ga.Email, ga.Password, ga.AppPassword)
		spec.GlobalAdmin = &c
	}
	return spec, diags
}

// writeOnlyFromConfig copies the write-only secrets, which exist only in configuration,
// into the model used for this apply (they are never written to state).
func writeOnlyFromConfig(ctx context.Context, config tfsdk.Config, m *targetConnectionModel) diag.Diagnostics {
	var diags diag.Diagnostics
	var pw, apw types.String
	diags.Append(config.GetAttribute(ctx, path.Root("password_wo"), &pw)...)
	diags.Append(config.GetAttribute(ctx, path.Root("app_password_wo"), &apw)...)
	m.PasswordWO, m.AppPasswordWO = pw, apw
	return diags
}

func managedSummary(ms []connection.Managed) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s (%s)", m.Role, m.ID))
	}
	return strings.Join(parts, ", ")
}

func adminCredential(m targetConnectionModel) connection.Credential {
	switch {
	case !m.PasswordWO.IsNull() && m.PasswordWO.ValueString() != "":
		return credential(m.AdminEmail, m.PasswordWO, types.StringNull())
	case !m.AppPasswordWO.IsNull() && m.AppPasswordWO.ValueString() != "":
		return credential(m.AdminEmail, types.StringNull(), m.AppPasswordWO)
	}
	return credential(m.AdminEmail, m.Password, m.AppPassword)
}

func credential(email, password, appPassword types.String) connection.Credential {
	if !appPassword.IsNull() && appPassword.ValueString() != "" {
		return connection.Credential{Username: email.ValueString(), Secret: appPassword.ValueString(), AppPassword: true}
	}
	return connection.Credential{Username: email.ValueString(), Secret: password.ValueString()}
}

// masked returns a context whose log lines never show the connection's secrets.
func (r *targetConnectionResource) masked(ctx context.Context, spec connection.Spec) context.Context {
	secrets := []string{spec.Admin.Secret}
	if spec.GlobalAdmin != nil {
		secrets = append(secrets, spec.GlobalAdmin.Secret)
	}
	var nonEmpty []string
	for _, s := range secrets {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, nonEmpty...)
	ctx = tflog.MaskMessageStrings(ctx, nonEmpty...)
	return tflog.MaskFieldValuesWithFieldKeys(ctx, "password", "app_password", "secret", "token", "access_token", "refresh_token", "Authorization")
}

func (r *targetConnectionResource) stateAfter(plan targetConnectionModel, res *connection.Result, verified bool) *targetConnectionModel {
	s := plan
	s.PasswordWO, s.AppPasswordWO = types.StringNull(), types.StringNull() // never stored
	if res.Status != nil {
		if res.Status.TenantID != "" {
			s.TenantID = types.StringValue(res.Status.TenantID)
		}
		setRoleSets(&s, res.Status)
	}
	if s.TenantID.IsUnknown() {
		s.TenantID = types.StringNull()
	}
	if s.AssignedRoles.IsUnknown() {
		s.AssignedRoles = stringSet(nil)
	}
	if s.MissingRoles.IsUnknown() {
		s.MissingRoles = s.RequiredRoles
	}
	s.ManagedRoleAssignments = managedList(res.Managed)
	if verified {
		s.VerifiedAt = types.StringValue(r.data.env.Now().UTC().Format(time.RFC3339))
	} else if s.VerifiedAt.IsUnknown() {
		s.VerifiedAt = types.StringNull()
	}
	return &s
}

func setRoleSets(m *targetConnectionModel, st *connection.Status) {
	m.RequiredRoles = stringSet(st.Required)
	m.AssignedRoles = stringSet(st.Assigned)
	m.MissingRoles = stringSet(st.Missing)
}

func managedList(ms []connection.Managed) types.List {
	sorted := append([]connection.Managed(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Role < sorted[j].Role })
	vals := make([]attr.Value, 0, len(sorted))
	for _, m := range sorted {
		vals = append(vals, types.ObjectValueMust(managedAssignmentType.AttrTypes, map[string]attr.Value{
			"role": types.StringValue(m.Role),
			"kind": types.StringValue(string(m.Kind)),
			"id":   types.StringValue(m.ID),
		}))
	}
	return types.ListValueMust(managedAssignmentType, vals)
}

func managedFromState(ctx context.Context, l types.List) ([]connection.Managed, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var items []struct {
		Role types.String `tfsdk:"role"`
		Kind types.String `tfsdk:"kind"`
		ID   types.String `tfsdk:"id"`
	}
	diags := l.ElementsAs(ctx, &items, false)
	out := make([]connection.Managed, 0, len(items))
	for _, it := range items {
		out = append(out, connection.Managed{Role: it.Role.ValueString(), Kind: roles.Kind(it.Kind.ValueString()), ID: it.ID.ValueString()})
	}
	return out, diags
}

func logResult(ctx context.Context, res *connection.Result) {
	tflog.Info(ctx, "target connection verified", map[string]any{
		"assigned": strings.Join(res.Assigned, ", "), "revoked": strings.Join(res.Revoked, ", "), "assigned_by": res.AssignedBy,
	})
}

// addConnectionError turns a connection error into a diagnostic on the attribute to fix.
// Credential problems found by a drift check are warnings (prefix non-empty).
func addConnectionError(diags *diag.Diagnostics, err error, warnPrefix string) {
	ce, ok := connection.AsError(err)
	if !ok {
		if warnPrefix != "" {
			diags.AddWarning(warnPrefix+"unexpected error", err.Error())
		} else {
			diags.AddError("Target connection failed", err.Error())
		}
		return
	}
	at := path.Empty()
	switch ce.Problem {
	case connection.ProblemCredentials:
		at = path.Root("password")
		if ce.AppPassword {
			at = path.Root("app_password")
		}
		if ce.Account == "global_admin" {
			at = path.Root("global_admin")
		}
	case connection.ProblemAccountGone, connection.ProblemTenant:
		at = path.Root("admin_email")
		if ce.Account == "global_admin" {
			at = path.Root("global_admin").AtName("email")
		}
	case connection.ProblemMissingRoles:
		at = path.Root("assign_missing_roles")
	case connection.ProblemCannotAssign:
		at = path.Root("global_admin")
	}
	if warnPrefix != "" {
		diags.AddAttributeWarning(at, warnPrefix+ce.Summary, ce.Detail)
		return
	}
	if at.Equal(path.Empty()) {
		diags.AddError(ce.Summary, ce.Detail)
		return
	}
	diags.AddAttributeError(at, ce.Summary, ce.Detail)
}
