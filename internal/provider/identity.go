package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Resource identity (Terraform 1.12+, OpenTofu 1.12+: `import { to = … identity = { … } }`):
// for each resource the tenant, by its GUID, and the object the resource stands for in it
// (DESIGN.md §8). An identity never changes for the life of a resource: every attribute of it
// forces replacement. It is written by Create, Read, Update and import from values the state
// holds, and only when all of them are known (a tenant domain is resolved to its GUID first).

// targetConnectionIdentity is the identity of o365_target_connection: the admin account.
type targetConnectionIdentity struct {
	Cloud      types.String `tfsdk:"cloud"`
	TenantID   types.String `tfsdk:"tenant_id"`
	AdminEmail types.String `tfsdk:"admin_email"`
}

// appConnectionIdentity is the identity of o365_target_app_connection: the application and
// the connection's name, unique among the application's connections.
type appConnectionIdentity struct {
	TenantID types.String `tfsdk:"tenant_id"`
	ClientID types.String `tfsdk:"client_id"`
	Name     types.String `tfsdk:"name"`
}

// migrationApplicationIdentity is the identity of o365_migration_application: the
// application's client id in the management identity's tenant.
type migrationApplicationIdentity struct {
	TenantID types.String `tfsdk:"tenant_id"`
	ClientID types.String `tfsdk:"client_id"`
}

const identityTenantDescription = "The tenant's ID (a GUID, never a domain)."

func (r *targetConnectionResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"cloud": identityschema.StringAttribute{OptionalForImport: true,
			Description: "The cloud (`worldwide`, `germany`, `usgovernment`, `usgovernment_dod`, `china`); on import, the provider's `cloud` when omitted."},
		"tenant_id": identityschema.StringAttribute{OptionalForImport: true,
			Description: identityTenantDescription + " On import it may be omitted: the admin account's domain names it."},
		"admin_email": identityschema.StringAttribute{RequiredForImport: true,
			Description: "The admin account's address (user principal name), in lower case."},
	}}
}

func (r *targetAppConnectionResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"tenant_id": identityschema.StringAttribute{RequiredForImport: true, Description: identityTenantDescription},
		"client_id": identityschema.StringAttribute{RequiredForImport: true, Description: "The application (client) ID, in lower case."},
		"name":      identityschema.StringAttribute{RequiredForImport: true, Description: "The connection's `name`, unique among the connections of one application."},
	}}
}

func (r *migrationApplicationResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"tenant_id": identityschema.StringAttribute{OptionalForImport: true,
			Description: identityTenantDescription + " On import it may be omitted: it is the tenant of the provider's management identity."},
		"client_id": identityschema.StringAttribute{RequiredForImport: true, Description: "The application (client) ID, in lower case."},
	}}
}

func (m targetConnectionModel) identity() (targetConnectionIdentity, bool) {
	id := targetConnectionIdentity{Cloud: m.Cloud, TenantID: m.TenantID, AdminEmail: lowerString(m.AdminEmail)}
	return id, known(id.Cloud, id.TenantID, id.AdminEmail)
}

func (m targetAppConnectionModel) identity() (appConnectionIdentity, bool) {
	id := appConnectionIdentity{TenantID: m.TenantID, ClientID: lowerString(m.ClientID), Name: m.Name}
	return id, known(id.TenantID, id.ClientID, id.Name)
}

func (m migrationApplicationModel) identity() (migrationApplicationIdentity, bool) {
	id := migrationApplicationIdentity{TenantID: m.TenantID, ClientID: lowerString(m.ClientID)}
	return id, known(id.TenantID, id.ClientID)
}

// writeIdentity writes a resource's identity when all its values are known. When they are
// not, an identity already stored stays (it cannot have changed: its values force
// replacement); without one the tenant could not be resolved, and the operation fails with
// why, since a resource must have an identity after a successful Create, Read or Update.
func writeIdentity[I any](ctx context.Context, to *tfsdk.ResourceIdentity, id I, complete bool, what string, diags *diag.Diagnostics) {
	if to == nil {
		return
	}
	if complete {
		diags.Append(to.Set(ctx, id)...)
		return
	}
	if !to.Raw.IsFullyNull() || diags.HasError() {
		return
	}
	diags.AddError("Tenant not resolved",
		"The tenant ID (GUID) of "+what+" is not known yet, and the resource's identity needs it. "+
			"Check that the tenant's identity platform answers (the provider's `cloud` and `endpoints`), then plan again.")
}

// importIdentity writes the identity an import starts from: complete, or none at all (the
// read that follows the import writes it), never part of one, so that a stored identity is
// always a complete one.
func importIdentity[I any](ctx context.Context, to *tfsdk.ResourceIdentity, id I, complete bool, diags *diag.Diagnostics) {
	if to == nil {
		return
	}
	if complete {
		diags.Append(to.Set(ctx, id)...)
		return
	}
	to.Raw = tftypes.NewValue(to.Schema.Type().TerraformType(ctx), nil)
}

// tenantGUID is the GUID of tenant (a GUID, or a domain resolved through its OpenID
// configuration: one request per tenant and provider process, shared with sign-in), and
// whether it is known.
func (d *providerData) tenantGUID(ctx context.Context, cloudName, tenant string) (string, bool) {
	if guidPattern.MatchString(tenant) {
		return strings.ToLower(tenant), true
	}
	cl, ok := d.cfg.Cloud(cloudName)
	if !ok || tenant == "" {
		return "", false
	}
	tid, err := d.env.TenantID(ctx, cl, tenant)
	if err != nil {
		tflog.Info(ctx, "tenant not resolved", map[string]any{"tenant": tenant, "error": err.Error()})
		return "", false
	}
	return strings.ToLower(tid), true
}

// tenantNotResolved is the error of an import whose tenant did not name its GUID.
func tenantNotResolved(diags *diag.Diagnostics, tenant, fix string) {
	diags.AddError("Tenant not resolved",
		fmt.Sprintf("The tenant %q did not answer with its tenant ID (its OpenID configuration), which the resource's id and identity need. "+
			"Check the domain and the provider's `cloud` and `endpoints`%s.", tenant, fix))
}

// known reports whether every value is known and not null.
func known(vs ...types.String) bool {
	for _, v := range vs {
		if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
			return false
		}
	}
	return true
}

func lowerString(v types.String) types.String {
	if v.IsNull() || v.IsUnknown() {
		return v
	}
	return types.StringValue(strings.ToLower(v.ValueString()))
}
