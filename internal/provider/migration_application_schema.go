package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

func (r *migrationApplicationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The Entra application a migration engine signs in as, registered in the target tenant with exactly the permissions a " +
			"migration target needs, and consented to: the automatic *Application registration* step of a migration wizard, as code. " +
			"With `mailbox_scope`, mailbox access is limited to some mailboxes with Exchange RBAC for Applications instead of a tenant-wide consent. " +
			"Every plan checks that no consent or role assignment was removed. It needs the provider's `management` identity.",
		Attributes: merged(migrationApplicationComputedAttributes(keep), migrationApplicationSecretAttributes(), map[string]schema.Attribute{
			"id": computed("The application's client ID; also the import ID."),
			"display_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Display name of the application. Changing it updates in place.",
				Validators:          []validator.String{nonBlank()},
			},
			"protocol": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(string(roles.ProtocolGraph)),
				MarkdownDescription: "How the migration engine reaches the mailboxes: " + protocolDescription + " Accepted in any case (`\"EWS\"` is `ews`).",
				Validators:          []validator.String{stringvalidator.OneOfCaseInsensitive(roles.Protocols()...)},
			},
			"public_folders": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Also migrate public folders. Public folders exist only over EWS (neither Microsoft Graph nor its mailbox import API has them), so this needs `protocol = \"ews\"` (whose permission covers them).",
			},
			"read_target_items": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "With `protocol = \"graph_import\"`: also grant `" + roles.ReadItemsNeed().Entra.Value + "` (with `mailbox_scope`, the Exchange role `" +
					roles.ReadItemsNeed().Exchange.Name + "`), so the migration can list the items already in the target mailboxes: incremental runs " +
					"and no duplicates. Import alone does not need it. An error with another protocol.",
			},
			"user_management": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Also grant `" + roles.UserManagementNeed().Entra.Value + "`, so the migration can create users and mailboxes (the optional user-management role of a user connection).",
			},
			"mailbox_scope": mailboxScopeAttribute(),
			"certificate": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A public certificate (PEM) registered as the application's credential: the recommended one, since no secret exists " +
					"anywhere (the migration engine keeps the private key). Checked at plan time: it must parse and must not have expired, and " +
					"private-key material (any `PRIVATE KEY` PEM block, e.g. a `key_and_cert.pem` bundle) is refused without showing the value: " +
					"pass the `.crt` (`openssl x509 -in key_and_cert.pem -out migration.crt`).",
			},
			"create_client_secret": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Add a client secret to the application and return it in `client_secret`.",
			},
			"client_secret_lifetime_days": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(defaultSecretLifetimeDays),
				MarkdownDescription: "Lifetime of the client secret in days, from 1 to 730. Defaults to " + strconv.Itoa(defaultSecretLifetimeDays) +
					". Changing it replaces the secret (the old one is kept as the retiring secret, see `client_secret_overlap_days`).",
				Validators: []validator.Int64{int64validator.Between(1, 730)},
			},
			"client_secret": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "The client secret, with `create_client_secret = true`. Microsoft shows a secret only once, when it is created, " +
					"so it is **stored in the Terraform state**: protect the state accordingly, or prefer `certificate`.",
			},
		}),
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

// mailboxScopeAttribute limits the application to the mailboxes of a filter with Exchange RBAC for Applications.
func mailboxScopeAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Limit mailbox access to some mailboxes with Exchange **RBAC for Applications**: instead of a tenant-wide consent for mail, " +
			"calendars, contacts and mailbox settings, the resource creates the application's Exchange service principal, a management scope with " +
			"this filter and `Application …` role assignments limited to it. The directory permissions (" + needValues(roles.DirectoryNeeds()) + ") stay Entra consents. " +
			"Needs " + permissionValues(roles.ManageScopes.Permissions) + " and " + roles.ManageScopes.DirectoryRole + " for the management identity. Exchange may take 30 minutes to 2 hours " +
			"before a change reaches the mailboxes.",
		Attributes: map[string]schema.Attribute{
			"recipient_filter": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "OPATH recipient filter of the mailboxes the application may open, e.g. `CustomAttribute15 -eq 'migrate'` or " +
					"`Department -eq 'Sales'`. Its syntax is checked at plan time (operators with a hyphen, values in quotes, balanced " +
					"parentheses); a create whose filter Exchange refuses is undone, so no half-made application is left.",
				Validators: []validator.String{nonBlank(), recipientFilter()},
			},
		},
	}
}

// migrationApplicationComputedAttributes are what a registration finds.
func migrationApplicationComputedAttributes(keep []planmodifier.String) map[string]schema.Attribute {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: desc}
	}
	permissionSet := func(desc string) schema.SetAttribute {
		return schema.SetAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"client_id":            computed("Application (client) ID: what the migration engine signs in with."),
		"object_id":            computed("Object ID of the application."),
		"service_principal_id": computed("Object ID of the application's service principal in the tenant (the principal of its consents)."),
		"tenant_id":            computed("The tenant's ID."),
		"required_permissions": permissionSet("Permissions the application needs with these settings: `" + mailGraph.Entra.String() + "`-style Entra " +
			"permissions and, with `mailbox_scope`, `" + mailGraph.Exchange.String() + "`-style Exchange application roles."),
		"granted_permissions": permissionSet("Required permissions found granted at the last read."),
		"missing_permissions": permissionSet("Required permissions not granted: a consent or role assignment removed outside Terraform shows " +
			"here at plan time and is granted again by the next apply. Empty after a successful apply."),
		"adopted": schema.BoolAttribute{
			Computed: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			MarkdownDescription: "Whether the application was adopted by `terraform import` rather than created by this resource. " +
				"Destroying an adopted application removes only what Terraform added to it since (the client secrets and certificate it added, " +
				"the consents it granted, and the service principal, management scope and Exchange role assignments it made) and leaves the " +
				"application with everything it had before; a created application is deleted.",
		},
		"credential_expires_at": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "Earliest expiry (RFC 3339) of the credentials this resource manages. Plans warn 30 days before it and fail once it has passed.",
		},
	}
}
