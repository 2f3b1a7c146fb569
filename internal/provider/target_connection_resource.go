package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// o365_target_connection, split by job:
//
//	target_connection_resource.go  the type, Metadata, Configure
//	target_connection_schema.go    Schema
//	target_connection_plan.go      plan-time validation and ModifyPlan
//	target_connection_crud.go      Create, Read, Update, Delete
//	target_connection_import.go    ImportState
//	target_connection_spec.go      model → connection.Spec
//	target_connection_state.go     connection.Result/Status → state
//	target_connection_errors.go    the resource's wording of connection errors
//
// The core every resource that calls Microsoft shares (timeouts → spec → mask → call, and
// what is derived from model and schema) is in resource_core.go; the model in models.go.

var (
	_ resource.ResourceWithConfigure      = (*targetConnectionResource)(nil)
	_ resource.ResourceWithImportState    = (*targetConnectionResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*targetConnectionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*targetConnectionResource)(nil)
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
