package provider

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
)

// The shared core of the resources that call Microsoft: every CRUD method of such a
// resource is "timeouts → spec → mask secrets → call → state/diagnostics", and the parts
// that would otherwise be hand-kept lists per resource (which attributes a configuration
// sets, what an import starts from) are derived from the model and its schema here.

// timeoutOf is a method of the `timeouts` block's value: Create, Read, Update or Delete.
type timeoutOf func(ctx context.Context, fallback time.Duration) (time.Duration, diag.Diagnostics)

// callWith runs call with the spec built from the model, under the operation's timeout,
// with the spec's secrets masked in every log line (the clients never log them; this is the
// second line of defence). Nothing runs when building the spec reported an error.
func callWith[S any](ctx context.Context, diags *diag.Diagnostics, timeout timeoutOf, fallback time.Duration,
	spec func() (S, []string, diag.Diagnostics), call func(ctx context.Context, spec S)) {
	d, tdiags := timeout(ctx, fallback)
	diags.Append(tdiags...)
	s, secrets, sdiags := spec()
	diags.Append(sdiags...)
	if diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(maskSecrets(ctx, secrets), d)
	defer cancel()
	call(ctx, s)
}

// decode reads a plan, state or configuration into the model m, reporting whether it could.
// A model that lists its fields is read without the framework's reflection (model_codec.go).
func decode(ctx context.Context, from interface {
	Get(context.Context, any) diag.Diagnostics
}, m any, diags *diag.Diagnostics) bool {
	if lm, listed := m.(listedModel); listed {
		if raw, s, ok := rawOf(from); ok {
			if t, ok := typeOf(ctx, lm, s); ok {
				diags.Append(getModel(ctx, raw, t, lm)...)
				return !diags.HasError()
			}
		}
	}
	diags.Append(from.Get(ctx, m)...)
	return !diags.HasError()
}

// maskSecrets returns a context whose log lines never show the secrets, nor any field
// whose key names a credential.
func maskSecrets(ctx context.Context, secrets []string) context.Context {
	var nonEmpty []string
	for _, s := range secrets {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, nonEmpty...)
	ctx = tflog.MaskMessageStrings(ctx, nonEmpty...)
	return tflog.MaskFieldValuesWithFieldKeys(ctx, "password", "app_password", "secret", "client_secret", "token", "access_token", "refresh_token", "Authorization")
}

// attributeSchema is what the core reads of a schema attribute.
type attributeSchema interface {
	IsRequired() bool
	IsOptional() bool
	IsWriteOnly() bool
}

// configurable lists the attributes a configuration sets: required or optional, and not
// write-only (those never reach plan or state). Blocks (timeouts) are not attributes.
func configurable[A attributeSchema](attrs map[string]A) []string {
	var names []string
	for name, a := range attrs {
		if (a.IsRequired() || a.IsOptional()) && !a.IsWriteOnly() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// equalAttributes reports whether two models (structs of attr.Value fields with tfsdk
// tags) agree on the named attributes.
func equalAttributes(a, b any, names []string) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for i := 0; i < va.NumField(); i++ {
		if !want[va.Type().Field(i).Tag.Get("tfsdk")] {
			continue
		}
		x, okx := va.Field(i).Interface().(attr.Value)
		y, oky := vb.Field(i).Interface().(attr.Value)
		if !okx || !oky || !x.Equal(y) {
			return false
		}
	}
	return true
}

// importedState writes the state an import starts from: the values known from the import
// ID, every other attribute's schema default, and null for the rest.
func importedState(ctx context.Context, st *tfsdk.State, known map[string]attr.Value) diag.Diagnostics {
	var diags diag.Diagnostics
	for name, a := range st.Schema.GetAttributes() {
		v, ok := known[name]
		if !ok {
			v, ok = schemaDefault(ctx, a)
		}
		if ok {
			diags.Append(st.SetAttribute(ctx, path.Root(name), v)...)
		}
	}
	return diags
}

// schemaDefault is the static default of a bool, string or int64 attribute.
func schemaDefault(ctx context.Context, a any) (attr.Value, bool) {
	switch d := a.(type) {
	case interface{ BoolDefaultValue() defaults.Bool }:
		if def := d.BoolDefaultValue(); def != nil {
			var resp defaults.BoolResponse
			def.DefaultBool(ctx, defaults.BoolRequest{}, &resp)
			return resp.PlanValue, !resp.Diagnostics.HasError()
		}
	case interface{ StringDefaultValue() defaults.String }:
		if def := d.StringDefaultValue(); def != nil {
			var resp defaults.StringResponse
			def.DefaultString(ctx, defaults.StringRequest{}, &resp)
			return resp.PlanValue, !resp.Diagnostics.HasError()
		}
	case interface{ Int64DefaultValue() defaults.Int64 }:
		if def := d.Int64DefaultValue(); def != nil {
			var resp defaults.Int64Response
			def.DefaultInt64(ctx, defaults.Int64Request{}, &resp)
			return resp.PlanValue, !resp.Diagnostics.HasError()
		}
	}
	return nil, false
}

// specCloud resolves the cloud named in a connection resource's model for its spec: an error
// when the provider was not configured, an error on `cloud` when the name is unknown.
func specCloud(data *providerData, name string) (cloud.Cloud, diag.Diagnostics) {
	var diags diag.Diagnostics
	if data == nil {
		diags.AddError("Provider not configured", "The o365 provider was not configured; this is a bug in the provider.")
		return cloud.Cloud{}, diags
	}
	cl, ok := data.cfg.Cloud(name)
	if !ok {
		diags.AddAttributeError(path.Root("cloud"), "Unknown cloud", fmt.Sprintf("Cloud %q is not one of %v.", name, cloud.Names()))
	}
	return cl, diags
}
