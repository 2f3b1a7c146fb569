package provider

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// State building of o365_target_connection: what the connection logic found and did,
// written into the model.

// fillKnown sets what follows from the configuration alone.
func (r *targetConnectionResource) fillKnown(m *targetConnectionModel) {
	if r.data != nil {
		if cl, ok := r.data.cfg.Cloud(m.Cloud.ValueString()); ok {
			m.EWSURL = types.StringValue(cl.EWSURL())
		}
	}
	m.RequiredRoles = stringSet(roles.Names(roles.Required(toggles(*m))))
}

func (r *targetConnectionResource) stateAfter(plan targetConnectionModel, res *connection.Result, verified bool) *targetConnectionModel {
	s := plan
	s.PasswordWO, s.AppPasswordWO = types.StringNull(), types.StringNull() // never stored
	s.GlobalAdmin = gaWithoutWriteOnly(s.GlobalAdmin)
	if res.Status != nil {
		if res.Status.TenantID != "" {
			s.TenantID = types.StringValue(res.Status.TenantID)
		}
		setRoleSets(&s, res.Status)
	}
	if s.TenantID.IsUnknown() {
		s.TenantID = types.StringNull()
	}
	if s.AssignedRoles.IsUnknown() {
		s.AssignedRoles = stringSet(nil)
	}
	if s.MissingRoles.IsUnknown() {
		s.MissingRoles = s.RequiredRoles
	}
	s.ManagedRoleAssignments = managedList(res.Managed)
	if verified {
		s.EWSStatus = types.StringValue(connection.EWSEnabled) // impersonation worked
		s.VerifiedAt = types.StringValue(r.data.env.Now().UTC().Format(time.RFC3339))
	} else if s.VerifiedAt.IsUnknown() {
		s.VerifiedAt = types.StringNull()
	}
	if s.EWSStatus.IsUnknown() {
		s.EWSStatus = types.StringNull()
	}
	return &s
}

func setRoleSets(m *targetConnectionModel, st *connection.Status) {
	m.RequiredRoles = stringSet(st.Required)
	m.AssignedRoles = stringSet(st.Assigned)
	m.MissingRoles = stringSet(st.Missing)
}

func managedList(ms []connection.Managed) types.List {
	sorted := append([]connection.Managed(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Role < sorted[j].Role })
	vals := make([]attr.Value, 0, len(sorted))
	for _, m := range sorted {
		vals = append(vals, types.ObjectValueMust(managedAssignmentType.AttrTypes, map[string]attr.Value{
			"role": types.StringValue(m.Role),
			"kind": types.StringValue(string(m.Kind)),
			"id":   types.StringValue(m.ID),
		}))
	}
	return types.ListValueMust(managedAssignmentType, vals)
}

func managedFromState(ctx context.Context, l types.List) ([]connection.Managed, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var items []struct {
		Role types.String `tfsdk:"role"`
		Kind types.String `tfsdk:"kind"`
		ID   types.String `tfsdk:"id"`
	}
	diags := l.ElementsAs(ctx, &items, false)
	out := make([]connection.Managed, 0, len(items))
	for _, it := range items {
		out = append(out, connection.Managed{Role: it.Role.ValueString(), Kind: roles.Kind(it.Kind.ValueString()), ID: it.ID.ValueString()})
	}
	return out, diags
}

func managedSummary(ms []connection.Managed) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s (%s)", m.Role, m.ID))
	}
	return strings.Join(parts, ", ")
}

// assignedBy names, in the resource's words, the account that assigned roles.
var assignedBy = map[connection.Account]string{connection.ConnectionAccount: "admin", connection.AssignerAccount: "global_admin"}

func logResult(ctx context.Context, res *connection.Result) {
	tflog.Info(ctx, "target connection verified", map[string]any{
		"assigned": strings.Join(res.Assigned, ", "), "revoked": strings.Join(res.Revoked, ", "), "assigned_by": assignedBy[res.AssignedBy],
	})
}

// gaWithoutWriteOnly is global_admin as state keeps it: no write-only secret.
func gaWithoutWriteOnly(ga types.Object) types.Object {
	if ga.IsNull() || ga.IsUnknown() {
		return ga
	}
	attrs := maps.Clone(ga.Attributes())
	attrs["password_wo"], attrs["app_password_wo"] = types.StringNull(), types.StringNull()
	return types.ObjectValueMust(globalAdminAttrTypes, attrs)
}

// ewsStatusOf is ews_status after a check whose diagnosis of EWS is err: enabled when EWS
// answered (a retired role or a denied impersonation is not EWS closing), the switch that
// closed it, or prior when EWS failed otherwise (nothing was learnt).
func ewsStatusOf(err error, prior types.String) types.String {
	ce, _ := connection.AsError(err)
	switch {
	case err == nil || (ce != nil && ce.Problem == connection.ProblemImpersonationRetired):
		return types.StringValue(connection.EWSEnabled)
	case ce != nil && ce.Problem == connection.ProblemEWSClosed:
		return types.StringValue(connection.EWSClosure{Switch: ce.Switch}.Status())
	}
	return prior
}
