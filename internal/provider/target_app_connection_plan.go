package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Plan-time validation and planning of o365_target_app_connection: everything that can be
// told from the configuration alone is an error or warning on its attribute before any call.

func (r *targetAppConnectionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	credentials := make([]path.Expression, 0, len(appCredentials))
	for _, a := range appCredentials {
		credentials = append(credentials, path.MatchRoot(a.name))
	}
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(credentials...)}
}

// ValidateConfig checks the certificate (parses, RSA key, not expired; a warning within 30
// days of its end), the password's pairing with a certificate and a retired cloud. (The EWS
// end date is ModifyPlan's, once per plan.)
func (r *targetAppConnectionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m targetAppConnectionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Cloud.IsNull() && !m.Cloud.IsUnknown() {
		warnRetiredCloud(m.Cloud.ValueString(), path.Root("cloud"), &resp.Diagnostics)
		if protocol, known := configuredProtocol(m.Protocol); known {
			checkGraphImportCloud(protocol, m.Cloud.ValueString(), &resp.Diagnostics)
		}
	}
	certificate := false
	for _, a := range appCredentials {
		v := a.field(&m)
		if a.kind != connection.ClientCertificate || v.IsNull() {
			continue
		}
		certificate = true
		if !v.IsUnknown() && !m.ClientCertificatePassword.IsUnknown() {
			checkClientCertificate(v.ValueString(), m.ClientCertificatePassword.ValueString(), path.Root(a.name), time.Now(), &resp.Diagnostics)
		}
	}
	if !m.ClientCertificatePassword.IsNull() && !certificate {
		resp.Diagnostics.AddAttributeError(path.Root("client_certificate_password"), "Password without a certificate",
			"`client_certificate_password` protects a PKCS#12 `client_certificate` (or `client_certificate_wo`); remove it, or set the certificate.")
	}
}

// ModifyPlan fills what is known at plan time (cloud, tenant_id, id and identity,
// credential_expires_at) and plans by the drift rule (target_app_connection_verify.go):
// drift alone plans nothing (the refresh recorded and warned); a change plans the healthy
// values, so that apply verifies again (and fails with the fix while it is not fixed),
// except while EWS is closed, when it fails at plan.
func (r *targetAppConnectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, config targetAppConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *targetAppConnectionModel
	if !req.State.Raw.IsNull() {
		state = &targetAppConnectionModel{}
		if resp.Diagnostics.Append(req.State.Get(ctx, state)...); resp.Diagnostics.HasError() {
			return
		}
	}
	if config.Cloud.IsNull() {
		if state != nil && !state.Cloud.IsNull() && state.Cloud.ValueString() != r.data.cfg.DefaultCloud {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("cloud"))
		}
		plan.Cloud = types.StringValue(r.data.cfg.DefaultCloud)
	}
	if protocol, known := configuredProtocol(plan.Protocol); known && config.Cloud.IsNull() {
		// The provider's cloud (a configured cloud was checked with the configuration),
		// refused before anything asks the tenant (its GUID below).
		if checkGraphImportCloud(protocol, plan.Cloud.ValueString(), &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	r.planTenant(ctx, &plan, state, &resp.RequiresReplace)
	plan.ID = types.StringUnknown()
	if known(plan.TenantID, plan.ClientID, plan.Name) {
		plan.ID = types.StringValue(appConnectionID(plan.TenantID.ValueString(), plan.ClientID.ValueString(), plan.Name.ValueString()))
	}
	if state == nil {
		r.checkUniqueName(plan, &resp.Diagnostics)
		// A new connection's identity, when the plan knows it (else Create writes it).
		if id, complete := plan.identity(); complete && resp.Identity != nil {
			resp.Diagnostics.Append(resp.Identity.Set(ctx, id)...)
		}
	}
	r.data.warnEWSEnd(&resp.Diagnostics, plan.Protocol.ValueString())
	plan.CredentialExpiresAt = credentialExpiry(config)
	if !plan.Protocol.IsUnknown() && roles.ProtocolOf(plan.Protocol.ValueString()) != roles.ProtocolEWS {
		plan.EWSStatus = types.StringNull()
	}

	if state == nil {
		plan.planHealthy() // a successful create leaves nothing missing
	} else {
		r.planUpdate(ctx, req, &plan, config, *state, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// planUpdate plans a connection in state by the drift rule.
func (r *targetAppConnectionResource) planUpdate(ctx context.Context, req resource.ModifyPlanRequest, plan *targetAppConnectionModel, config, state targetAppConnectionModel, diags *diag.Diagnostics) {
	changed := !equalAttributes(*plan, state, configurable(req.Plan.Schema.GetAttributes())) ||
		!state.CredentialExpiresAt.Equal(plan.CredentialExpiresAt)
	f, checked := r.planFinding(ctx, req, *plan, config, state, diags)
	switch {
	case !changed:
		// Drift alone plans nothing: this resource changes nothing in the tenant, so no
		// apply of it repairs a missing permission or a closed switch. The refresh recorded
		// the finding and warned with the fix; a repair made elsewhere (by an administrator,
		// or o365_migration_application) shows at the next refresh.
	case checked && f.ewsClosed() && roles.ProtocolOf(plan.Protocol.ValueString()) == roles.ProtocolEWS:
		// EWS closed: no apply can verify a change.
		refuseEWSClosed(f, *plan, diags)
	default:
		plan.planHealthy()
	}
}

// planHealthy plans what a successful verification leaves: nothing missing or unreachable,
// EWS enabled, and the verification's own results unknown.
func (m *targetAppConnectionModel) planHealthy() {
	m.MissingPermissions = stringSet(nil)
	m.UnreachableMailboxes = stringSet(nil)
	m.PendingMailboxes = types.SetUnknown(types.StringType)
	m.GrantedPermissions = types.SetUnknown(types.StringType)
	m.VerifiedAt = types.StringUnknown()
	if roles.ProtocolOf(m.Protocol.ValueString()) == roles.ProtocolEWS {
		m.EWSStatus = types.StringValue(connection.EWSEnabled)
	}
}

// credentialExpiry is the configured certificate's end of validity, null for a secret (and
// unknown while the certificate is).
func credentialExpiry(m targetAppConnectionModel) types.String {
	for _, a := range appCredentials {
		cert := a.field(&m)
		switch {
		case a.kind != connection.ClientCertificate || cert.IsNull():
			continue
		case cert.IsUnknown() || m.ClientCertificatePassword.IsUnknown():
			return types.StringUnknown()
		}
		info, err := connection.ParseClientCertificate(cert.ValueString(), m.ClientCertificatePassword.ValueString())
		if err != nil {
			return types.StringNull()
		}
		return types.StringValue(rfc3339(info.NotAfter))
	}
	return types.StringNull()
}

// checkUniqueName fails the plan of a second new connection with the id of another new one
// planned by this process: two connections of one application with one name. A plan asks for
// each new object once per process (a replacement's new object too, after the plan of the
// object it replaces, which has a state and is not counted), so a repeated id is a repeated
// name. A new connection named like one already in state is not seen: that plan has a state.
func (r *targetAppConnectionResource) checkUniqueName(plan targetAppConnectionModel, diags *diag.Diagnostics) {
	if plan.ID.IsUnknown() || r.data.newConnections.first(plan.ID.ValueString()) {
		return
	}
	diags.AddAttributeError(path.Root("name"), "Two connections of one application with one name",
		fmt.Sprintf("Another o365_target_app_connection of the application %s in this configuration is also named %q. The name is part of the "+
			"connection's id and identity, so each connection of one application needs its own: in a for_each, e.g. name = \"Target ${each.key}\".",
			plan.ClientID.ValueString(), plan.Name.ValueString()))
}

// appConnectionID is the id of a connection: `<tenant id>/<client id>/<name>`, the tenant's
// GUID and the client id in lower case, the name as written (it may hold any character,
// a slash too: an import ID is cut at its first two).
func appConnectionID(tenantID, clientID, name string) string {
	return strings.ToLower(tenantID+"/"+clientID) + "/" + name
}

// planTenant plans tenant_id: the state's for the same tenant, else the configured tenant's
// GUID, resolved here so that the plan shows the final id (the tenant's OpenID configuration
// names it; one request per tenant and provider process, shared with sign-in). A tenant
// that does not answer leaves it unknown until apply. Another tenant replaces the
// connection; another name of the same tenant (its GUID for a domain) does not.
func (r *targetAppConnectionResource) planTenant(ctx context.Context, plan *targetAppConnectionModel, state *targetAppConnectionModel, replace *path.Paths) {
	if plan.Tenant.IsUnknown() || plan.Cloud.IsUnknown() {
		plan.TenantID = types.StringUnknown()
		if state != nil {
			*replace = append(*replace, path.Root("tenant"))
		}
		return
	}
	sameName := state != nil && strings.EqualFold(state.Tenant.ValueString(), plan.Tenant.ValueString())
	if sameName && !state.TenantID.IsNull() {
		plan.TenantID = state.TenantID
		return
	}
	tid, resolved := r.data.tenantGUID(ctx, plan.Cloud.ValueString(), plan.Tenant.ValueString())
	plan.TenantID = types.StringUnknown()
	if resolved {
		plan.TenantID = types.StringValue(tid)
	}
	if state != nil && !sameName && (!resolved || !strings.EqualFold(tid, state.TenantID.ValueString())) {
		*replace = append(*replace, path.Root("tenant"))
	}
}

// tenantName checks a tenant: a GUID or a verified domain, never one of the multi-tenant
// aliases, which client credentials cannot use (WIRE.md §I1).
func tenantName() validator.String {
	return stringCheck{desc: "must be a tenant ID (GUID) or a verified domain", summary: "Invalid tenant", check: checkTenantName}
}

func checkTenantName(s string) error {
	switch strings.ToLower(s) {
	case "common", "organizations", "consumers":
		return fmt.Errorf("%q names no tenant; client credentials need the tenant's ID or one of its verified domains, like contoso.onmicrosoft.com", s)
	}
	if guidPattern.MatchString(s) {
		return nil
	}
	if strings.ContainsAny(s, " /@\\") || !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return fmt.Errorf("%q is neither a tenant ID (GUID) nor a domain; write e.g. contoso.onmicrosoft.com", s)
	}
	return nil
}
