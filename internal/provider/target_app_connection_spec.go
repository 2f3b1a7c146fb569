package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The model ↔ connection translation of o365_target_app_connection: the spec the
// connection logic needs (and the secrets its log lines must never show), and the state
// written from what a check found.

// specOf returns the builder of the spec of m for callWith; isNew for a create.
func (r *targetAppConnectionResource) specOf(ctx context.Context, m targetAppConnectionModel, isNew bool) func() (connection.AppSpec, []string, diag.Diagnostics) {
	return func() (connection.AppSpec, []string, diag.Diagnostics) {
		cl, diags := specCloud(r.data, m.Cloud.ValueString())
		if diags.HasError() {
			return connection.AppSpec{}, nil, diags
		}
		var mailboxes []string
		diags.Append(m.VerifyMailboxes.ElementsAs(ctx, &mailboxes, false)...)
		cred := appCredentialOf(m)
		spec := connection.AppSpec{
			Cloud:     cl,
			Principal: connection.App(m.Tenant.ValueString(), m.ClientID.ValueString(), cred),
			Protocol:  roles.Protocol(m.Protocol.ValueString()),
			Mailboxes: mailboxes,
			New:       isNew,
		}
		return spec, []string{cred.Secret, cred.CertificatePassword}, diags
	}
}

// appCredentialOf is the configured credential: a write-only one when the configuration
// gives it.
func appCredentialOf(m targetAppConnectionModel) connection.Credential {
	pw := m.ClientCertificatePassword.ValueString()
	for _, c := range []struct {
		v    types.String
		kind connection.CredentialKind
	}{{m.ClientSecretWO, connection.ClientSecret}, {m.ClientCertificateWO, connection.ClientCertificate},
		{m.ClientSecret, connection.ClientSecret}, {m.ClientCertificate, connection.ClientCertificate}} {
		if !c.v.IsNull() && !c.v.IsUnknown() && c.v.ValueString() != "" {
			return connection.Credential{Kind: c.kind, Secret: c.v.ValueString(), CertificatePassword: pw}
		}
	}
	return connection.Credential{Kind: connection.ClientSecret}
}

// hasStoredCredential reports whether the state holds a credential a plan can sign in with.
func (m targetAppConnectionModel) hasStoredCredential() bool {
	return !m.ClientSecret.IsNull() || !m.ClientCertificate.IsNull()
}

// appWriteOnlyFromConfig copies the write-only credentials, which exist only in
// configuration, into the model used for this apply (they are never written to state).
func appWriteOnlyFromConfig(ctx context.Context, config tfsdk.Config, m *targetAppConnectionModel) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.Append(config.GetAttribute(ctx, path.Root("client_secret_wo"), &m.ClientSecretWO)...)
	diags.Append(config.GetAttribute(ctx, path.Root("client_certificate_wo"), &m.ClientCertificateWO)...)
	return diags
}

// setAppStatus writes what a check found into m.
func setAppStatus(m *targetAppConnectionModel, st *connection.AppStatus) {
	if st.TenantID != "" {
		m.TenantID = types.StringValue(st.TenantID)
	}
	m.GrantedPermissions = stringSet(st.Granted)
	m.MissingPermissions = stringSet(st.Missing)
	m.UnreachableMailboxes = stringSet(st.UnreachableMailboxes())
	if st.EWSStatus != "" {
		m.EWSStatus = types.StringValue(st.EWSStatus)
	} else {
		m.EWSStatus = types.StringNull()
	}
	if !st.CredentialExpiresAt.IsZero() {
		m.CredentialExpiresAt = types.StringValue(st.CredentialExpiresAt.UTC().Format(time.RFC3339))
	}
}

// appStateAfter is the state after a successful create or update.
func (r *targetAppConnectionResource) appStateAfter(plan targetAppConnectionModel, st *connection.AppStatus) *targetAppConnectionModel {
	s := plan
	s.ClientSecretWO, s.ClientCertificateWO = types.StringNull(), types.StringNull() // never stored
	setAppStatus(&s, st)
	if s.TenantID.IsUnknown() {
		s.TenantID = types.StringNull()
	}
	if s.CredentialExpiresAt.IsUnknown() {
		s.CredentialExpiresAt = types.StringNull()
	}
	s.VerifiedAt = types.StringValue(r.data.env.Now().UTC().Format(time.RFC3339))
	return &s
}
