package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
)

var _ resource.ResourceWithIdentity = (*targetConnectionResource)(nil)

// ImportState reads the id `<cloud>/<admin_email>` or the identity (admin_email, and
// optionally cloud and tenant_id). Both give the same state. Secrets and the name live only
// in configuration, so the state starts from what the id or identity says, the schema's
// defaults and what follows from them, the tenant's GUID resolved here (the identity needs
// it); the first apply verifies.
func (r *targetConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var cloudName, email string
	tenantID := types.StringNull()
	if req.ID != "" {
		var ok bool
		cloudName, email, ok = strings.Cut(req.ID, "/")
		if _, known := cloud.Lookup(cloudName); !ok || !known || !strings.Contains(email, "@") {
			resp.Diagnostics.AddError("Invalid import ID",
				fmt.Sprintf("Expected <cloud>/<admin_email>, e.g. worldwide/admin@contoso.onmicrosoft.com, where cloud is one of %v; got %q.", cloud.Names(), req.ID))
			return
		}
	} else {
		var id targetConnectionIdentity
		if resp.Diagnostics.Append(req.Identity.Get(ctx, &id)...); resp.Diagnostics.HasError() {
			return
		}
		cloudName, email = id.Cloud.ValueString(), id.AdminEmail.ValueString()
		if cloudName == "" && r.data != nil {
			cloudName = r.data.cfg.DefaultCloud
		}
		_, knownCloud := cloud.Lookup(cloudName)
		badTenant := !id.TenantID.IsNull() && !guidPattern.MatchString(id.TenantID.ValueString())
		if !knownCloud || !strings.Contains(email, "@") || badTenant {
			resp.Diagnostics.AddError("Invalid import identity",
				fmt.Sprintf("Expected identity = { admin_email = <the admin account's address>, cloud = <one of %v, optional>, tenant_id = <the tenant's ID, a GUID, optional> }; got admin_email %q, cloud %q, tenant_id %q.",
					cloud.Names(), email, cloudName, id.TenantID.ValueString()))
			return
		}
		if !id.TenantID.IsNull() {
			tenantID = types.StringValue(strings.ToLower(id.TenantID.ValueString()))
		}
	}
	if tenantID.IsNull() && r.data != nil {
		// The tenant's GUID needs no secret: the account's domain names it.
		domain := email[strings.LastIndexByte(email, '@')+1:]
		tid, resolved := r.data.tenantGUID(ctx, cloudName, domain)
		if !resolved {
			tenantNotResolved(&resp.Diagnostics, domain, ", or give the identity's tenant_id")
			return
		}
		tenantID = types.StringValue(tid)
	}
	resp.Diagnostics.Append(importedState(ctx, &resp.State, map[string]attr.Value{
		"id":          types.StringValue(connectionID(cloudName, email)),
		"cloud":       types.StringValue(cloudName),
		"admin_email": types.StringValue(strings.ToLower(email)),
		"tenant_id":   tenantID,
		// Nothing was created by this resource (yet).
		"managed_role_assignments": types.ListValueMust(managedAssignmentType, nil),
	})...)
	var m targetConnectionModel
	resp.Diagnostics.Append(resp.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.fillKnown(&m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	id, complete := m.identity()
	importIdentity(ctx, resp.Identity, id, complete, &resp.Diagnostics)
}
