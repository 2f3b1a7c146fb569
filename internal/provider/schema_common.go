package provider

import (
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The attributes both target connection resources (o365_target_connection and
// o365_target_app_connection) declare alike, so the two schemas cannot drift apart.

// connectionIDAttribute is the computed `id`, kept from state once known; desc says what it
// is made of.
func connectionIDAttribute(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		MarkdownDescription: desc,
	}
}

// connectionNameAttribute is the connection's display `name`, updated in place.
func connectionNameAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Display name of the connection. Changing it updates in place.",
		Validators:          []validator.String{nonBlank()},
	}
}

// connectionCloudAttribute is the tenant's `cloud`, defaulting to the provider's; a
// configured change replaces the connection.
func connectionCloudAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true,
		MarkdownDescription: "Microsoft cloud of the tenant: `worldwide`, `germany`, `usgovernment`, `usgovernment_dod` or `china`. " +
			"Defaults to the provider's `cloud`. Changing it replaces the connection.",
		Validators:    []validator.String{stringvalidator.OneOf(cloud.Names()...)},
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
	}
}

// mailGraph is the Graph protocol's mailbox need, the example the descriptions of permission
// strings give.
var mailGraph = roles.MailboxNeed(roles.ProtocolGraph)

// merged is the union of attribute maps: a schema's configured and computed attributes,
// declared apart.
func merged(parts ...map[string]schema.Attribute) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for _, p := range parts {
		maps.Copy(out, p)
	}
	return out
}
