// Package provider is the Terraform glue of the o365 provider: schemas, validators, plan
// modifiers and diagnostics. It makes no HTTP call itself; the Microsoft API clients and the
// connection logic live in their own packages.
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
)

// Environment variables read when an argument is not set in configuration.
const (
	EnvCloud            = "O365_CLOUD"
	EnvLoginEndpoint    = "O365_LOGIN_ENDPOINT"
	EnvGraphEndpoint    = "O365_GRAPH_ENDPOINT"
	EnvExchangeEndpoint = "O365_EXCHANGE_ENDPOINT"
	EnvCACertFile       = "O365_CA_CERTIFICATE_FILE"
	EnvClientID         = "O365_CLIENT_ID"
	EnvMaxRetries       = "O365_MAX_RETRIES"
)

// DefaultClientID is the public client used for the password grant when `client_id` is not
// set: Microsoft's "Exchange REST API Based PowerShell" application (WIRE.md §A10), which
// Exchange Online admins already use. A tenant may require its own registered public client.
const DefaultClientID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"

// DefaultMaxRetries bounds retries of throttled or transient calls.
const DefaultMaxRetries = 5

var _ provider.ProviderWithValidateConfig = (*o365Provider)(nil)
var _ provider.ProviderWithFunctions = (*o365Provider)(nil)

// New returns a constructor of the provider for providerserver.Serve.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &o365Provider{version: version, getenv: os.Getenv, logs: true}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

// Option changes how New builds the provider.
type Option func(*o365Provider)

// WithLogs says whether anyone will see the provider's log lines (internal/clilog decides it
// from the CLI's environment). Without them the API clients get no logger, so they build no
// line; the default is with.
func WithLogs(on bool) Option {
	return func(p *o365Provider) { p.logs = on }
}

type o365Provider struct {
	version string
	getenv  func(string) string
	logs    bool // the API clients' lines go to tflog (WithLogs)
}

type providerModel struct {
	Cloud             types.String     `tfsdk:"cloud"`
	Endpoints         *endpointsModel  `tfsdk:"endpoints"`
	CACertificateFile types.String     `tfsdk:"ca_certificate_file"`
	ClientID          types.String     `tfsdk:"client_id"`
	MaxRetries        types.Int64      `tfsdk:"max_retries"`
	Management        *managementModel `tfsdk:"management"`
}

type endpointsModel struct {
	Login    types.String `tfsdk:"login"`
	Graph    types.String `tfsdk:"graph"`
	Exchange types.String `tfsdk:"exchange"`
}

func (p *o365Provider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "o365"
	resp.Version = p.version
}

func (p *o365Provider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	endpoint := func(surface, env string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Base URL of the " + surface + ", replacing the cloud's own host (sovereign deployments, proxies, the emulated tenant). " +
				"`https` only. Environment variable: `" + env + "`.",
			Validators: []validator.String{httpsURL()},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The `o365` provider connects an Exchange Online admin account as the target of a mailbox migration: " +
			"it verifies Exchange Web Services access and impersonation, assigns the management roles the migration needs, " +
			"and checks on every plan that nothing has drifted.",
		Attributes: map[string]schema.Attribute{
			"cloud": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Default Microsoft cloud for resources: `worldwide` (includes GCC), `germany`, `usgovernment` (GCC High), " +
					"`usgovernment_dod` or `china` (21Vianet). Defaults to `worldwide`. Environment variable: `" + EnvCloud + "`.",
				Validators: []validator.String{stringvalidator.OneOf(cloud.Names()...)},
			},
			"endpoints": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Override the cloud's hosts. Tokens are still requested for the cloud's own resources, so a proxy or the emulated tenant must serve the same audiences.",
				Attributes: map[string]schema.Attribute{
					"login":    endpoint("Microsoft identity platform (token endpoint)", EnvLoginEndpoint),
					"graph":    endpoint("Microsoft Graph API", EnvGraphEndpoint),
					"exchange": endpoint("Exchange Online host (EWS and the Exchange admin API)", EnvExchangeEndpoint),
				},
			},
			"ca_certificate_file": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of a PEM file with extra CA certificates to trust, besides the system's. " +
					"It only adds trust: TLS verification is never switched off. Environment variable: `" + EnvCACertFile + "`.",
				Validators: []validator.String{pemFile()},
			},
			"client_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Application (client) ID of the public client used for the password grant. Defaults to `" + DefaultClientID +
					"` (Microsoft's Exchange Online PowerShell client); register your own public client if your tenant requires it. Environment variable: `" + EnvClientID + "`.",
				Validators: []validator.String{guid()},
			},
			"management": managementSchema(),
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "How many times a throttled or transient call (HTTP 429, 503, 504, EWS `ErrorServerBusy`) is retried, honouring " +
					"`Retry-After` and `BackOffMilliseconds`. Defaults to 5. Environment variable: `" + EnvMaxRetries + "`.",
				Validators: []validator.Int64{int64validator.Between(0, 20)},
			},
		},
	}
}

func (p *o365Provider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var c types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("cloud"), &c)...)
	if !c.IsNull() && !c.IsUnknown() {
		warnRetiredCloud(c.ValueString(), path.Root("cloud"), &resp.Diagnostics)
	}
	validateManagementConfig(ctx, req, resp)
}

func warnRetiredCloud(name string, at path.Path, diags *diag.Diagnostics) {
	if cl, ok := cloud.Lookup(name); ok && cl.Retired != "" {
		diags.AddAttributeWarning(at, "Cloud "+name+" is retired", cl.Retired)
	}
}

func (p *o365Provider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, diags := resolveConfig(m, p.getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	data, err := newProviderData(cfg)
	if err != nil {
		resp.Diagnostics.AddError("Cannot set up the provider's HTTP client", err.Error())
		return
	}
	if !p.logs {
		data.env.Log = nil // nobody sees them: the clients skip building their lines
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *o365Provider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newTargetConnectionResource, newTargetAppConnectionResource, newMigrationApplicationResource}
}

func (p *o365Provider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newRolesDataSource}
}

// Functions are the provider-defined functions (Terraform 1.8+, OpenTofu 1.7+).
func (p *o365Provider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newCertificateThumbprintFunction, newCertificateInfoFunction}
}
