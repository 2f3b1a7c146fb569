package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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
