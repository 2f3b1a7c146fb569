package provider

import (
	"context"
	"time"

	"github.com/google/uuid"
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

	// run names this provider process: the private state a refresh writes for the plan that
	// follows is recognised by it (finding, target_connection_diagnosis.go).
	run string
	// handovers carry a replaced connection's assignments from its Delete to its Create.
	handovers handovers
	// managementRoles is the plan-time read of the management identity's directory roles,
	// once per process (provider_management.go).
	managementRoles managementRolesCheck
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
