package provider

import (
	"context"
	"math/big"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// checkListedModel holds a listed model to the framework: its fields are the struct's tfsdk
// fields and the schema's attributes, each once; and every value reads into the same model as
// the framework's Get reads it, and writes back as the framework's Set writes it.
func checkListedModel[M any, PM interface {
	*M
	listedModel
}](t *testing.T, s schema.Schema, values map[string]tftypes.Value) {
	t.Helper()
	ctx := context.Background()
	var m M
	fs := PM(&m).fields()
	rv := reflect.ValueOf(&m).Elem()
	var tags []string
	for i := range rv.NumField() {
		tag := rv.Type().Field(i).Tag.Get("tfsdk")
		tags = append(tags, tag)
		at := slices.IndexFunc(fs, func(f modelField) bool { return f.name == tag })
		if at < 0 {
			t.Errorf("field %s (tfsdk:%q) is not listed", rv.Type().Field(i).Name, tag)
			continue
		}
		if p := reflect.ValueOf(fs[at].ptr); p.Pointer() != rv.Field(i).Addr().Pointer() || p.Type().Elem() != rv.Field(i).Type() {
			t.Errorf("%q is listed with another field than %s", tag, rv.Type().Field(i).Name)
		}
		if _, ok := value(fs[at].ptr); !ok {
			t.Errorf("%q: the codec does not know fields of type %s", tag, rv.Field(i).Type())
		}
	}
	var names, schemaNames []string
	for _, f := range fs {
		names = append(names, f.name)
	}
	for n := range s.Attributes {
		schemaNames = append(schemaNames, n)
	}
	for n := range s.Blocks {
		schemaNames = append(schemaNames, n)
	}
	slices.Sort(names)
	slices.Sort(tags)
	slices.Sort(schemaNames)
	if !slices.Equal(names, tags) || !slices.Equal(names, schemaNames) {
		t.Errorf("listed %v\nstruct  %v\nschema  %v", names, tags, schemaNames)
	}

	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var viaFramework, viaList M
			st := tfsdk.State{Schema: s, Raw: v}
			if d := st.Get(ctx, &viaFramework); d.HasError() {
				t.Fatal(d)
			}
			var diags diag.Diagnostics
			if !decode(ctx, st, PM(&viaList), &diags) {
				t.Fatal(diags)
			}
			if !reflect.DeepEqual(viaFramework, viaList) {
				t.Errorf("read differently:\nframework %+v\nlisted    %+v", viaFramework, viaList)
			}
			written, listed := tfsdk.State{Schema: s}, tfsdk.State{Schema: s}
			if d := written.Set(ctx, &viaFramework); d.HasError() {
				t.Fatal(d)
			}
			if d := setModel(ctx, &listed, PM(&viaFramework)); d.HasError() {
				t.Fatal(d)
			}
			if !written.Raw.Equal(listed.Raw) || !listed.Raw.Equal(v) {
				t.Errorf("written differently:\nframework %v\nlisted    %v\nread      %v", written.Raw, listed.Raw, v)
			}
			plan := tfsdk.Plan{Schema: s}
			if d := setModel(ctx, &plan, PM(&viaFramework)); d.HasError() || !plan.Raw.Equal(v) {
				t.Errorf("a plan is written differently (%v): %v", d, plan.Raw)
			}
		})
	}
}

func TestTargetConnectionModel_listedAsTheFrameworkReadsAndWritesIt(t *testing.T) {
	s := targetConnectionSchema(t).Schema
	typ := objectType(t, s.Type().TerraformType(context.Background()))
	at := typ.AttributeTypes
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	unknown := func(name string) tftypes.Value { return tftypes.NewValue(at[name], tftypes.UnknownValue) }
	roles := func(names ...string) tftypes.Value {
		var vs []tftypes.Value
		for _, n := range names {
			vs = append(vs, str(n))
		}
		return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vs)
	}
	list, ok := at["managed_role_assignments"].(tftypes.List)
	if !ok {
		t.Fatal("managed_role_assignments is not a list")
	}
	managed := list.ElementType
	full := objectOf(t, typ, map[string]tftypes.Value{
		"id": str("worldwide/admin@contoso.onmicrosoft.com"), "name": str("Target"), "cloud": str("worldwide"),
		"admin_email": str("admin@contoso.onmicrosoft.com"), "password": str("pw"), "app_password": str("apw"),
		"password_wo": str("wo"), "app_password_wo": str("awo"), "password_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(3)),
		"assign_missing_roles": tftypes.NewValue(tftypes.Bool, true), "public_folders_role": tftypes.NewValue(tftypes.Bool, false),
		"user_management_role": tftypes.NewValue(tftypes.Bool, true), "revoke_managed_roles": tftypes.NewValue(tftypes.Bool, false),
		"global_admin": tftypes.NewValue(at["global_admin"], map[string]tftypes.Value{
			"email": str("ga@contoso.onmicrosoft.com"), "password": tftypes.NewValue(tftypes.String, nil), "app_password": str("gaapw"),
			"password_wo": tftypes.NewValue(tftypes.String, nil), "app_password_wo": str("gaawo"), "password_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(2))}),
		"timeouts": tftypes.NewValue(at["timeouts"], map[string]tftypes.Value{
			"create": str("10m"), "read": str("1m"), "update": tftypes.NewValue(tftypes.String, nil), "delete": str("2m")}),
		"tenant_id": str("3b2a1c0d-1111-4222-8333-944445555666"), "ews_url": str("https://outlook.office365.com/EWS/Exchange.asmx"),
		"required_roles": roles("Mail Recipients", "View-Only Recipients"), "assigned_roles": roles("Mail Recipients"),
		"missing_roles": roles("View-Only Recipients"),
		"managed_role_assignments": tftypes.NewValue(at["managed_role_assignments"], []tftypes.Value{
			tftypes.NewValue(managed, map[string]tftypes.Value{"role": str("Mail Recipients"), "kind": str("exchange_management_role"), "id": str("a1")}),
			tftypes.NewValue(managed, map[string]tftypes.Value{"role": str("User Administrator"), "kind": str("directory_role"), "id": str("d1")}),
		}),
		"verified_at": str("2026-12-01T10:00:00Z"),
	})
	planned := objectOf(t, typ, map[string]tftypes.Value{
		"name": unknown("name"), "admin_email": str("admin@contoso.onmicrosoft.com"), "password": unknown("password"),
		"global_admin": tftypes.NewValue(at["global_admin"], map[string]tftypes.Value{
			"email": str("ga@contoso.onmicrosoft.com"), "password": tftypes.NewValue(tftypes.String, tftypes.UnknownValue), "app_password": tftypes.NewValue(tftypes.String, nil),
			"password_wo": tftypes.NewValue(tftypes.String, nil), "app_password_wo": tftypes.NewValue(tftypes.String, nil), "password_wo_version": tftypes.NewValue(tftypes.Number, nil)}),
		"tenant_id": unknown("tenant_id"), "required_roles": unknown("required_roles"), "assigned_roles": unknown("assigned_roles"),
		"missing_roles": roles(), "managed_role_assignments": unknown("managed_role_assignments"), "verified_at": unknown("verified_at"),
		"timeouts": unknown("timeouts"), "password_wo_version": unknown("password_wo_version"),
	})
	checkListedModel[targetConnectionModel](t, s, map[string]tftypes.Value{
		"every attribute set":  full,
		"unknowns and empty":   planned,
		"every attribute null": objectOf(t, typ, nil),
	})
}
