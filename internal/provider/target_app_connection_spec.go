package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
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
		cred, secrets, credDiags := appCredentialOf(m)
		diags.Append(credDiags...)
		spec := connection.AppSpec{
			Cloud:     cl,
			Principal: connection.App(m.Tenant.ValueString(), m.ClientID.ValueString(), cred),
			Protocol:  roles.ProtocolOf(m.Protocol.ValueString()),
			Mailboxes: mailboxes,
			New:       isNew,
		}
		if mg := r.data.cfg.Management; mg != nil {
			// The management identity reads the application's Exchange roles, read only, when
			// the application may not read them itself.
			reader := mg.Principal()
			spec.Reader = &reader
			secrets = append(secrets, mg.Secrets...)
		}
		return spec, secrets, diags
	}
}

// setAppStatus writes what a check found into m.
func setAppStatus(m *targetAppConnectionModel, st *connection.AppStatus) {
	if st.TenantID != "" {
		m.TenantID = types.StringValue(st.TenantID)
	}
	m.GrantedPermissions = stringSet(st.Granted)
	m.MissingPermissions = stringSet(st.Missing)
	m.UnreachableMailboxes = stringSet(st.UnreachableMailboxes())
	m.PendingMailboxes = stringSet(st.Pending)
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
	s := plan.withoutWriteOnly()
	setAppStatus(&s, st)
	if s.TenantID.IsUnknown() {
		s.TenantID = types.StringNull()
	}
	if s.ID.IsUnknown() { // the tenant did not answer at plan time: the token named it
		s.setID()
	}
	if s.CredentialExpiresAt.IsUnknown() {
		s.CredentialExpiresAt = types.StringNull()
	}
	s.VerifiedAt = types.StringValue(r.data.env.Now().UTC().Format(time.RFC3339))
	return &s
}
