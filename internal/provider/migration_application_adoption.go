package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// Adoption of an imported application (DESIGN.md §7.2): `adopted` says the application was
// imported, not created; the private state's "adoption" record lists, object by object, what
// Terraform added to it since (connection.Adoption), which is all that destroy removes.

// adoptionPrivateKey is the private-state key of the adoption record.
const adoptionPrivateKey = "adoption"

// adoptionOf is the adoption record of m (a state): nil for an application Terraform
// created; for an adopted one the recorded additions (none when the record is missing, so
// nothing of it is ever removed by mistake).
func adoptionOf(ctx context.Context, p privateState, m migrationApplicationModel) (*connection.Adoption, diag.Diagnostics) {
	if !m.Adopted.ValueBool() {
		return nil, nil
	}
	a := &connection.Adoption{}
	if p == nil {
		return a, nil
	}
	b, diags := p.GetKey(ctx, adoptionPrivateKey)
	if len(b) > 0 {
		_ = json.Unmarshal(b, a) // unreadable: nothing is known to be Terraform's
	}
	return a, diags
}

// setAdoption records reg's adoption record in the private state.
func setAdoption(ctx context.Context, private privateSetter, reg *connection.Registration) diag.Diagnostics {
	b := []byte("{}")
	if reg != nil && reg.Adoption != nil {
		b, _ = json.Marshal(reg.Adoption)
	}
	return private.SetKey(ctx, adoptionPrivateKey, b)
}

// adoptedValue is the `adopted` attribute of a registration.
func adoptedValue(reg *connection.Registration) types.Bool {
	return types.BoolValue(reg != nil && reg.Adoption != nil)
}
