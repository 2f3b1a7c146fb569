package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// writeIdentity writes a complete identity, keeps a stored one when the values are not all
// known, and fails without one; importIdentity never stores part of one.
func TestWriteIdentity(t *testing.T) {
	ctx := context.Background()
	var schemaResp resource.IdentitySchemaResponse
	(&targetAppConnectionResource{}).IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &schemaResp)
	empty := func() *tfsdk.ResourceIdentity {
		return &tfsdk.ResourceIdentity{Schema: schemaResp.IdentitySchema,
			Raw: tftypes.NewValue(schemaResp.IdentitySchema.Type().TerraformType(ctx), nil)}
	}
	full := targetAppConnectionModel{TenantID: types.StringValue("3b2a1c0d-1111-4222-8333-944445555666"),
		ClientID: types.StringValue("5951643E-5013-442F-963C-1EE875BBE74A"), Name: types.StringValue("Target")}
	partial := full
	partial.TenantID = types.StringNull()

	got := func(ident *tfsdk.ResourceIdentity) appConnectionIdentity {
		var id appConnectionIdentity
		if d := ident.Get(ctx, &id); d.HasError() {
			t.Fatal(d)
		}
		return id
	}

	// Complete: written, the client id in lower case.
	ident := empty()
	var diags diag.Diagnostics
	id, complete := full.identity()
	writeIdentity(ctx, ident, id, complete, "x", &diags)
	if diags.HasError() || got(ident).ClientID.ValueString() != "5951643e-5013-442f-963c-1ee875bbe74a" || got(ident).Name.ValueString() != "Target" {
		t.Fatalf("complete identity: %v %v", got(ident), diags)
	}
	// Not complete, one stored: kept.
	id, complete = partial.identity()
	writeIdentity(ctx, ident, id, complete, "x", &diags)
	if diags.HasError() || got(ident).TenantID.ValueString() != "3b2a1c0d-1111-4222-8333-944445555666" {
		t.Fatalf("stored identity not kept: %v %v", got(ident), diags)
	}
	// Not complete, none stored: an error saying why.
	ident = empty()
	writeIdentity(ctx, ident, id, complete, "the connection's tenant contoso.example", &diags)
	if !diags.HasError() || diags[0].Summary() != "Tenant not resolved" || !ident.Raw.IsNull() {
		t.Fatalf("want the error Tenant not resolved and no identity, got %v, %v", diags, ident.Raw)
	}
	// An import never stores part of one.
	ident = empty()
	_ = ident.SetAttribute(ctx, path.Root("name"), "Target")
	diags = nil
	importIdentity(ctx, ident, id, complete, &diags)
	if diags.HasError() || !ident.Raw.IsNull() {
		t.Fatalf("import stored a partial identity: %v", ident.Raw)
	}
}
