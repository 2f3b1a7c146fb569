package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// configured is the provider data New(opts...) makes from an empty configuration.
func configured(t *testing.T, opts ...Option) *providerData {
	t.Helper()
	ctx := context.Background()
	p := New("test", opts...)()
	var sr provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sr)
	typ, ok := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("the provider's schema is not an object")
	}
	unset := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		unset[name] = tftypes.NewValue(at, nil)
	}
	cfg := tfsdk.Config{Schema: sr.Schema, Raw: tftypes.NewValue(typ, unset)}
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	d, ok := resp.ResourceData.(*providerData)
	if !ok {
		t.Fatalf("provider data %T", resp.ResourceData)
	}
	return d
}

// The API clients log through the provider unless nobody would see it: then they get no
// logger at all, and build no line.
func TestProvider_withoutLogsTheClientsGetNoLogger(t *testing.T) {
	if configured(t).env.Log == nil {
		t.Error("by default the clients' lines must go to tflog")
	}
	if configured(t, WithLogs(true)).env.Log == nil {
		t.Error("WithLogs(true): the clients' lines must go to tflog")
	}
	if configured(t, WithLogs(false)).env.Log != nil {
		t.Error("WithLogs(false): the clients must get no logger")
	}
}
