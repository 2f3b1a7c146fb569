package provider

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A model that lists its fields is read from and written to plans, states and configurations
// without the framework's reflection. The framework's Get and Set walk the model's struct
// tags on every call (and compile a regular expression per field to check each tag), which
// made them the largest part of a no-change plan that the provider itself controls; listing
// the fields does the same conversions (each attribute type's ValueFromTerraform and each
// value's ToTerraformValue) and nothing else. model_codec_test.go holds every listed model to
// the framework: same fields as the struct's tags, same values both ways.

// modelField is one attribute of a model: its name and a pointer to the model's field, one
// of the types assign and value know.
type modelField struct {
	name string
	ptr  any
}

// listedModel is a model that lists its fields, in any order, each attribute of its schema
// exactly once.
type listedModel interface {
	fields() []modelField
}

// schemaTypes caches, per model, its schema's type and that type's Terraform type: the
// framework's Schema.Type() builds both anew (a map of every attribute's type) on every call.
// A listed model belongs to one resource's schema, which does not change in a process.
var schemaTypes sync.Map // reflect.Type of the model → schemaType

type schemaType struct {
	attr attr.TypeWithAttributeTypes
	tf   tftypes.Type
}

// typeOf is the schema type of m, from s (a state's, plan's or configuration's Schema) the
// first time.
func typeOf(ctx context.Context, m listedModel, s interface{ Type() attr.Type }) (schemaType, bool) {
	key := reflect.TypeOf(m)
	if t, ok := schemaTypes.Load(key); ok {
		st, ok := t.(schemaType)
		return st, ok
	}
	at, ok := s.Type().(attr.TypeWithAttributeTypes)
	if !ok {
		return schemaType{}, false
	}
	t := schemaType{attr: at, tf: at.TerraformType(ctx)}
	schemaTypes.Store(key, t)
	return t, true
}

// rawOf is the value and the schema of a state, plan or configuration.
func rawOf(from any) (tftypes.Value, interface{ Type() attr.Type }, bool) {
	switch d := from.(type) {
	case tfsdk.State:
		return d.Raw, d.Schema, true
	case tfsdk.Plan:
		return d.Raw, d.Schema, true
	case tfsdk.Config:
		return d.Raw, d.Schema, true
	}
	return tftypes.Value{}, nil, false
}

// getModel reads raw, a value of the schema type t, into m: what the framework's Get does.
func getModel(ctx context.Context, raw tftypes.Value, t schemaType, m listedModel) diag.Diagnostics {
	var diags diag.Diagnostics
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered trying to read the value: "+err.Error()+". This is a bug in the provider.")
		return diags
	}
	attrTypes := t.attr.AttributeTypes()
	for _, f := range m.fields() {
		at, ok := attrTypes[f.name]
		v, known := vals[f.name]
		if !ok || !known {
			diags.AddError("Value Conversion Error", fmt.Sprintf("the model's attribute %q is not in the schema's value; this is a bug in the provider", f.name))
			return diags
		}
		av, err := at.ValueFromTerraform(ctx, v)
		if err != nil {
			diags.AddError("Value Conversion Error", fmt.Sprintf("reading attribute %q: %s. This is a bug in the provider.", f.name, err))
			return diags
		}
		if !assign(f.ptr, av) {
			diags.AddError("Value Conversion Error", fmt.Sprintf("attribute %q is a %T, the model's field a %T; this is a bug in the provider", f.name, av, f.ptr))
			return diags
		}
	}
	return diags
}

// modelValue is m as a value of the schema type t: what the framework's Set writes.
func modelValue(ctx context.Context, t schemaType, m listedModel) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	fs := m.fields()
	vals := make(map[string]tftypes.Value, len(fs))
	for _, f := range fs {
		av, ok := value(f.ptr)
		if !ok {
			diags.AddError("Value Conversion Error", fmt.Sprintf("the model's field %q is a %T; this is a bug in the provider", f.name, f.ptr))
			return tftypes.Value{}, diags
		}
		tv, err := av.ToTerraformValue(ctx)
		if err != nil {
			diags.AddError("Value Conversion Error", fmt.Sprintf("writing attribute %q: %s. This is a bug in the provider.", f.name, err))
			return tftypes.Value{}, diags
		}
		vals[f.name] = tv
	}
	if err := tftypes.ValidateValue(t.tf, vals); err != nil {
		diags.AddError("Value Conversion Error", "the model does not match the schema: "+err.Error()+". This is a bug in the provider.")
		return tftypes.Value{}, diags
	}
	return tftypes.NewValue(t.tf, vals), diags
}

// setModel writes m into a state or plan, as their Set would. The value is checked against
// the schema's type as Set checks it, then stored.
func setModel[D *tfsdk.State | *tfsdk.Plan](ctx context.Context, to D, m listedModel) diag.Diagnostics {
	var raw *tftypes.Value
	var s interface{ Type() attr.Type }
	switch d := any(to).(type) {
	case *tfsdk.State:
		raw, s = &d.Raw, d.Schema
	case *tfsdk.Plan:
		raw, s = &d.Raw, d.Schema
	}
	t, ok := typeOf(ctx, m, s)
	if !ok {
		var diags diag.Diagnostics
		diags.AddError("Value Conversion Error", "the schema's type is not an object; this is a bug in the provider")
		return diags
	}
	v, diags := modelValue(ctx, t, m)
	if !diags.HasError() {
		*raw = v
	}
	return diags
}

// assign stores v in the field p points to, when it is of the field's type.
func assign(p any, v attr.Value) bool {
	var ok bool
	switch p := p.(type) {
	case *types.String:
		*p, ok = v.(types.String)
	case *types.Bool:
		*p, ok = v.(types.Bool)
	case *types.Int64:
		*p, ok = v.(types.Int64)
	case *types.Set:
		*p, ok = v.(types.Set)
	case *types.List:
		*p, ok = v.(types.List)
	case *types.Object:
		*p, ok = v.(types.Object)
	case *timeouts.Value:
		*p, ok = v.(timeouts.Value)
	}
	return ok
}

// value is the field p points to, when it is of a type assign knows.
func value(p any) (attr.Value, bool) {
	switch p := p.(type) {
	case *types.String:
		return *p, true
	case *types.Bool:
		return *p, true
	case *types.Int64:
		return *p, true
	case *types.Set:
		return *p, true
	case *types.List:
		return *p, true
	case *types.Object:
		return *p, true
	case *timeouts.Value:
		return *p, true
	}
	return nil, false
}
