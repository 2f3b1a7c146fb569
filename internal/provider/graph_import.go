package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// What the three protocols mean, and the plan-time checks of the combinations the mailbox
// import and export API (protocol graph_import, WIRE.md §M) cannot serve. Shared by
// o365_migration_application, o365_target_app_connection and o365_roles.

// protocolDescription describes the values of `protocol` (the docs are generated from it).
var protocolDescription = "`graph` (the default: Microsoft Graph's mail, calendar and contacts APIs with `" + mailGraph.Entra.Value + "` and its family), " +
	"`graph_import` (Microsoft Graph's mailbox import and export API, the full-fidelity path after EWS: `" +
	roles.MailboxNeed(roles.ProtocolGraphImport).Entra.Value + "`, `" + roles.ImportFoldersNeed().Entra.Value + "` and `" +
	roles.ResolveUsersNeed().Entra.Value + "`; primary and shared mailboxes, worldwide cloud only, no public folders; " +
	"each mailbox is verified by creating an import session, whose upload URL is discarded unused) or `ews` (`" +
	roles.MailboxNeed(roles.ProtocolEWS).Entra.Value + "`; Exchange Online switches EWS off for good on " + roles.EWSEnd + ")."

// configuredProtocol is the protocol a configuration names (graph when unset), and whether it
// is known yet.
func configuredProtocol(v types.String) (roles.Protocol, bool) {
	if v.IsUnknown() {
		return "", false
	}
	return roles.ProtocolOrDefault(v.ValueString()), true
}

// checkPublicFoldersProtocol refuses public folders over a protocol without them: only EWS
// has public folders (neither Graph's mail API nor its mailbox import API, WIRE.md §M0).
func checkPublicFoldersProtocol(p roles.Protocol, at path.Path, diags *diag.Diagnostics) {
	if p == roles.ProtocolEWS {
		return
	}
	api := "Microsoft Graph has no API for public folders"
	if p == roles.ProtocolGraphImport {
		api = "The mailbox import and export API serves primary and shared mailboxes only, not public folders (Microsoft has announced no date for them)"
	}
	diags.AddAttributeError(at, "Public folders need EWS",
		api+", so a public-folder migration uses Exchange Web Services. Set protocol = \"ews\" (until "+roles.EWSEnd+"), or remove "+at.String()+".")
}

// checkReadItemsProtocol refuses read_target_items with a protocol other than graph_import,
// whose item listing it grants.
func checkReadItemsProtocol(p roles.Protocol, at path.Path, diags *diag.Diagnostics) {
	if p == roles.ProtocolGraphImport {
		return
	}
	diags.AddAttributeError(at, "read_target_items needs protocol \"graph_import\"",
		"`"+roles.ReadItemsNeed().Entra.Value+"` lists items through the mailbox import and export API, which only protocol = \"graph_import\" uses. "+
			"Set protocol = \"graph_import\", or remove "+at.String()+" (protocol \""+string(p)+"\" reads the mailboxes with its own permissions).")
}

// checkGraphImportCloud refuses graph_import in a cloud where Microsoft does not offer the
// mailbox import and export API (WIRE.md §M1.4), naming the alternatives.
func checkGraphImportCloud(p roles.Protocol, cloudName string, diags *diag.Diagnostics) {
	if p != roles.ProtocolGraphImport {
		return
	}
	c, ok := cloud.Lookup(cloudName)
	if !ok || c.GraphImport {
		return
	}
	diags.AddAttributeError(path.Root("protocol"), "graph_import is not offered in cloud \""+cloudName+"\"",
		"Microsoft offers the mailbox import and export API of Microsoft Graph in the worldwide cloud only: not in "+c.Description+
			" (cloud \""+cloudName+"\"). Set protocol = \"graph\" (Microsoft Graph's mail, calendar and contacts APIs), "+
			"or protocol = \"ews\" while Exchange Web Services lasts in that cloud.")
}
