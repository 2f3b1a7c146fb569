package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// targetConnectionModel is the state and plan of o365_target_connection.
type targetConnectionModel struct {
	ID                     types.String   `tfsdk:"id"`
	Name                   types.String   `tfsdk:"name"`
	Cloud                  types.String   `tfsdk:"cloud"`
	AdminEmail             types.String   `tfsdk:"admin_email"`
	Password               types.String   `tfsdk:"password"`
	AppPassword            types.String   `tfsdk:"app_password"`
	PasswordWO             types.String   `tfsdk:"password_wo"`
	AppPasswordWO          types.String   `tfsdk:"app_password_wo"`
	PasswordWOVersion      types.Int64    `tfsdk:"password_wo_version"`
	AssignMissingRoles     types.Bool     `tfsdk:"assign_missing_roles"`
	PublicFoldersRole      types.Bool     `tfsdk:"public_folders_role"`
	UserManagementRole     types.Bool     `tfsdk:"user_management_role"`
	GlobalAdmin            types.Object   `tfsdk:"global_admin"`
	RevokeManagedRoles     types.Bool     `tfsdk:"revoke_managed_roles"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
	TenantID               types.String   `tfsdk:"tenant_id"`
	EWSURL                 types.String   `tfsdk:"ews_url"`
	EWSStatus              types.String   `tfsdk:"ews_status"`
	RequiredRoles          types.Set      `tfsdk:"required_roles"`
	AssignedRoles          types.Set      `tfsdk:"assigned_roles"`
	MissingRoles           types.Set      `tfsdk:"missing_roles"`
	ManagedRoleAssignments types.List     `tfsdk:"managed_role_assignments"`
	VerifiedAt             types.String   `tfsdk:"verified_at"`
}

func (m *targetConnectionModel) fields() []modelField {
	return []modelField{
		{"id", &m.ID}, {"name", &m.Name}, {"cloud", &m.Cloud}, {"admin_email", &m.AdminEmail},
		{"password", &m.Password}, {"app_password", &m.AppPassword}, {"password_wo", &m.PasswordWO},
		{"app_password_wo", &m.AppPasswordWO}, {"password_wo_version", &m.PasswordWOVersion},
		{"assign_missing_roles", &m.AssignMissingRoles}, {"public_folders_role", &m.PublicFoldersRole},
		{"user_management_role", &m.UserManagementRole}, {"global_admin", &m.GlobalAdmin},
		{"revoke_managed_roles", &m.RevokeManagedRoles}, {"timeouts", &m.Timeouts}, {"tenant_id", &m.TenantID},
		{"ews_url", &m.EWSURL}, {"ews_status", &m.EWSStatus}, {"required_roles", &m.RequiredRoles}, {"assigned_roles", &m.AssignedRoles},
		{"missing_roles", &m.MissingRoles}, {"managed_role_assignments", &m.ManagedRoleAssignments},
		{"verified_at", &m.VerifiedAt},
	}
}

type globalAdminModel struct {
	Email             types.String `tfsdk:"email"`
	Password          types.String `tfsdk:"password"`
	AppPassword       types.String `tfsdk:"app_password"`
	PasswordWO        types.String `tfsdk:"password_wo"`
	AppPasswordWO     types.String `tfsdk:"app_password_wo"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
}

var globalAdminAttrTypes = map[string]attr.Type{
	"email":               types.StringType,
	"password":            types.StringType,
	"app_password":        types.StringType,
	"password_wo":         types.StringType,
	"app_password_wo":     types.StringType,
	"password_wo_version": types.Int64Type,
}

var managedAssignmentType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"role": types.StringType,
	"kind": types.StringType,
	"id":   types.StringType,
}}
