package provider

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// providerData is what the provider hands its resources and data sources: the resolved
// configuration and one connection environment (HTTP pool, token caches) for the process.
type providerData struct {
	cfg resolvedConfig
	env *connection.Env

	// run names this provider process: the private state a refresh writes for the plan that
	// follows is recognised by it (finding, target_connection_diagnosis.go).
	run string
	// handovers carry a replaced connection's assignments from its Delete to its Create.
	handovers handovers
	// managementRoles is the plan-time read of the management identity's directory roles,
	// once per process (provider_management.go).
	managementRoles managementRolesCheck
	// warned are the warnings this process has given, by application and problem: a
	// problem shared by many connections (a consent removed from their one application) is
	// one warning per plan, not one per connection.
	warned warnedOnce
	// newConnections are the ids of the o365_target_app_connection objects this process
	// planned to create: two with one id are two connections of one application sharing a name.
	newConnections warnedOnce
	// regrants are the permissions an o365_migration_application planned in this process
	// to grant again; its connections, planned after it (they refer to it), do not warn of them.
	regrants plannedGrants
}

// plannedGrants are permission strings ("Microsoft Graph/User.Read.All") by application
// ("<tenant id>/<client id>", lower case) that a plan of this process grants again.
type plannedGrants struct {
	mu  sync.Mutex
	set map[string]map[string]bool
}

// add records that this process's plan grants perms of app again.
func (g *plannedGrants) add(app string, perms []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.set == nil {
		g.set = map[string]map[string]bool{}
	}
	if g.set[app] == nil {
		g.set[app] = map[string]bool{}
	}
	for _, p := range perms {
		g.set[app][p] = true
	}
}

// covers reports whether this process's plan grants every one of perms of app again.
func (g *plannedGrants) covers(app string, perms []string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range perms {
		if !g.set[app][p] {
			return false
		}
	}
	return len(perms) > 0
}

// warnedOnce remembers the keys of the warnings given in this provider process.
type warnedOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether key is new to this process, and remembers it.
func (w *warnedOnce) first(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[key] {
		return false
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[key] = true
	return true
}

// warnOnce adds the warning unless this process has given the one of key already.
func (d *providerData) warnOnce(diags *diag.Diagnostics, key string, at path.Path, summary, detail string) {
	if d != nil && !d.warned.first(key) {
		return
	}
	if at.Equal(path.Empty()) {
		diags.AddWarning(summary, detail)
		return
	}
	diags.AddAttributeWarning(at, summary, detail)
}

func newProviderData(cfg resolvedConfig) (*providerData, error) {
	hc, err := transport.NewHTTPClient(cfg.CAPEM)
	if err != nil {
		return nil, err
	}
	return &providerData{cfg: cfg, run: uuid.NewString(), env: &connection.Env{
		HTTP:       hc,
		ClientID:   cfg.ClientID,
		MaxRetries: cfg.MaxRetries,
		Log:        tflogBridge,
		Now:        time.Now,
	}}, nil
}

// tflogBridge sends the API clients' log lines to Terraform's log (TF_LOG), at debug level.
// The clients never pass secrets; the resource's context also masks them.
func tflogBridge(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

var objectAsOptions = basetypes.ObjectAsOptions{}

// warnEWSEnd gives the notice of EWS's end in Exchange Online once per provider process (so
// once per plan, whatever the number of resources over EWS), from ModifyPlan, which a destroy
// does not reach with a plan: never on destroy.
func (d *providerData) warnEWSEnd(diags *diag.Diagnostics, protocol string) {
	if roles.ProtocolOf(protocol) != roles.ProtocolEWS {
		return
	}
	d.warnOnce(diags, "ews-end", path.Root("protocol"), "EWS ends in Exchange Online on "+roles.EWSEnd,
		"Microsoft switches Exchange Web Services off in Exchange Online tenant by tenant from 1 October 2026 and for everyone on "+roles.EWSEnd+
			" (MC1227454). A migration over EWS must finish before then, and an application registered for EWS stops working then; "+
			"`protocol = \"graph\"` (Microsoft Graph) is the lasting path.")
}
