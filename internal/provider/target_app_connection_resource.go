package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// o365_target_app_connection (DESIGN.md §7.3), split by job like o365_target_connection:
//
//	target_app_connection_resource.go  the type, model, Metadata, Configure
//	target_app_connection_schema.go    Schema
//	target_app_connection_plan.go      plan-time validation and ModifyPlan
//	target_app_connection_crud.go      Create, Read, Update, Delete, ImportState
//	target_app_connection_spec.go      model → connection.AppSpec, status → state
//	target_app_connection_errors.go    the resource's wording of connection errors
//
// It is built on resource_core.go (timeouts → spec → mask → call; what a configuration
// sets, and the state an import starts from, derived from the schema).

var (
	_ resource.ResourceWithConfigure        = (*targetAppConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*targetAppConnectionResource)(nil)
	_ resource.ResourceWithIdentity         = (*targetAppConnectionResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*targetAppConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*targetAppConnectionResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*targetAppConnectionResource)(nil)
)

// Default timeouts: a verification is a token and one request per mailbox.
const (
	defaultAppWriteTimeout = 10 * time.Minute
	defaultAppReadTimeout  = 5 * time.Minute
)

func newTargetAppConnectionResource() resource.Resource { return &targetAppConnectionResource{} }

type targetAppConnectionResource struct {
	data *providerData
}

// targetAppConnectionModel is the state and plan of o365_target_app_connection.
type targetAppConnectionModel struct {
	ID                        types.String   `tfsdk:"id"`
	Name                      types.String   `tfsdk:"name"`
	Cloud                     types.String   `tfsdk:"cloud"`
	Tenant                    types.String   `tfsdk:"tenant"`
	ClientID                  types.String   `tfsdk:"client_id"`
	ClientSecret              types.String   `tfsdk:"client_secret"`
	ClientCertificate         types.String   `tfsdk:"client_certificate"`
	ClientCertificatePassword types.String   `tfsdk:"client_certificate_password"`
	ClientSecretWO            types.String   `tfsdk:"client_secret_wo"`
	ClientCertificateWO       types.String   `tfsdk:"client_certificate_wo"`
	CredentialWOVersion       types.Int64    `tfsdk:"credential_wo_version"`
	Protocol                  types.String   `tfsdk:"protocol"`
	VerifyMailboxes           types.Set      `tfsdk:"verify_mailboxes"`
	Timeouts                  timeouts.Value `tfsdk:"timeouts"`
	TenantID                  types.String   `tfsdk:"tenant_id"`
	GrantedPermissions        types.Set      `tfsdk:"granted_permissions"`
	MissingPermissions        types.Set      `tfsdk:"missing_permissions"`
	UnreachableMailboxes      types.Set      `tfsdk:"unreachable_mailboxes"`
	PendingMailboxes          types.Set      `tfsdk:"pending_mailboxes"`
	EWSStatus                 types.String   `tfsdk:"ews_status"`
	CredentialExpiresAt       types.String   `tfsdk:"credential_expires_at"`
	VerifiedAt                types.String   `tfsdk:"verified_at"`
}

func (r *targetAppConnectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_target_app_connection"
}

func (r *targetAppConnectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
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
