package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

func (r *targetConnectionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A target connection of an Office 365 mailbox migration: an Exchange Online admin account whose EWS access and " +
			"impersonation are verified and which holds the management roles the migration needs. Missing roles are assigned " +
			"(optionally by a separate " + roles.GlobalAdministrator + "), and every plan checks that nothing has drifted.",
		Attributes: merged(connectionComputedAttributes(keep), map[string]schema.Attribute{
			"id":    connectionIDAttribute("`<cloud>/<admin_email>` in lower case; also the import ID."),
			"name":  connectionNameAttribute(),
			"cloud": connectionCloudAttribute(),
			"admin_email": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "User principal name of the Exchange Online admin account the migration uses. Its `*.onmicrosoft.com` " +
					"address is recommended, so a later domain change breaks nothing. Changing it replaces the connection.",
				Validators:    []validator.String{emailAddress()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Password of the admin account. Set exactly one of `password` and `app_password`.",
				Validators:          []validator.String{nonBlank()},
			},
			"app_password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "App password of the admin account, for an account with multi-factor authentication (its normal password would fail).",
				Validators:          []validator.String{nonBlank()},
			},
			"password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "Write-only alternative to `password`: used during apply, never stored in state (Terraform 1.11+ / OpenTofu 1.11+). " +
					"Plans verify the connection with it (it is in the configuration while planning), as with `password`. Change `password_wo_version` to apply a new value.",
				Validators: []validator.String{nonBlank()},
			},
			"app_password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "Write-only alternative to `app_password`, never stored in state. Change `password_wo_version` to apply a new value.",
				Validators:          []validator.String{nonBlank()},
			},
			"password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; change it to make apply use a new `password_wo` / `app_password_wo` (write-only values never show as a change).",
			},
			"assign_missing_roles": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Assign the required roles the account lacks. When `false`, apply fails listing each missing role and the command an administrator would run. Defaults to `true`.",
			},
			"public_folders_role": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Require (and assign) the optional *" + roles.ByToggle(roles.TogglePublicFolders).Name + "* role, needed only to migrate public folders. Defaults to `false`.",
			},
			"user_management_role": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Require (and assign) the optional directory role *" + roles.ByToggle(roles.ToggleUserManagement).Name + "*, needed only to create new users and mailboxes. Defaults to `false`.",
			},
			"global_admin": globalAdminAttribute(),
			"revoke_managed_roles": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Remove a role assignment **this resource created** when its role is no longer required (a toggle turned off) and on destroy. Assignments that existed before are never touched. Defaults to `false`.",
			},
		}),
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

// globalAdminAttribute is the optional Global Administrator who only assigns roles the admin account cannot assign itself.
func globalAdminAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true, Sensitive: true,
		MarkdownDescription: "Credentials of a " + roles.GlobalAdministrator + " used **only** to assign the roles the admin account cannot assign itself; never for the migration or EWS. " +
			"Set exactly one of its `password`, `app_password`, `password_wo` and `app_password_wo`; the write-only ones keep its secret out of state.",
		Attributes: map[string]schema.Attribute{
			"email":        schema.StringAttribute{Required: true, MarkdownDescription: "User principal name of the " + roles.GlobalAdministrator + ".", Validators: []validator.String{emailAddress()}},
			"password":     schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Its password."},
			"app_password": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Its app password, when it has multi-factor authentication."},
			"password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true, Validators: []validator.String{nonBlank()},
				MarkdownDescription: "Write-only alternative to `password`: used by the apply that assigns roles, never stored in state (Terraform 1.11+ / OpenTofu 1.11+). " +
					"Change `global_admin.password_wo_version` to apply a new value.",
			},
			"app_password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true, Validators: []validator.String{nonBlank()},
				MarkdownDescription: "Write-only alternative to `app_password`, never stored in state. Change `global_admin.password_wo_version` to apply a new value.",
			},
			"password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; change it to make apply use a new `global_admin.password_wo` / `global_admin.app_password_wo` (write-only values never show as a change).",
			},
		},
	}
}

// connectionComputedAttributes are what a check of o365_target_connection finds.
func connectionComputedAttributes(keep []planmodifier.String) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tenant_id": schema.StringAttribute{
			Computed: true, PlanModifiers: keep,
			MarkdownDescription: "The tenant's GUID.",
		},
		"ews_url": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "The Exchange Web Services endpoint the connection uses.",
		},
		"ews_status": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "What the last check found of EWS for the admin account: `enabled`, or the switch that closed it — `disabled_for_organization`, " +
				"`disabled_for_mailbox`, `app_not_allowed` (the allow list excludes `client_id`), `disabled` (EWS in Exchange Online has ended, or the switch is not known). " +
				"A refresh records it; apply cannot reopen EWS, so a plan never proposes `enabled`: it warns while nothing changes, and fails a change with the command that reopens EWS.",
		},
		"required_roles": schema.SetAttribute{
			Computed: true, ElementType: types.StringType,
			MarkdownDescription: "The roles this connection needs, given the toggles.",
		},
		"assigned_roles": schema.SetAttribute{
			Computed: true, ElementType: types.StringType,
			PlanModifiers:       []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
			MarkdownDescription: "Required roles found assigned at the last check.",
		},
		"missing_roles": schema.SetAttribute{
			Computed: true, ElementType: types.StringType,
			PlanModifiers:       []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
			MarkdownDescription: "`required_roles` minus `assigned_roles`. Empty after a successful apply; a role removed outside Terraform shows here on the next plan, which then proposes to assign it again.",
		},
		"managed_role_assignments": schema.ListNestedAttribute{
			Computed:            true,
			PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			MarkdownDescription: "The role assignments this resource created (the only ones `revoke_managed_roles` ever removes).",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"role": schema.StringAttribute{Computed: true, MarkdownDescription: "Role name."},
				"kind": schema.StringAttribute{Computed: true, MarkdownDescription: "`exchange_management_role` or `directory_role`."},
				"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "The Exchange assignment's identity, or the directory role assignment's ID."},
			}},
		},
		"verified_at": schema.StringAttribute{
			Computed: true, PlanModifiers: keep,
			MarkdownDescription: "When the last full verification succeeded (RFC 3339). Set by create and update only, so plans stay quiet.",
		},
	}
}
