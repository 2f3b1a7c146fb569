package provider

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// The client secret of o365_migration_application: when a new one is planned and how long
// the one it replaces is kept (DESIGN.md §7.2).
//
// A plan renews the secret when its lifetime setting changed, when it has expired, or when
// it has entered its renewal window (client_secret_rotate_before_days: end − N days ≤ now),
// all evaluated at the plan's refresh (its time kept in the private state) from the end
// date it read. The replaced secret, while
// it has not expired, becomes the retiring one: it stays registered, so a migration engine
// outside Terraform can switch to the new value, and the first plan once
// client_secret_overlap_days have passed since the renewal, or once it has expired, removes
// it (0: the next plan).
// There is one retiring secret at most; a renewal during an overlap removes the older one.

// secretClockKey is the private state key of the refresh's time: the plan that follows
// decides by it, and so does the apply's own planning of the same change (a later "now"
// could otherwise decide differently, which Terraform refuses as an inconsistent plan).
const secretClockKey = "secret_clock"

// rememberRefresh records the time of a refresh for the plan that follows.
func rememberRefresh(ctx context.Context, private privateSetter, now time.Time) diag.Diagnostics {
	b, _ := json.Marshal(now.UTC())
	return private.SetKey(ctx, secretClockKey, b)
}

// planTime is the time the plan decides by: its refresh's, else now (no refresh yet).
func planTime(ctx context.Context, private privateState) time.Time {
	if private != nil {
		if b, _ := private.GetKey(ctx, secretClockKey); len(b) > 0 {
			var t time.Time
			if json.Unmarshal(b, &t) == nil && !t.IsZero() {
				return t
			}
		}
	}
	return time.Now()
}

// defaultSecretOverlapDays is client_secret_overlap_days' default.
const defaultSecretOverlapDays = 7

const day = 24 * time.Hour

func migrationApplicationSecretAttributes() map[string]schema.Attribute {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"client_secret_rotate_before_days": schema.Int64Attribute{
			Optional: true,
			MarkdownDescription: "Renew the client secret this many days before it expires: a plan made once the secret's end date minus " +
				"this many days has passed adds a new secret and keeps the old one as the retiring secret (`client_secret_overlap_days`). " +
				"Must be shorter than `client_secret_lifetime_days`. Without it, the secret is renewed only once it has expired or when " +
				"`client_secret_lifetime_days` changes.",
			Validators: []validator.Int64{int64validator.Between(1, 729)},
		},
		"client_secret_overlap_days": schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(defaultSecretOverlapDays),
			MarkdownDescription: "How many days a replaced client secret stays registered after its renewal, so that a migration engine " +
				"outside Terraform can switch to the new one: the first plan after that time removes it. Defaults to " +
				strconv.Itoa(defaultSecretOverlapDays) + "; `0` removes it at the next apply. A secret that has already expired is removed at once.",
			Validators: []validator.Int64{int64validator.Between(0, 365)},
		},
		"client_secret_key_id":     computed("Key ID of the current client secret (`client_secret`)."),
		"client_secret_expires_at": computed("End date (RFC 3339) of the current client secret, as registered."),
		"retiring_client_secret_key_id": computed("Key ID of the replaced client secret still registered during its overlap " +
			"(`client_secret_overlap_days`); null when there is none. Its value is not kept in state."),
		"retiring_client_secret_expires_at":   computed("End date (RFC 3339) of the retiring client secret."),
		"retiring_client_secret_remove_after": computed("When (RFC 3339) the overlap ends: the first plan after it removes the retiring client secret."),
	}
}

// validateSecretRotation checks that a renewal window leaves a new secret outside it.
func validateSecretRotation(m migrationApplicationModel, diags *diag.Diagnostics) {
	if m.ClientSecretRotateBeforeDays.IsNull() || m.ClientSecretRotateBeforeDays.IsUnknown() || m.ClientSecretLifetimeDays.IsUnknown() {
		return
	}
	lifetime := int64(defaultSecretLifetimeDays)
	if !m.ClientSecretLifetimeDays.IsNull() {
		lifetime = m.ClientSecretLifetimeDays.ValueInt64()
	}
	if before := m.ClientSecretRotateBeforeDays.ValueInt64(); before >= lifetime {
		diags.AddAttributeError(path.Root("client_secret_rotate_before_days"), "Renewal window longer than the secret's lifetime",
			"`client_secret_rotate_before_days` ("+strconv.FormatInt(before, 10)+") must be shorter than `client_secret_lifetime_days` ("+
				strconv.FormatInt(lifetime, 10)+"), or every new secret would be due for renewal at once. Lower it, or raise the lifetime.")
	}
}

// planSecret plans the client secret (kept, renewed or none) and the retiring one, at now.
// It reports whether the current secret is kept, so that its expiry stays known.
func planSecret(plan, state *migrationApplicationModel, now time.Time, diags *diag.Diagnostics) (kept bool) {
	setRetiring(plan, nil, types.StringNull())
	switch {
	case plan.CreateClientSecret.IsUnknown():
		plan.ClientSecret, plan.ClientSecretKeyID, plan.ClientSecretExpiresAt = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		plan.RetiringClientSecretKeyID, plan.RetiringClientSecretExpiresAt, plan.RetiringClientSecretRemoveAfter = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		return false
	case !plan.CreateClientSecret.ValueBool():
		plan.ClientSecret, plan.ClientSecretKeyID, plan.ClientSecretExpiresAt = types.StringNull(), types.StringNull(), types.StringNull()
		return false
	}
	current := state != nil && !state.ClientSecret.IsNull()
	renew := current && renewSecret(plan, state, now, diags)
	if current && !renew {
		plan.ClientSecret, plan.ClientSecretKeyID, plan.ClientSecretExpiresAt = state.ClientSecret, state.ClientSecretKeyID, state.ClientSecretExpiresAt
		kept = true
	} else {
		plan.ClientSecret, plan.ClientSecretKeyID, plan.ClientSecretExpiresAt = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	}
	switch {
	case renew && !state.ClientSecretKeyID.IsNull():
		if end, ok := timeOf(state.ClientSecretExpiresAt); ok && end.After(now) {
			removeAfter := now.Add(time.Duration(overlapDays(plan.ClientSecretOverlapDays)) * day)
			setRetiring(plan, &connection.Secret{KeyID: state.ClientSecretKeyID.ValueString(), EndAt: end}, types.StringValue(rfc3339(removeAfter)))
		}
	case state != nil && !state.RetiringClientSecretKeyID.IsNull():
		end, _ := timeOf(state.RetiringClientSecretExpiresAt)
		if removeAfter, ok := retiringRemoveAfter(plan, state); ok && removeAfter.After(now) && (end.IsZero() || end.After(now)) {
			plan.RetiringClientSecretKeyID, plan.RetiringClientSecretExpiresAt = state.RetiringClientSecretKeyID, state.RetiringClientSecretExpiresAt
			plan.RetiringClientSecretRemoveAfter = types.StringValue(rfc3339(removeAfter))
		}
	}
	return kept
}

// renewSecret reports whether the current secret is to be replaced: its lifetime setting
// changed, it has expired (a warning says so), or it is inside its renewal window.
func renewSecret(plan, state *migrationApplicationModel, now time.Time, diags *diag.Diagnostics) bool {
	if !state.ClientSecretLifetimeDays.IsNull() && !plan.ClientSecretLifetimeDays.IsUnknown() && !state.ClientSecretLifetimeDays.Equal(plan.ClientSecretLifetimeDays) {
		return true
	}
	end, ok := timeOf(state.ClientSecretExpiresAt)
	if !ok {
		return false // not read yet (a plan without refresh): nothing to go by
	}
	if !end.After(now) {
		diags.AddAttributeWarning(path.Root("client_secret"), "Client secret expired",
			"The application's client secret expired on "+rfc3339(end)+", so the migration engine can no longer sign in with it. "+
				"This plan adds a new one; a connection whose `client_secret` refers to this resource's gets the new value in the same apply.")
		return true
	}
	before := plan.ClientSecretRotateBeforeDays
	return !before.IsNull() && !before.IsUnknown() && !end.Add(-time.Duration(before.ValueInt64())*day).After(now)
}

// retiringRemoveAfter is the end of the retiring secret's overlap, following a changed
// client_secret_overlap_days (the renewal happened the old overlap before the recorded end).
func retiringRemoveAfter(plan, state *migrationApplicationModel) (time.Time, bool) {
	t, ok := timeOf(state.RetiringClientSecretRemoveAfter)
	if !ok {
		return time.Time{}, false
	}
	t = t.Add(time.Duration(overlapDays(plan.ClientSecretOverlapDays)-overlapDays(state.ClientSecretOverlapDays)) * day)
	return t, true
}

func setRetiring(m *migrationApplicationModel, s *connection.Secret, removeAfter types.String) {
	if s == nil {
		m.RetiringClientSecretKeyID, m.RetiringClientSecretExpiresAt, m.RetiringClientSecretRemoveAfter = types.StringNull(), types.StringNull(), types.StringNull()
		return
	}
	m.RetiringClientSecretKeyID, m.RetiringClientSecretExpiresAt, m.RetiringClientSecretRemoveAfter = types.StringValue(s.KeyID), timeValue(s.EndAt), removeAfter
}

// secretStateOf writes the secrets a registration found into m: the current one and the
// retiring one, whose overlap end m (the plan, or the prior state) already holds.
func secretStateOf(m *migrationApplicationModel, reg *connection.Registration) {
	if reg.Secret != nil && reg.Secret.Value != "" {
		m.ClientSecret = types.StringValue(reg.Secret.Value)
		m.ClientSecretKeyID, m.ClientSecretExpiresAt = types.StringValue(reg.Secret.KeyID), timeValue(reg.Secret.EndAt)
	} else {
		m.ClientSecret, m.ClientSecretKeyID, m.ClientSecretExpiresAt = types.StringNull(), types.StringNull(), types.StringNull()
	}
	removeAfter := m.RetiringClientSecretRemoveAfter
	if removeAfter.IsUnknown() {
		removeAfter = types.StringNull()
	}
	setRetiring(m, reg.RetiringSecret, removeAfter)
	m.ClientSecretOverlapDays = knownOr(m.ClientSecretOverlapDays, defaultSecretOverlapDays)
}

// knownOr is v, or def when v is null (a state written before the attribute existed).
func knownOr(v types.Int64, def int64) types.Int64 {
	if v.IsNull() {
		return types.Int64Value(def)
	}
	return v
}

// overlapDays is client_secret_overlap_days, its default while unknown or null.
func overlapDays(v types.Int64) int64 {
	if v.IsNull() || v.IsUnknown() {
		return defaultSecretOverlapDays
	}
	return v.ValueInt64()
}

func timeOf(v types.String) (time.Time, bool) {
	if v.IsNull() || v.IsUnknown() {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v.ValueString())
	return t, err == nil
}

func timeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(rfc3339(t))
}
