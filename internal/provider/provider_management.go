package provider

// The provider's `management` block (DESIGN.md §7.1): the Entra application that changes the
// tenant's registrations, used only by o365_migration_application. Each argument has its
// environment variable; the configuration wins over the environment. Everything is checked
// when the provider is configured, which is at plan time.

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Environment variables of the management block.
const (
	EnvTenantID                = "O365_TENANT_ID"
	EnvManagementClientID      = "O365_MANAGEMENT_CLIENT_ID"
	EnvManagementClientSecret  = "O365_MANAGEMENT_CLIENT_SECRET"
	EnvManagementCertFile      = "O365_MANAGEMENT_CLIENT_CERTIFICATE_FILE"
	EnvManagementCertPassword  = "O365_MANAGEMENT_CLIENT_CERTIFICATE_PASSWORD"
	EnvManagementFederatedFile = "O365_MANAGEMENT_FEDERATED_TOKEN_FILE"
	// EnvAzureFederatedTokenFile is where workload identity webhooks (AKS) and many CI
	// integrations put the token; read when the provider's own variable is unset.
	EnvAzureFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE"
)

type managementModel struct {
	TenantID                  types.String `tfsdk:"tenant_id"`
	ClientID                  types.String `tfsdk:"client_id"`
	ClientSecret              types.String `tfsdk:"client_secret"`
	ClientCertificateFile     types.String `tfsdk:"client_certificate_file"`
	ClientCertificatePassword types.String `tfsdk:"client_certificate_password"`
	FederatedTokenFile        types.String `tfsdk:"federated_token_file"`
}

// managementConfig is the resolved management identity.
type managementConfig struct {
	TenantID, ClientID string
	Credential         connection.Credential
	// Secrets are the values to mask in logs.
	Secrets []string
}

// Principal is the management identity as the connection logic signs it in.
func (m *managementConfig) Principal() connection.Principal {
	return connection.App(m.TenantID, m.ClientID, m.Credential)
}

func managementSchema() schema.Attribute {
	env := func(names ...string) string {
		return " Environment variable: `" + strings.Join(names, "`, else `") + "`."
	}
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The management identity: an Entra application of your organisation that creates and changes application registrations " +
			"(`o365_migration_application`); no other resource uses it. It needs the Microsoft Graph application permissions " +
			permissionValues(append(roles.ManageRegistrations.Permissions, roles.ManageConsent.Permissions...)) + " and the directory role " +
			roles.ManageConsent.DirectoryRole + " to consent to Graph permissions; for `mailbox_scope` also the Exchange Online permission " +
			permissionValues(roles.ManageScopes.Permissions) + " and the " + roles.ManageScopes.DirectoryRole + " role. " +
			"Give exactly one credential: `client_secret`, `client_certificate_file` or `federated_token_file`.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The tenant: its ID (GUID) or a verified domain." + env(EnvTenantID),
				Validators:          []validator.String{nonBlank()},
			},
			"client_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Application (client) ID of the management application." + env(EnvManagementClientID),
				Validators:          []validator.String{guid()},
			},
			"client_secret": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "A client secret of the management application." + env(EnvManagementClientSecret),
				Validators:          []validator.String{nonBlank()},
			},
			"client_certificate_file": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of the management application's certificate with its private key: a PEM file (certificate and unencrypted RSA key) " +
					"or a PKCS#12 file (`.pfx`, with `client_certificate_password`)." + env(EnvManagementCertFile),
				Validators: []validator.String{nonBlank()},
			},
			"client_certificate_password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Password of the PKCS#12 file in `client_certificate_file`." + env(EnvManagementCertPassword),
			},
			"federated_token_file": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of a federated token (workload identity federation): a CI system's OIDC token, such as GitHub Actions' or a " +
					"Kubernetes service account's, trusted by a federated credential of the management application. No secret is stored anywhere. " +
					"The file is read at every sign-in, so a rotated token is picked up." + env(EnvManagementFederatedFile, EnvAzureFederatedTokenFile),
				Validators: []validator.String{nonBlank()},
			},
		},
	}
}

// validateManagementConfig checks what configuration alone tells: not two credentials.
// The rest (environment, files) is checked by resolveManagement when the provider is
// configured.
func validateManagementConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m *managementModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("management"), &m)...)
	if m == nil {
		return
	}
	var set []string
	for name, v := range map[string]types.String{"client_secret": m.ClientSecret, "client_certificate_file": m.ClientCertificateFile, "federated_token_file": m.FederatedTokenFile} {
		if !v.IsNull() {
			set = append(set, name)
		}
	}
	if len(set) > 1 {
		resp.Diagnostics.AddAttributeError(path.Root("management"), "More than one management credential",
			fmt.Sprintf("management sets %s: give exactly one of `client_secret`, `client_certificate_file` and `federated_token_file`.", strings.Join(sorted(set), " and ")))
	}
}

// resolveManagement applies the environment to the management block and checks the result.
// No block and no environment variable: nil (resources that need it say so).
func resolveManagement(m *managementModel, getenv func(string) string) (*managementConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m == nil {
		m = &managementModel{}
	}
	at := path.Root("management")
	pick := func(v types.String, envs ...string) (string, string) {
		if !v.IsNull() && !v.IsUnknown() {
			return v.ValueString(), ""
		}
		for _, e := range envs {
			if s := getenv(e); s != "" {
				return s, e
			}
		}
		return "", ""
	}
	name := func(attr, env string) string {
		if env != "" {
			return "management." + attr + " (from environment variable " + env + ")"
		}
		return "management." + attr
	}
	tenant, _ := pick(m.TenantID, EnvTenantID)
	client, clientEnv := pick(m.ClientID, EnvManagementClientID)
	secret, secretEnv := pick(m.ClientSecret, EnvManagementClientSecret)
	certFile, certEnv := pick(m.ClientCertificateFile, EnvManagementCertFile)
	certPassword, _ := pick(m.ClientCertificatePassword, EnvManagementCertPassword)
	tokenFile, tokenEnv := pick(m.FederatedTokenFile, EnvManagementFederatedFile, EnvAzureFederatedTokenFile)
	explicitBlock := !m.TenantID.IsNull() || !m.ClientID.IsNull() || !m.ClientSecret.IsNull() || !m.ClientCertificateFile.IsNull() || !m.FederatedTokenFile.IsNull()
	if !explicitBlock && client == "" && getenv(EnvManagementClientSecret) == "" && getenv(EnvManagementCertFile) == "" && getenv(EnvManagementFederatedFile) == "" {
		return nil, nil // no management identity; AZURE_FEDERATED_TOKEN_FILE alone does not make one
	}
	if tenant == "" {
		diags.AddAttributeError(at.AtName("tenant_id"), "Management tenant missing",
			"The management identity needs its tenant: set `management.tenant_id` (the tenant ID or a verified domain) or the environment variable "+EnvTenantID+".")
	}
	switch {
	case client == "":
		diags.AddAttributeError(at.AtName("client_id"), "Management client ID missing",
			"The management identity needs its application (client) ID: set `management.client_id` or the environment variable "+EnvManagementClientID+".")
	case !guidPattern.MatchString(client):
		diags.AddAttributeError(at.AtName("client_id"), "Invalid client ID",
			fmt.Sprintf("%s must be an application (client) ID, a GUID; got %q.", name("client_id", clientEnv), client))
	}
	// A credential from configuration wins over the environment's; two from the same
	// place are an error.
	type cred struct {
		attr, value, env string
	}
	var creds []cred
	for _, c := range []cred{{"client_secret", secret, secretEnv}, {"client_certificate_file", certFile, certEnv}, {"federated_token_file", tokenFile, tokenEnv}} {
		if c.value != "" {
			creds = append(creds, c)
		}
	}
	if len(creds) > 1 {
		var fromConfig []cred
		for _, c := range creds {
			if c.env == "" {
				fromConfig = append(fromConfig, c)
			}
		}
		if len(fromConfig) == 1 {
			creds = fromConfig
		}
	}
	cfg := &managementConfig{TenantID: tenant, ClientID: client}
	switch len(creds) {
	case 0:
		diags.AddAttributeError(at, "Management credential missing",
			"The management identity needs one credential: `management.client_secret` ("+EnvManagementClientSecret+"), `management.client_certificate_file` ("+
				EnvManagementCertFile+") or `management.federated_token_file` ("+EnvManagementFederatedFile+").")
		return nil, diags
	case 1:
	default:
		var names []string
		for _, c := range creds {
			names = append(names, name(c.attr, c.env))
		}
		diags.AddAttributeError(at, "More than one management credential",
			"Give exactly one management credential; found "+strings.Join(names, " and ")+".")
		return nil, diags
	}
	c := creds[0]
	switch c.attr {
	case "client_secret":
		cfg.Credential = connection.Credential{Kind: connection.ClientSecret, Secret: c.value}
		cfg.Secrets = []string{c.value}
	case "client_certificate_file":
		data, err := os.ReadFile(c.value)
		if err != nil {
			diags.AddAttributeError(at.AtName("client_certificate_file"), "Unusable management certificate",
				fmt.Sprintf("%s: cannot read %q: %v. Give the path of a readable PEM or PKCS#12 file.", name(c.attr, c.env), c.value, unwrapPath(err)))
			return nil, diags
		}
		if _, err := connection.ParseCertificate(string(data), certPassword); err != nil {
			diags.AddAttributeError(at.AtName("client_certificate_file"), "Unusable management certificate",
				fmt.Sprintf("%s (%s): %v.", name(c.attr, c.env), c.value, err))
			return nil, diags
		}
		cfg.Credential = connection.Credential{Kind: connection.ClientCertificate, Secret: string(data), CertificatePassword: certPassword}
		cfg.Secrets = []string{certPassword}
	case "federated_token_file":
		if _, err := os.Stat(c.value); err != nil {
			diags.AddAttributeError(at.AtName("federated_token_file"), "Unusable federated token file",
				fmt.Sprintf("%s: %q: %v. Point it at the token file your CI system or workload identity writes.", name(c.attr, c.env), c.value, unwrapPath(err)))
			return nil, diags
		}
		cfg.Credential = connection.Credential{Kind: connection.FederatedToken, Secret: c.value}
	}
	if diags.HasError() {
		return nil, diags
	}
	return cfg, diags
}

// permissionValues lists permissions' values for a description: "`A`, `B` and `C`".
func permissionValues(ps []roles.Permission) string {
	vs := make([]string, 0, len(ps))
	for _, p := range ps {
		vs = append(vs, "`"+p.Value+"`")
	}
	if len(vs) < 2 {
		return strings.Join(vs, "")
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " and " + vs[len(vs)-1]
}

// needValues lists the Entra permissions of needs for a description.
func needValues(ns []roles.Need) string {
	ps := make([]roles.Permission, 0, len(ns))
	for _, n := range ns {
		ps = append(ps, n.Entra)
	}
	return permissionValues(ps)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func sorted(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}
