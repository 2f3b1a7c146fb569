package provider

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// providerData is what the provider hands its resources and data sources: the resolved
// configuration and one connection environment (HTTP pool, token caches) for the process.
type providerData struct {
	cfg resolvedConfig
	env *connection.Env

	// handover carries the assignments a connection created from its Delete to the Create
	// that follows in the same apply when Terraform replaces it (a tainted connection, or
	// -replace): Create gets no prior state, and a directory role assignment, unlike an
	// Exchange one, has no name by which the new instance could recognise it as its own.
	mu       sync.Mutex
	handover map[string][]connection.Managed

	// findings carries a connection's diagnosis from its Read to the ModifyPlan of the same
	// plan (target_connection_diagnosis.go).
	findings findings
}

// handOver keeps what a forgotten connection created for a Create of the same id.
func (d *providerData) handOver(id string, ms []connection.Managed) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handover == nil {
		d.handover = map[string][]connection.Managed{}
	}
	d.handover[id] = ms
}

// takeOver returns (once) what a Delete of the same id handed over.
func (d *providerData) takeOver(id string) []connection.Managed {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ms := d.handover[id]
	delete(d.handover, id)
	return ms
}

func newProviderData(cfg resolvedConfig) (*providerData, error) {
	hc, err := transport.NewHTTPClient(cfg.CAPEM)
	if err != nil {
		return nil, err
	}
	return &providerData{cfg: cfg, env: &connection.Env{
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
