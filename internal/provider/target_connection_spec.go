package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The model → spec translation of o365_target_connection: what the connection logic needs
// from the configuration, and the secrets its log lines must never show.

// specOf returns the builder of the spec of m for callWith.
func (r *targetConnectionResource) specOf(ctx context.Context, m targetConnectionModel, managed []connection.Managed) func() (connection.Spec, []string, diag.Diagnostics) {
	return func() (connection.Spec, []string, diag.Diagnostics) {
		cl, diags := specCloud(r.data, m.Cloud.ValueString())
		if diags.HasError() {
			return connection.Spec{}, nil, diags
		}
		spec := connection.Spec{
			Cloud:         cl,
			Principal:     connection.User(m.AdminEmail.ValueString(), adminCredential(m)),
			Toggles:       toggles(m),
			AssignMissing: m.AssignMissingRoles.ValueBool(),
			RevokeManaged: m.RevokeManagedRoles.ValueBool(),
			Managed:       managed,
		}
		secrets := []string{m.Password.ValueString(), m.AppPassword.ValueString(), m.PasswordWO.ValueString(), m.AppPasswordWO.ValueString()}
		if !m.GlobalAdmin.IsNull() && !m.GlobalAdmin.IsUnknown() {
			var ga globalAdminModel
			diags.Append(m.GlobalAdmin.As(ctx, &ga, objectAsOptions)...)
			p := connection.User(ga.Email.ValueString(), writeOnlyFirst(ga.Password, ga.AppPassword, ga.PasswordWO, ga.AppPasswordWO))
			spec.Assigner = &p
			secrets = append(secrets, ga.Password.ValueString(), ga.AppPassword.ValueString(), ga.PasswordWO.ValueString(), ga.AppPasswordWO.ValueString())
		}
		return spec, secrets, diags
	}
}

// writeOnlyFromConfig copies the write-only secrets, which exist only in configuration,
// into the model used for this apply (they are never written to state).
func writeOnlyFromConfig(ctx context.Context, config tfsdk.Config, m *targetConnectionModel) diag.Diagnostics {
	var diags diag.Diagnostics
	var pw, apw types.String
	diags.Append(config.GetAttribute(ctx, path.Root("password_wo"), &pw)...)
	diags.Append(config.GetAttribute(ctx, path.Root("app_password_wo"), &apw)...)
	m.PasswordWO, m.AppPasswordWO = pw, apw
	// global_admin as configured: the plan's and the state's copy hold its write-only
	// secrets as null, the configuration's holds them (and the same everything else).
	var ga types.Object
	diags.Append(config.GetAttribute(ctx, path.Root("global_admin"), &ga)...)
	if !ga.IsNull() && !ga.IsUnknown() {
		m.GlobalAdmin = ga
	}
	return diags
}

// adminCredential is the admin's secret: a write-only one when the configuration gives it.
func adminCredential(m targetConnectionModel) connection.Credential {
	return writeOnlyFirst(m.Password, m.AppPassword, m.PasswordWO, m.AppPasswordWO)
}

// writeOnlyFirst is an account's secret from its four attributes: a write-only one when the
// configuration gives it (it is only there during plan and apply), else the stored one.
func writeOnlyFirst(password, appPassword, passwordWO, appPasswordWO types.String) connection.Credential {
	switch {
	case !passwordWO.IsNull() && passwordWO.ValueString() != "":
		return credential(passwordWO, types.StringNull())
	case !appPasswordWO.IsNull() && appPasswordWO.ValueString() != "":
		return credential(types.StringNull(), appPasswordWO)
	}
	return credential(password, appPassword)
}

func credential(password, appPassword types.String) connection.Credential {
	if !appPassword.IsNull() && appPassword.ValueString() != "" {
		return connection.AppPasswordCredential(appPassword.ValueString())
	}
	return connection.PasswordCredential(password.ValueString())
}

func toggles(m targetConnectionModel) roles.Toggles {
	return roles.Toggles{PublicFolders: m.PublicFoldersRole.ValueBool(), UserManagement: m.UserManagementRole.ValueBool()}
}

func connectionID(cloudName, email string) string {
	return strings.ToLower(cloudName + "/" + email)
}
