package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func targetConnectionSchema(t *testing.T) resource.SchemaResponse {
	t.Helper()
	var resp resource.SchemaResponse
	(&targetConnectionResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	return resp
}

// The attributes a plan compares come from the schema: what a configuration sets, without
// the write-only secrets and without what only the provider computes.
func TestConfigurableAttributesFromSchema(t *testing.T) {
	s := targetConnectionSchema(t).Schema
	got := strings.Join(configurable(s.GetAttributes()), ",")
	want := "admin_email,app_password,assign_missing_roles,cloud,global_admin,name,password,password_wo_version,public_folders_role,revoke_managed_roles,user_management_role"
	if got != want {
		t.Fatalf("configurable = %s\nwant           %s", got, want)
	}
}

// Changing any configurable attribute makes the models differ; changing a computed one
// does not.
func TestEqualAttributesSeesEveryConfigurableField(t *testing.T) {
	names := configurable(targetConnectionSchema(t).Schema.GetAttributes())
	base := targetConnectionModel{}
	if !equalAttributes(base, base, names) {
		t.Fatal("a model differs from itself")
	}
	rt := reflect.TypeOf(base)
	for i := 0; i < rt.NumField(); i++ {
		tag := rt.Field(i).Tag.Get("tfsdk")
		changed := base
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Interface().(type) {
		case types.String:
			f.Set(reflect.ValueOf(types.StringValue("x")))
		case types.Bool:
			f.Set(reflect.ValueOf(types.BoolValue(true)))
		case types.Int64:
			f.Set(reflect.ValueOf(types.Int64Value(1)))
		case types.Object:
			f.Set(reflect.ValueOf(types.ObjectValueMust(globalAdminAttrTypes, map[string]attr.Value{
				"email": types.StringValue("a@b.c"), "password": types.StringNull(), "app_password": types.StringNull(),
				"password_wo": types.StringNull(), "app_password_wo": types.StringNull(), "password_wo_version": types.Int64Null()})))
		default:
			continue
		}
		isConfigurable := strings.Contains(","+strings.Join(names, ",")+",", ","+tag+",")
		if equalAttributes(base, changed, names) == isConfigurable {
			t.Errorf("changing %s: equal = %v, configurable = %v", tag, !isConfigurable, isConfigurable)
		}
	}
}

// An import starts from the ID's values, the schema's defaults and nulls.
func TestImportedState(t *testing.T) {
	s := targetConnectionSchema(t).Schema
	st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(context.Background()), nil)}
	diags := importedState(context.Background(), &st, map[string]attr.Value{"id": types.StringValue("worldwide/a@b.c")})
	var m targetConnectionModel
	diags.Append(st.Get(context.Background(), &m)...)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if m.ID.ValueString() != "worldwide/a@b.c" || !m.AssignMissingRoles.ValueBool() || m.PublicFoldersRole.ValueBool() ||
		m.PublicFoldersRole.IsNull() || m.RevokeManagedRoles.IsNull() || !m.Password.IsNull() || !m.GlobalAdmin.IsNull() || !m.Timeouts.IsNull() {
		t.Fatalf("imported = %+v", m)
	}
}
