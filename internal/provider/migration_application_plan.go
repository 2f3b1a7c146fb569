package provider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Plan-time validation and planning of o365_migration_application (DESIGN.md §7.2).

// ValidateConfig checks what the configuration alone tells: the protocol's consequences and
// the certificate.
func (r *migrationApplicationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m migrationApplicationModel
	if !decode(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if protocol, known := configuredProtocol(m.Protocol); known {
		if !m.PublicFolders.IsUnknown() && m.PublicFolders.ValueBool() {
			checkPublicFoldersProtocol(protocol, path.Root("public_folders"), &resp.Diagnostics)
		}
		if !m.ReadTargetItems.IsUnknown() && m.ReadTargetItems.ValueBool() {
			checkReadItemsProtocol(protocol, path.Root("read_target_items"), &resp.Diagnostics)
		}
	}
	validateSecretRotation(m, &resp.Diagnostics)
	if !m.Certificate.IsNull() && !m.Certificate.IsUnknown() {
		checkPublicCertificate(m.Certificate.ValueString(), time.Now(), &resp.Diagnostics)
	}
}

// ModifyPlan plans the computed sets (the permissions follow from the settings, and after an
// apply nothing is missing, so drift shows as a change), keeps the secret while it is kept,
// and checks the credentials' expiry.
func (r *migrationApplicationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if r.data != nil && r.data.cfg.Management == nil {
		resp.Diagnostics.AddError("No management identity", noManagementDetail)
		return
	}
	var plan migrationApplicationModel
	if !decode(ctx, req.Plan, &plan, &resp.Diagnostics) {
		return
	}
	if !plan.Certificate.IsNull() && !plan.Certificate.IsUnknown() && rejectPrivateKey(path.Root("certificate"), plan.Certificate.ValueString(), &resp.Diagnostics) {
		return // known only now (not at validation): the plan must not show it
	}
	r.data.warnEWSEnd(&resp.Diagnostics, plan.Protocol.ValueString())
	if protocol, known := configuredProtocol(plan.Protocol); known && r.data != nil {
		if checkGraphImportCloud(protocol, r.data.cfg.DefaultCloud, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	var state *migrationApplicationModel
	if !req.State.Raw.IsNull() {
		var s migrationApplicationModel
		if !decode(ctx, req.State, &s, &resp.Diagnostics) {
			return
		}
		state = &s
	}
	if state == nil {
		plan.Adopted = types.BoolValue(false) // created, not adopted
	}
	planCredentials(&plan, state, planTime(ctx, req.Private), &resp.Diagnostics)
	if !plan.Protocol.IsUnknown() && !plan.UserManagement.IsUnknown() && !plan.PublicFolders.IsUnknown() && !plan.ReadTargetItems.IsUnknown() && !plan.MailboxScope.IsUnknown() {
		required := stringSet(roles.GrantStrings(roles.Grants(appOptions(plan))))
		r.data.checkManagementRoles(ctx, managementNeeds(plan, state, required), &resp.Diagnostics)
		plan.RequiredPermissions, plan.GrantedPermissions, plan.MissingPermissions = required, required, stringSet(nil)
		r.noteRegrants(state)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// planCredentials plans the client secret (migration_application_secret.go) and the
// credentials' expiry, known (and checked) only while both credentials are kept.
func planCredentials(plan, state *migrationApplicationModel, now time.Time, diags *diag.Diagnostics) {
	keepSecret := planSecret(plan, state, now, diags)
	certKept := state != nil && state.Certificate.Equal(plan.Certificate)
	secretKept := keepSecret || (state != nil && state.ClientSecret.IsNull() && plan.ClientSecret.IsNull())
	if state != nil && certKept && secretKept {
		plan.CredentialExpiresAt = state.CredentialExpiresAt
		checkExpiry(state.CredentialExpiresAt, diags)
	} else {
		plan.CredentialExpiresAt = types.StringUnknown()
	}
}

// noteRegrants tells the provider process which permissions this plan grants again (the
// state's missing ones), so that the connections of the application do not also warn of them.
func (r *migrationApplicationResource) noteRegrants(state *migrationApplicationModel) {
	if r.data == nil || state == nil || state.ClientID.IsNull() || state.TenantID.IsNull() {
		return
	}
	var missing []string
	for _, v := range state.MissingPermissions.Elements() {
		if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			missing = append(missing, s.ValueString())
		}
	}
	if len(missing) > 0 {
		r.data.regrants.add(strings.ToLower(state.TenantID.ValueString()+"/"+state.ClientID.ValueString()), missing)
	}
}
