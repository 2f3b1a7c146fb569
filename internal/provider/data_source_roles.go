package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

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
				MarkdownDescription: "Whether the optional *Public Folders* role is required (public-folder migration). Defaults to `false`, as on the resource.",
			},
			"user_management_role": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Whether the optional directory role *User Administrator* is required (creating new users and mailboxes). Defaults to `false`, as on the resource.",
			},
			"admin_email": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Admin account to write into each `grant_command`; a placeholder `<admin_email>` when unset.",
			},
			"roles": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Every role of the catalogue, in the order the migration tool's wizard shows them.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":                       schema.StringAttribute{Computed: true, MarkdownDescription: "Role name as Microsoft spells it."},
					"kind":                       schema.StringAttribute{Computed: true, MarkdownDescription: "`exchange_management_role` or `directory_role`."},
					"required":                   schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a connection with these toggles requires the role."},
					"optional_toggle":            schema.StringAttribute{Computed: true, MarkdownDescription: "The toggle attribute that requires this optional role; null for always-required roles."},
					"purpose":                    schema.StringAttribute{Computed: true, MarkdownDescription: "What the migration needs the role for."},
					"directory_role_template_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Fixed template ID of a directory role; null for Exchange roles."},
					"grant_command":              schema.StringAttribute{Computed: true, MarkdownDescription: "The PowerShell command an administrator would run to grant the role by hand."},
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

func (d *rolesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m rolesDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t := roles.Toggles{PublicFolders: m.PublicFoldersRole.ValueBool(), UserManagement: m.UserManagementRole.ValueBool()}
	var items []attr.Value
	var required []string
	for _, r := range roles.All() {
		req := t.On(r.OptionalToggle)
		if req {
			required = append(required, r.Name)
		}
		obj, diags := types.ObjectValue(roleObjectType.AttrTypes, map[string]attr.Value{
			"name":                       types.StringValue(r.Name),
			"kind":                       types.StringValue(string(r.Kind)),
			"required":                   types.BoolValue(req),
			"optional_toggle":            nullableString(r.OptionalToggle),
			"purpose":                    types.StringValue(r.Purpose),
			"directory_role_template_id": nullableString(r.DirectoryRoleTemplateID),
			"grant_command":              types.StringValue(r.GrantCommand(m.AdminEmail.ValueString())),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	list, diags := types.ListValue(roleObjectType, items)
	resp.Diagnostics.Append(diags...)
	m.Roles = list
	m.RequiredRoleNames = stringSet(required)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
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
