package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// o365_migration_application (DESIGN.md §7.2), split by job like o365_target_connection:
//
//	migration_application_resource.go  the type, model, Metadata, Configure
//	migration_application_schema.go    Schema
//	migration_application_plan.go      plan-time validation and ModifyPlan
//	migration_application_crud.go      Create, Read, Update, Delete, ImportState
//	migration_application_spec.go      model ↔ connection.RegistrationSpec / Registration
//	migration_application_secret.go    the client secret's renewal, rotation and overlap
//	migration_application_errors.go    the resource's wording of registration errors

var (
	_ resource.ResourceWithConfigure      = (*migrationApplicationResource)(nil)
	_ resource.ResourceWithImportState    = (*migrationApplicationResource)(nil)
	_ resource.ResourceWithIdentity       = (*migrationApplicationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*migrationApplicationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*migrationApplicationResource)(nil)
)

// Default timeouts of a registration: a handful of calls each, with retries.
const (
	defaultRegistrationCreateTimeout = 15 * time.Minute
	defaultRegistrationUpdateTimeout = 15 * time.Minute
	defaultRegistrationReadTimeout   = 5 * time.Minute
	defaultRegistrationDeleteTimeout = 10 * time.Minute
)

// defaultSecretLifetimeDays is client_secret_lifetime_days' default (DESIGN.md §7.2).
const defaultSecretLifetimeDays = 180

func newMigrationApplicationResource() resource.Resource { return &migrationApplicationResource{} }

type migrationApplicationResource struct {
	data *providerData
}

type migrationApplicationModel struct {
	ID                       types.String `tfsdk:"id"`
	DisplayName              types.String `tfsdk:"display_name"`
	Protocol                 types.String `tfsdk:"protocol"`
	PublicFolders            types.Bool   `tfsdk:"public_folders"`
	UserManagement           types.Bool   `tfsdk:"user_management"`
	ReadTargetItems          types.Bool   `tfsdk:"read_target_items"`
	MailboxScope             types.Object `tfsdk:"mailbox_scope"`
	Certificate              types.String `tfsdk:"certificate"`
	CreateClientSecret       types.Bool   `tfsdk:"create_client_secret"`
	ClientSecretLifetimeDays types.Int64  `tfsdk:"client_secret_lifetime_days"`
	ClientSecret             types.String `tfsdk:"client_secret"`
	// The secret's rotation (migration_application_secret.go).
	ClientSecretRotateBeforeDays    types.Int64    `tfsdk:"client_secret_rotate_before_days"`
	ClientSecretOverlapDays         types.Int64    `tfsdk:"client_secret_overlap_days"`
	ClientSecretKeyID               types.String   `tfsdk:"client_secret_key_id"`
	ClientSecretExpiresAt           types.String   `tfsdk:"client_secret_expires_at"`
	RetiringClientSecretKeyID       types.String   `tfsdk:"retiring_client_secret_key_id"`
	RetiringClientSecretExpiresAt   types.String   `tfsdk:"retiring_client_secret_expires_at"`
	RetiringClientSecretRemoveAfter types.String   `tfsdk:"retiring_client_secret_remove_after"`
	ClientID                        types.String   `tfsdk:"client_id"`
	ObjectID                        types.String   `tfsdk:"object_id"`
	ServicePrincipalID              types.String   `tfsdk:"service_principal_id"`
	TenantID                        types.String   `tfsdk:"tenant_id"`
	RequiredPermissions             types.Set      `tfsdk:"required_permissions"`
	GrantedPermissions              types.Set      `tfsdk:"granted_permissions"`
	MissingPermissions              types.Set      `tfsdk:"missing_permissions"`
	CredentialExpiresAt             types.String   `tfsdk:"credential_expires_at"`
	Adopted                         types.Bool     `tfsdk:"adopted"`
	Timeouts                        timeouts.Value `tfsdk:"timeouts"`
}

// mailboxScopeTypes are the attributes of `mailbox_scope`.
var mailboxScopeTypes = map[string]attr.Type{"recipient_filter": types.StringType}

// recipientFilterOf is the recipient filter of a mailbox_scope value; ok is false when there is no
// (known) scope.
func recipientFilterOf(o types.Object) (filter string, ok bool) {
	if o.IsNull() || o.IsUnknown() {
		return "", false
	}
	f, isString := o.Attributes()["recipient_filter"].(types.String)
	if !isString {
		return "", false
	}
	return f.ValueString(), true
}

func scopeValue(filter string) types.Object {
	return types.ObjectValueMust(mailboxScopeTypes, map[string]attr.Value{"recipient_filter": types.StringValue(filter)})
}

func (r *migrationApplicationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_migration_application"
}

func (r *migrationApplicationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
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
