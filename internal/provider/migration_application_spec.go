package provider

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// registrationPrivateKey is the key of the resource's private state: which client secret is
// the one in `client_secret` (its key id is no attribute of the schema).
const registrationPrivateKey = "registration"

type registrationPrivate struct {
	SecretKeyID string    `json:"secret_key_id,omitempty"`
	SecretEnd   time.Time `json:"secret_end,omitzero"`
}

// privateState is what reads and writes a resource's private state (req.Private, resp.Private).
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

func readPrivate(ctx context.Context, p privateState) (registrationPrivate, diag.Diagnostics) {
	var out registrationPrivate
	if p == nil {
		return out, nil
	}
	b, diags := p.GetKey(ctx, registrationPrivateKey)
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out) // an unreadable record is a secret not recognised: the next apply adds one
	}
	return out, diags
}

func privateOf(reg *connection.Registration) []byte {
	var p registrationPrivate
	if reg != nil && reg.Secret != nil {
		p = registrationPrivate{SecretKeyID: reg.Secret.KeyID, SecretEnd: reg.Secret.EndAt}
	}
	b, _ := json.Marshal(p)
	return b
}

// appOptions are the catalogue's options for a model's settings.
func appOptions(m migrationApplicationModel) roles.AppOptions {
	return roles.AppOptions{Protocol: roles.ProtocolOrDefault(m.Protocol.ValueString()), UserManagement: m.UserManagement.ValueBool(),
		PublicFolders: m.PublicFolders.ValueBool(), ReadItems: m.ReadTargetItems.ValueBool(), Scoped: !m.MailboxScope.IsNull()}
}

// registrationSpec builds the spec of m (a plan, or the state for read and delete) with what
// prior (the state, nil on create) and the private state recorded.
func (r *migrationApplicationResource) registrationSpec(m migrationApplicationModel, prior *migrationApplicationModel, priv registrationPrivate) func() (connection.RegistrationSpec, []string, diag.Diagnostics) {
	return func() (connection.RegistrationSpec, []string, diag.Diagnostics) {
		var diags diag.Diagnostics
		var spec connection.RegistrationSpec
		if r.data == nil || r.data.cfg.Management == nil {
			diags.AddError("No management identity", noManagementDetail)
			return spec, nil, diags
		}
		cl, ok := r.data.cfg.Cloud(r.data.cfg.DefaultCloud)
		if !ok {
			diags.AddError("Unknown cloud", "The provider's cloud "+r.data.cfg.DefaultCloud+" is unknown.")
			return spec, nil, diags
		}
		mg := r.data.cfg.Management
		spec = connection.RegistrationSpec{
			Cloud: cl, Management: mg.Principal(), DisplayName: m.DisplayName.ValueString(), Options: appOptions(m),
			CreateSecret:   m.CreateClientSecret.ValueBool(),
			SecretLifetime: time.Duration(m.ClientSecretLifetimeDays.ValueInt64()) * 24 * time.Hour,
		}
		spec.RecipientFilter, _ = recipientFilterOf(m.MailboxScope)
		if !m.Certificate.IsNull() && !m.Certificate.IsUnknown() {
			spec.Certificate = parsePublicCertificate(m.Certificate.ValueString(), &diags)
		}
		secrets := append([]string(nil), mg.Secrets...)
		if prior != nil {
			spec.Known = connection.Registration{ObjectID: prior.ObjectID.ValueString(), ClientID: prior.ClientID.ValueString(),
				ServicePrincipalID: prior.ServicePrincipalID.ValueString(), TenantID: prior.TenantID.ValueString()}
			if !prior.ClientSecret.IsNull() && priv.SecretKeyID != "" {
				spec.Known.Secret = &connection.Secret{KeyID: priv.SecretKeyID, Value: prior.ClientSecret.ValueString(), EndAt: priv.SecretEnd}
				secrets = append(secrets, prior.ClientSecret.ValueString())
			}
			spec.WasScoped = !prior.MailboxScope.IsNull()
			// The plan decided (migration_application_secret.go): a new secret is unknown.
			spec.RenewSecret = !prior.ClientSecret.IsNull() && m.ClientSecret.IsUnknown()
		}
		if !m.RetiringClientSecretKeyID.IsUnknown() {
			spec.RetiringSecretKeyID = m.RetiringClientSecretKeyID.ValueString()
		}
		return spec, secrets, diags
	}
}

const noManagementDetail = "o365_migration_application changes the tenant's application registrations as the provider's management identity. " +
	"Configure it in the provider block (`management = { tenant_id = …, client_id = …, client_certificate_file = … }`) or with the environment " +
	"variables " + EnvTenantID + ", " + EnvManagementClientID + " and one of " + EnvManagementClientSecret + ", " + EnvManagementCertFile + ", " +
	EnvManagementFederatedFile + "."

// stateOf is m with what the registration found.
func stateOf(m migrationApplicationModel, reg *connection.Registration) migrationApplicationModel {
	str := func(s string, old types.String) types.String {
		if s == "" {
			if old.IsUnknown() {
				return types.StringNull()
			}
			return old
		}
		return types.StringValue(s)
	}
	m.ClientID = str(reg.ClientID, m.ClientID)
	m.ID = m.ClientID
	m.ObjectID = str(reg.ObjectID, m.ObjectID)
	m.ServicePrincipalID = str(reg.ServicePrincipalID, m.ServicePrincipalID)
	m.TenantID = str(reg.TenantID, m.TenantID)
	secretStateOf(&m, reg)
	m.Adopted = adoptedValue(reg)
	m.RequiredPermissions = stringSet(reg.Required)
	m.GrantedPermissions = stringSet(reg.Granted)
	m.MissingPermissions = stringSet(reg.Missing)
	if reg.CredentialExpiresAt.IsZero() {
		m.CredentialExpiresAt = types.StringNull()
	} else {
		m.CredentialExpiresAt = types.StringValue(reg.CredentialExpiresAt.UTC().Format(time.RFC3339))
	}
	return m
}
