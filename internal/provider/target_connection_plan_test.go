package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// checkOneSecret gives exactly the diagnostics of the framework validator it stands for, for
// every combination of unset, unknown and set secrets.
func TestCheckOneSecret_asTheFrameworkValidator(t *testing.T) {
	ctx := context.Background()
	s := targetConnectionSchema(t).Schema
	typ := objectType(t, s.Type().TerraformType(ctx))
	states := []any{nil, tftypes.UnknownValue, "secret"}
	for combo := range 81 {
		set := map[string]tftypes.Value{"admin_email": tftypes.NewValue(tftypes.String, "admin@contoso.onmicrosoft.com")}
		c := combo
		for _, name := range secretAttributes {
			set[name] = tftypes.NewValue(tftypes.String, states[c%3])
			c /= 3
		}
		cfg := tfsdk.Config{Schema: s, Raw: objectOf(t, typ, set)}
		var want resource.ValidateConfigResponse
		exactlyOneSecret.ValidateResource(ctx, resource.ValidateConfigRequest{Config: cfg}, &want)
		var m targetConnectionModel
		var got diag.Diagnostics
		if !decode(ctx, cfg, &m, &got) {
			t.Fatal(got)
		}
		checkOneSecret(ctx, m, &got)
		if !got.Equal(want.Diagnostics) {
			t.Errorf("%v: got %v, want %v", set, got, want.Diagnostics)
		}
		if combo == 0 && (len(got) != 1 || !got.HasError()) {
			t.Errorf("no secret must be an error, got %v", got)
		}
	}
	for _, name := range secretAttributes {
		if _, ok := s.Attributes[name]; !ok {
			t.Errorf("%q is not an attribute", name)
		}
	}
}

// predictedManaged is apply's record where it can be known: kept entries, the repaired and
// the newly missing roles under the name apply gives them; unknown where it cannot be.
func TestPredictedManaged(t *testing.T) {
	ctx := context.Background()
	const upn = "admin@contoso.onmicrosoft.com"
	ex := func(role string) connection.Managed {
		return connection.Managed{Role: role, Kind: roles.ExchangeManagementRole, ID: connection.ManagedName(role, upn)}
	}
	required := stringSet([]string{"ApplicationImpersonation", "Mail Recipients", "View-Only Recipients"})
	base := targetConnectionModel{
		AdminEmail: types.StringValue(upn), RequiredRoles: required, RevokeManagedRoles: types.BoolValue(false),
		VerifiedAt:             types.StringValue("2026-12-01T10:00:00Z"),
		ManagedRoleAssignments: managedList([]connection.Managed{ex("ApplicationImpersonation"), ex("Mail Recipients"), ex("Public Folders")}),
	}
	revoking := base
	revoking.RevokeManagedRoles = types.BoolValue(true)
	imported := base
	imported.VerifiedAt = types.StringNull()
	toggled := base
	toggled.RequiredRoles = stringSet([]string{"ApplicationImpersonation", "Mail Recipients"})
	for name, tc := range map[string]struct {
		plan, state targetConnectionModel
		missing     []string
		want        types.List
	}{
		"repair and add": {base, base, []string{"Mail Recipients", "View-Only Recipients"},
			managedList([]connection.Managed{ex("ApplicationImpersonation"), ex("Mail Recipients"), ex("Public Folders"), ex("View-Only Recipients")})},
		"nothing missing": {base, base, nil, base.ManagedRoleAssignments},
		"revoke unneeded": {revoking, base, nil, managedList([]connection.Managed{ex("ApplicationImpersonation"), ex("Mail Recipients")})},
		"directory role":  {base, base, []string{"User Administrator"}, types.ListUnknown(managedAssignmentType)},
		"never verified":  {base, imported, []string{"Mail Recipients"}, types.ListUnknown(managedAssignmentType)},
		"toggles changed": {base, toggled, nil, types.ListUnknown(managedAssignmentType)},
	} {
		if got := predictedManaged(ctx, tc.plan, tc.state, tc.missing); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
}
