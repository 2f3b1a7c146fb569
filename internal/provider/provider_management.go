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
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

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

// managementCredential is one credential argument of the management block as the
// configuration or the environment gives it.
type managementCredential struct {
	attr, value string
	env         string // the environment variable it came from, "" for the configuration
}

// resolveManagement applies the environment to the management block and checks the result.
// No block and no environment variable: nil (resources that need it say so). The credential
// is read here, once: a certificate file parsed with its key.
func resolveManagement(m *managementModel, getenv func(string) string) (*managementConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m == nil {
		m = &managementModel{}
	}
	env := lookup{getenv}
	tenant, _ := env.pick(m.TenantID, EnvTenantID)
	client, clientEnv := env.pick(m.ClientID, EnvManagementClientID)
	certPassword, _ := env.pick(m.ClientCertificatePassword, EnvManagementCertPassword)
	var creds []managementCredential
	for _, c := range []struct {
		attr string
		v    types.String
		envs []string
	}{
		{"client_secret", m.ClientSecret, []string{EnvManagementClientSecret}},
		{"client_certificate_file", m.ClientCertificateFile, []string{EnvManagementCertFile}},
		{"federated_token_file", m.FederatedTokenFile, []string{EnvManagementFederatedFile, EnvAzureFederatedTokenFile}},
	} {
		if v, e := env.pick(c.v, c.envs...); v != "" {
			creds = append(creds, managementCredential{attr: c.attr, value: v, env: e})
		}
	}
	explicitBlock := !m.TenantID.IsNull() || !m.ClientID.IsNull() || !m.ClientSecret.IsNull() || !m.ClientCertificateFile.IsNull() || !m.FederatedTokenFile.IsNull()
	if !explicitBlock && client == "" && getenv(EnvManagementClientSecret) == "" && getenv(EnvManagementCertFile) == "" && getenv(EnvManagementFederatedFile) == "" {
		return nil, nil // no management identity; AZURE_FEDERATED_TOKEN_FILE alone does not make one
	}
	checkManagementIdentity(tenant, client, clientEnv, &diags)
	c, ok := oneManagementCredential(creds, &diags)
	if !ok {
		return nil, diags
	}
	cred, secrets, ok := c.read(certPassword, &diags)
	if !ok || diags.HasError() {
		return nil, diags
	}
	return &managementConfig{TenantID: tenant, ClientID: client, Credential: cred, Secrets: secrets}, diags
}

// checkManagementIdentity: the management identity needs its tenant and a client id that is a
// GUID.
func checkManagementIdentity(tenant, client, clientEnv string, diags *diag.Diagnostics) {
	at := path.Root("management")
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
			fmt.Sprintf("%s must be an application (client) ID, a GUID; got %q.", managementName("client_id", clientEnv), client))
	}
}

// oneManagementCredential picks the one credential given: one from the configuration wins
// over the environment's; none, or two from the same place, are an error.
func oneManagementCredential(creds []managementCredential, diags *diag.Diagnostics) (managementCredential, bool) {
	if len(creds) > 1 {
		var fromConfig []managementCredential
		for _, c := range creds {
			if c.env == "" {
				fromConfig = append(fromConfig, c)
			}
		}
		if len(fromConfig) == 1 {
			creds = fromConfig
		}
	}
	at := path.Root("management")
	switch len(creds) {
	case 0:
		diags.AddAttributeError(at, "Management credential missing",
			"The management identity needs one credential: `management.client_secret` ("+EnvManagementClientSecret+"), `management.client_certificate_file` ("+
				EnvManagementCertFile+") or `management.federated_token_file` ("+EnvManagementFederatedFile+").")
		return managementCredential{}, false
	case 1:
		return creds[0], true
	}
	var names []string
	for _, c := range creds {
		names = append(names, managementName(c.attr, c.env))
	}
	diags.AddAttributeError(at, "More than one management credential", "Give exactly one management credential; found "+strings.Join(names, " and ")+".")
	return managementCredential{}, false
}

// read makes the typed credential: a certificate file read and parsed with its key, a token
// file that exists. It returns the values log lines must never show.
func (c managementCredential) read(certPassword string, diags *diag.Diagnostics) (connection.Credential, []string, bool) {
	at := path.Root("management").AtName(c.attr)
	name := managementName(c.attr, c.env)
	switch c.attr {
	case "client_secret":
		return connection.ClientSecretCredential(c.value), []string{c.value}, true
	case "client_certificate_file":
		data, err := os.ReadFile(c.value)
		if err != nil {
			diags.AddAttributeError(at, "Unusable management certificate",
				fmt.Sprintf("%s: cannot read %q: %v. Give the path of a readable PEM or PKCS#12 file.", name, c.value, unwrapPath(err)))
			return connection.Credential{}, nil, false
		}
		cert, err := connection.ParseClientCertificate(string(data), certPassword)
		if err != nil {
			diags.AddAttributeError(at, "Unusable management certificate", fmt.Sprintf("%s (%s): %v.", name, c.value, err))
			return connection.Credential{}, nil, false
		}
		return connection.CertificateCredential(cert), []string{certPassword}, true
	}
	if _, err := os.Stat(c.value); err != nil {
		diags.AddAttributeError(at, "Unusable federated token file",
			fmt.Sprintf("%s: %q: %v. Point it at the token file your CI system or workload identity writes.", name, c.value, unwrapPath(err)))
		return connection.Credential{}, nil, false
	}
	return connection.FederatedTokenCredential(c.value), nil, true
}

// managementName names an argument of the management block in messages, with the
// environment variable it came from.
func managementName(attr, env string) string {
	return "management." + attr + fromEnv(env)
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

// managementRolesCheck is the read of the management identity's own directory roles, made
// once per provider process by the first plan that needs it, and its one log line when the
// identity may not read them.
type managementRolesCheck struct {
	once   sync.Once
	held   *connection.DirectoryRoles // nil when they could not be read
	logged sync.Once
}

// checkManagementRoles fails the plan of a resource whose apply needs the management
// identity's directory roles for needs, when the identity can read its own roles and lacks
// one: the error is on `management` and names the role and the command that assigns it.
// When it may not read them (or cannot sign in: the resource reports that itself) nothing
// fails, and one log line per process says the check was skipped.
func (d *providerData) checkManagementRoles(ctx context.Context, needs []roles.Management, diags *diag.Diagnostics) {
	if d == nil || d.cfg.Management == nil || len(needs) == 0 {
		return
	}
	cl, ok := d.cfg.Cloud(d.cfg.DefaultCloud)
	if !ok {
		return
	}
	mg := d.cfg.Management
	c := &d.managementRoles
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(maskSecrets(ctx, mg.Secrets), defaultReadTimeout)
		defer cancel()
		if held, err := d.env.ManagementDirectoryRoles(ctx, cl, mg.Principal()); err == nil {
			c.held = held
		}
	})
	if c.held == nil {
		// Nothing is known: apply reports a role the identity lacks. Said once, in the log
		// only: most management identities are not given the read, and their plans stay quiet.
		c.logged.Do(func() {
			tflog.Info(ctx, "management identity's directory roles not checked at plan time: it may not read them (RoleManagement.Read.Directory or Directory.Read.All)",
				map[string]any{"client_id": mg.ClientID})
		})
		return
	}
	for _, n := range c.held.Lacking(needs) {
		diags.AddAttributeError(path.Root("management"), "Management identity lacks the "+n.DirectoryRole+" role",
			fmt.Sprintf("The provider's management application %s (provider \"o365\" { management = … }) does not hold the directory role %s, which it needs to %s, so this apply would fail. "+
				"A Privileged Role Administrator or Global Administrator assigns it with:\n\n"+
				"  $sp = Get-MgServicePrincipal -Filter \"appId eq '%s'\"\n"+
				"  New-MgRoleManagementDirectoryRoleAssignment -PrincipalId $sp.Id -RoleDefinitionId %s -DirectoryScopeId '/'\n\n"+
				"(or in the Entra admin center: Roles and administrators, %s, Add assignments). Then plan again.",
				mg.ClientID, n.DirectoryRole, n.Job, mg.ClientID, n.DirectoryRoleTemplateID, n.DirectoryRole))
	}
}

// managementNeeds are the jobs of the management identity that the apply of plan (over
// state, nil on create) will do and that need a directory role: consent when it creates the
// application or grants a permission, and for a mailbox scope the Exchange role assignments.
// A plan that grants nothing needs none.
func managementNeeds(plan migrationApplicationModel, state *migrationApplicationModel, required types.Set) []roles.Management {
	grants := state == nil || len(state.MissingPermissions.Elements()) > 0 || !state.RequiredPermissions.Equal(required)
	if !grants {
		return nil
	}
	needs := []roles.Management{roles.ManageConsent}
	if !plan.MailboxScope.IsNull() {
		needs = append(needs, roles.ManageScopes)
	}
	return needs
}
