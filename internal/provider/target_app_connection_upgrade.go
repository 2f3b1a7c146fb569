package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// The state versions of o365_target_app_connection:
//
//	0  id `<tenant>/<client_id>`, the tenant as configured (a GUID or a domain), shared by
//	   every connection of one application
//	1  id `<tenant id>/<client_id>/<name>` (appConnectionID): one per connection, the tenant
//	   always by its GUID; `name` forces replacement
//
// The attributes did not change, so version 0 is read with today's schema.
const appConnectionSchemaVersion = 1

var _ resource.ResourceWithUpgradeState = (*targetAppConnectionResource)(nil)

func (r *targetAppConnectionResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	var current resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &current)
	v0 := current.Schema
	v0.Version = 0
	return map[int64]resource.StateUpgrader{
		0: {PriorSchema: &v0, StateUpgrader: upgradeAppConnectionV0},
	}
}

// upgradeAppConnectionV0 rewrites the id where the state holds the tenant's GUID (every
// state an apply or a refresh wrote); a state without it (imported with a domain and never
// refreshed) keeps its id until the next refresh resolves the tenant (resolveTenant).
func upgradeAppConnectionV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	var m targetAppConnectionModel
	if !decode(ctx, req.State, &m, &resp.Diagnostics) {
		return
	}
	m.setID()
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
