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

// ImportState reads `<cloud>/<admin_email>`. Secrets and the name live only in
// configuration, so the state starts from what the ID says, the schema's defaults and what
// follows from them; the first plan resolves the tenant, the first apply verifies.
func (r *targetConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cloudName, email, ok := strings.Cut(req.ID, "/")
	if _, known := cloud.Lookup(cloudName); !ok || !known || !strings.Contains(email, "@") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected <cloud>/<admin_email>, e.g. worldwide/admin@contoso.onmicrosoft.com, where cloud is one of %v; got %q.", cloud.Names(), req.ID))
		return
	}
	resp.Diagnostics.Append(importedState(ctx, &resp.State, map[string]attr.Value{
		"id":          types.StringValue(connectionID(cloudName, email)),
		"cloud":       types.StringValue(cloudName),
		"admin_email": types.StringValue(strings.ToLower(email)),
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
}
