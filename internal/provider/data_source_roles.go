package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

var _ datasource.DataSource = (*rolesDataSource)(nil)

func newRolesDataSource() datasource.DataSource { return &rolesDataSource{} }

// rolesDataSource exposes the role catalogue at plan time; it makes no API call.
type rolesDataSource struct{}

type rolesDataSourceModel struct {
	PublicFoldersRole  types.Bool   `tfsdk:"public_folders_role"`
	UserManagementRole types.Bool   `tfsdk:"user_management_role"`
	AdminEmail         types.String `tfsdk:"admin_email"`
	Connection         types.String `tfsdk:"connection_type"`
	Protocol           types.String `tfsdk:"protocol"`
	MailboxScope       types.Bool   `tfsdk:"mailbox_scope"`
	ClientID           types.String `tfsdk:"client_id"`
	ReadTargetItems    types.Bool   `tfsdk:"read_target_items"`
	Roles              types.List   `tfsdk:"roles"`
	RequiredRoleNames  types.Set    `tfsdk:"required_role_names"`
}

var roleObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name":                       types.StringType,
	"kind":                       types.StringType,
	"required":                   types.BoolType,
	"optional_toggle":            types.StringType,
	"purpose":                    types.StringType,
	"directory_role_template_id": types.StringType,
	"grant_command":              types.StringType,
	"resource":                   types.StringType,
	"permission":                 types.StringType,
}}

func (d *rolesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_roles"
}

func (d *rolesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The catalogue of management roles a target connection needs, the same one `o365_target_connection` checks and assigns. " +
			"It is computed at plan time without calling Microsoft, so modules can show or document what a connection will require.",
		Attributes: map[string]schema.Attribute{
			"public_folders_role": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Whether the optional *" + roles.ByToggle(roles.TogglePublicFolders).Name + "* role is required (public-folder migration). Defaults to `false`, as on the resource.",
			},
			"user_management_role": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Whether the optional directory role *" + roles.ByToggle(roles.ToggleUserManagement).Name + "* is required (creating new users and mailboxes). Defaults to `false`, as on the resource.",
			},
			"admin_email": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Admin account to write into each `grant_command`; a placeholder `<admin_email>` when unset.",
			},
			"connection_type": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Which connection's catalogue (named `connection_type` because Terraform reserves `connection`): `user` (the default: the management roles of an admin account, `o365_target_connection`) or " +
					"`application` (the application permissions and Exchange application roles of an Entra application, `o365_migration_application`).",
				Validators: []validator.String{stringvalidator.OneOf(connectionUser, connectionApplication)},
			},
			"protocol": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "With `connection_type = \"application\"`: as on `o365_migration_application`, " + protocolDescription,
				Validators:          []validator.String{stringvalidator.OneOfCaseInsensitive(roles.Protocols()...)},
			},
			"mailbox_scope": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "With `connection_type = \"application\"`: whether mailbox access is scoped with Exchange RBAC for Applications " +
					"(`mailbox_scope` on the resource): mailbox permissions then come as `exchange_application_role` entries.",
			},
			"read_target_items": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "With `connection_type = \"application\"` and `protocol = \"graph_import\"`: whether `" + roles.ReadItemsNeed().Entra.Value +
					"` (listing the items already in the target mailboxes) is required, as `read_target_items` on `o365_migration_application`. It is listed either way, as optional.",
			},
			"client_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "With `connection_type = \"application\"`: the application's client ID to write into each `grant_command`; a placeholder `<client_id>` when unset.",
			},
			"roles": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Every role of the catalogue, in the order the migration tool's wizard shows them.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":                       schema.StringAttribute{Computed: true, MarkdownDescription: "Role name as Microsoft spells it."},
					"kind":                       schema.StringAttribute{Computed: true, MarkdownDescription: "`exchange_management_role` or `directory_role`; for an application `application_permission` or `exchange_application_role`."},
					"required":                   schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a connection with these toggles requires the role."},
					"optional_toggle":            schema.StringAttribute{Computed: true, MarkdownDescription: "The toggle attribute that requires this optional role; null for always-required roles."},
					"purpose":                    schema.StringAttribute{Computed: true, MarkdownDescription: "What the migration needs the role for."},
					"directory_role_template_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Fixed template ID of a directory role; null for Exchange roles."},
					"grant_command":              schema.StringAttribute{Computed: true, MarkdownDescription: "The PowerShell command an administrator would run to grant it by hand."},
					"resource":                   schema.StringAttribute{Computed: true, MarkdownDescription: "For an application: the API granting it (`Microsoft Graph`, `Office 365 Exchange Online`) or `Exchange` for an Exchange application role; null for a user's roles."},
					"permission":                 schema.StringAttribute{Computed: true, MarkdownDescription: "For an application: the permission's value (`" + mailGraph.Entra.Value + "`) or the Exchange role's name (`" + mailGraph.Exchange.Name + "`); null for a user's roles."},
				}},
			},
			"required_role_names": schema.SetAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Names of the roles required with these toggles.",
			},
		},
	}
}

// The values of the data source's `connection`.
const (
	connectionUser        = "user"
	connectionApplication = "application"
)

func (d *rolesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m rolesDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var (
		items    []attr.Value
		required []string
	)
	add := func(values map[string]attr.Value) {
		obj, diags := types.ObjectValue(roleObjectType.AttrTypes, values)
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	if m.Connection.ValueString() == connectionApplication {
		required = d.applicationCatalogue(m, add, &resp.Diagnostics)
	} else {
		for _, name := range []string{"protocol", "mailbox_scope", "client_id", "read_target_items"} {
			if !map[string]bool{"protocol": m.Protocol.IsNull(), "mailbox_scope": m.MailboxScope.IsNull(), "client_id": m.ClientID.IsNull(), "read_target_items": m.ReadTargetItems.IsNull()}[name] {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Only for an application connection",
					"`"+name+"` describes an application connection: set connection_type = \"application\", or remove it.")
			}
		}
		t := roles.Toggles{PublicFolders: m.PublicFoldersRole.ValueBool(), UserManagement: m.UserManagementRole.ValueBool()}
		for _, r := range roles.All() {
			on := t.On(r.OptionalToggle)
			if on {
				required = append(required, r.Name)
			}
			add(map[string]attr.Value{
				"name":                       types.StringValue(r.Name),
				"kind":                       types.StringValue(string(r.Kind)),
				"required":                   types.BoolValue(on),
				"optional_toggle":            nullableString(r.OptionalToggle),
				"purpose":                    types.StringValue(r.Purpose),
				"directory_role_template_id": nullableString(r.DirectoryRoleTemplateID),
				"grant_command":              types.StringValue(r.GrantCommand(m.AdminEmail.ValueString())),
				"resource":                   types.StringNull(),
				"permission":                 types.StringNull(),
			})
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	list, diags := types.ListValue(roleObjectType, items)
	resp.Diagnostics.Append(diags...)
	m.Roles = list
	m.RequiredRoleNames = stringSet(required)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// applicationCatalogue lists what an application connection is given (DESIGN.md §7.5): every
// grant of the protocol, the optional ones marked by their toggle, mailbox permissions as
// Exchange application roles when scoped. It returns the names of the required ones.
func (d *rolesDataSource) applicationCatalogue(m rolesDataSourceModel, add func(map[string]attr.Value), diags *diag.Diagnostics) []string {
	protocol := roles.ProtocolOrDefault(m.Protocol.ValueString())
	if m.PublicFoldersRole.ValueBool() {
		checkPublicFoldersProtocol(protocol, path.Root("public_folders_role"), diags)
	}
	if m.ReadTargetItems.ValueBool() {
		checkReadItemsProtocol(protocol, path.Root("read_target_items"), diags)
	}
	if diags.HasError() {
		return nil
	}
	if m.AdminEmail.ValueString() != "" {
		diags.AddAttributeError(path.Root("admin_email"), "Only for a user connection",
			"An application connection has no admin account: use client_id to fill the grant commands.")
		return nil
	}
	scoped := m.MailboxScope.ValueBool()
	all := roles.Grants(roles.AppOptions{Protocol: protocol, UserManagement: true, PublicFolders: true, ReadItems: true, Scoped: scoped})
	chosen := roles.AppOptions{UserManagement: m.UserManagementRole.ValueBool(), ReadItems: m.ReadTargetItems.ValueBool()}
	var required []string
	for _, g := range all {
		on := g.Toggle == "" || chosen.On(g.Toggle)
		if on {
			required = append(required, g.String())
		}
		resource, permission, scope := roles.ExchangeRBAC, "", ""
		if g.Kind == roles.ExchangeApplicationRole {
			permission = g.Role.Name
		} else {
			resource, permission = g.Permission.API.Name, g.Permission.Value
		}
		if scoped && m.ClientID.ValueString() != "" {
			scope = connection.ScopeName(m.ClientID.ValueString())
		}
		add(map[string]attr.Value{
			"name":                       types.StringValue(g.String()),
			"kind":                       types.StringValue(string(g.Kind)),
			"required":                   types.BoolValue(on),
			"optional_toggle":            nullableString(string(g.Toggle)),
			"purpose":                    types.StringValue(g.Purpose),
			"directory_role_template_id": types.StringNull(),
			"grant_command":              types.StringValue(g.GrantCommand(m.ClientID.ValueString(), scope)),
			"resource":                   types.StringValue(resource),
			"permission":                 types.StringValue(permission),
		})
	}
	return required
}

func nullableString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// stringSet builds a known set of strings (empty, not null, for no elements).
func stringSet(ss []string) types.Set {
	vals := make([]attr.Value, 0, len(ss))
	for _, s := range ss {
		vals = append(vals, types.StringValue(s))
	}
	return types.SetValueMust(types.StringType, vals)
}
