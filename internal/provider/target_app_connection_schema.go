package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

func (r *targetAppConnectionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	keepSet := []planmodifier.Set{setplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Version: appConnectionSchemaVersion,
		MarkdownDescription: "A target connection of an Office 365 mailbox migration made of an Entra **application** (app-only authentication with a " +
			"certificate or a client secret), the connection that works against Exchange Online today. Every plan verifies that the application " +
			"can open each mailbox in `verify_mailboxes` (Microsoft Graph, or EWS with impersonation) and shows what has drifted, with the fix. " +
			"It assigns nothing itself: register and consent the application with `o365_migration_application`, the azuread provider, or by hand.",
		Attributes: merged(appConnectionComputedAttributes(keep, keepSet), appConnectionCredentialAttributes(), map[string]schema.Attribute{
			"id": connectionIDAttribute("`<tenant_id>/<client_id>/<name>`: the tenant's ID (a GUID, also for a `tenant` given as a domain) and the " +
				"client ID in lower case, then the name as written; also the import ID. Known at plan time when the tenant's identity platform answers."),
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the connection, unique among the connections of one application (it is part of `id` and of the resource " +
					"identity). Changing it replaces the connection, which is harmless: the connection exists only in Terraform, and the replacement " +
					"verifies it again.",
				Validators:    []validator.String{nonBlank()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"cloud": connectionCloudAttribute(),
			"tenant": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The target tenant: its ID (a GUID) or a verified domain such as `contoso.onmicrosoft.com`. " +
					"Changing it to another tenant replaces the connection; another name of the same tenant (its ID for one of its domains) updates in place.",
				Validators: []validator.String{tenantName()},
			},
			"client_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Application (client) ID of the app registration. Changing it replaces the connection.",
				Validators:          []validator.String{guid()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"protocol": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(string(roles.ProtocolGraph)),
				MarkdownDescription: "How the migration reaches the mailboxes, and so how each mailbox is verified: `graph` (Microsoft Graph, the default; " +
					"the mailbox's inbox is read), `graph_import` (Microsoft Graph's mailbox import and export API; the mailbox id is read, one folder listed and an " +
					"import session created, whose upload URL is discarded unused and never logged or stored; worldwide cloud only) or `ews` (Exchange Web Services with " +
					"impersonation; a plan warns once that EWS ends in Exchange Online on " + roles.EWSEnd + "). Accepted in any case (`\"EWS\"` is `ews`).",
				Validators: []validator.String{stringvalidator.OneOfCaseInsensitive(roles.Protocols()...)},
			},
			"verify_mailboxes": schema.SetAttribute{
				Required: true, ElementType: types.StringType,
				MarkdownDescription: "Addresses of mailboxes the migration will write to (at least one). Each is opened on every plan; one the " +
					"application cannot reach shows in `unreachable_mailboxes`.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(emailAddress())},
			},
		}),
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

// appConnectionCredentialAttributes are the application's credential: exactly one of a secret or a certificate,
// stored or write-only.
func appConnectionCredentialAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"client_secret": schema.StringAttribute{
			Optional: true, Sensitive: true,
			MarkdownDescription: "A client secret's **value** (not its ID). Set exactly one of " + appCredentialNames() +
				"; a certificate is the recommended credential.",
			Validators: []validator.String{nonBlank()},
		},
		"client_certificate": schema.StringAttribute{
			Optional: true, Sensitive: true,
			MarkdownDescription: "The application's certificate with its private key: PEM text (certificate and unencrypted RSA key, " +
				"e.g. `file(\"app.pem\")`), or a PKCS#12 file in base64 (`filebase64(\"app.pfx\")`) with `client_certificate_password`. " +
				"Checked at plan time: it must parse, hold an RSA key and not be expired; a plan warns 30 days before it expires.",
			Validators: []validator.String{nonBlank()},
		},
		"client_certificate_password": schema.StringAttribute{
			Optional: true, Sensitive: true,
			MarkdownDescription: "Password of a PKCS#12 `client_certificate` (or `client_certificate_wo`).",
		},
		"client_secret_wo": schema.StringAttribute{
			Optional: true, Sensitive: true, WriteOnly: true,
			MarkdownDescription: "Write-only alternative to `client_secret`: never stored in state (Terraform 1.11+ / OpenTofu 1.11+). " +
				"Each plan verifies the connection with the value in the configuration, as with a stored secret; only a value unknown until apply " +
				"leaves the plan unverified, with a warning. Change `credential_wo_version` to apply a new value.",
			Validators: []validator.String{nonBlank()},
		},
		"client_certificate_wo": schema.StringAttribute{
			Optional: true, Sensitive: true, WriteOnly: true,
			MarkdownDescription: "Write-only alternative to `client_certificate`, never stored in state; plans verify with it as with `client_secret_wo`. " +
				"Change `credential_wo_version` to apply a new value.",
			Validators: []validator.String{nonBlank()},
		},
		"credential_wo_version": schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: "Any number; change it to make apply use a new `client_secret_wo` / `client_certificate_wo` (write-only values never show as a change).",
		},
	}
}

// appConnectionComputedAttributes are what a check of o365_target_app_connection finds.
func appConnectionComputedAttributes(keep []planmodifier.String, keepSet []planmodifier.Set) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tenant_id": schema.StringAttribute{
			Computed: true, PlanModifiers: keep,
			MarkdownDescription: "The tenant's GUID.",
		},
		"granted_permissions": schema.SetAttribute{
			Computed: true, ElementType: types.StringType, PlanModifiers: keepSet,
			MarkdownDescription: "The permissions the migration needs that the application holds: application permissions from its token " +
				"(`" + mailGraph.Entra.String() + "`) and Exchange application roles (`" + mailGraph.Exchange.String() + "`). The roles are read " +
				"only when the application holds `" + roles.ManageAsApp().Value + "`; without it, an application scoped by RBAC for Applications shows its " +
				"mailbox access only through the mailbox probes (its roles are then in neither set).",
		},
		"missing_permissions": schema.SetAttribute{
			Computed: true, ElementType: types.StringType, PlanModifiers: keepSet,
			MarkdownDescription: "The permissions the migration needs that the application lacks. Empty after a successful apply; a consent " +
				"revoked outside Terraform shows here on the next plan, with the command that grants it again.",
		},
		"unreachable_mailboxes": schema.SetAttribute{
			Computed: true, ElementType: types.StringType, PlanModifiers: keepSet,
			MarkdownDescription: "Mailboxes of `verify_mailboxes` the application could not open at the last check: outside its RBAC scope, " +
				"without a mailbox, refused, or closed to EWS.",
		},
		"pending_mailboxes": schema.SetAttribute{
			Computed: true, ElementType: types.StringType, PlanModifiers: keepSet,
			MarkdownDescription: "Mailboxes of `verify_mailboxes` that an Exchange application role of the application covers " +
				"(`Test-ServicePrincipalAuthorization` shows the assignment) but that Microsoft Graph or EWS does not open yet: Exchange applies " +
				"RBAC changes within 30 minutes to 2 hours. Not a failure: apply succeeds and warns, and a later plan finds them open. " +
				"Read with the application's own `" + roles.ManageAsApp().Value + "`, or else with the provider's management identity when one is configured.",
		},
		"ews_status": schema.StringAttribute{
			Computed: true, PlanModifiers: keep,
			MarkdownDescription: "For `protocol = \"ews\"`: `enabled`, `disabled_for_organization`, `disabled_for_mailbox`, `app_not_allowed`, or " +
				"`disabled` when EWS refuses and the application may not read which switch closed it, or EWS in Exchange Online has ended. Null for `graph`. " +
				"EWS closed is recorded by the refresh with a warning naming the command that opens it; the plan proposes no change (the provider cannot " +
				"open EWS), and a plan that would change the connection while EWS is closed fails with the same diagnosis.",
		},
		"credential_expires_at": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "When the certificate expires (RFC 3339), read from the certificate itself. Null for a client secret, whose " +
				"end date is not readable with the migration's own permissions.",
		},
		"verified_at": schema.StringAttribute{
			Computed: true, PlanModifiers: keep,
			MarkdownDescription: "When the last full verification succeeded (RFC 3339). Set by create and update only, so plans stay quiet.",
		},
	}
}
