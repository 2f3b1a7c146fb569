package provider

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// memPrivate is a resource's private state as the framework keeps it: JSON values by key,
// an empty value removing the key.
type memPrivate map[string][]byte

func (p memPrivate) GetKey(_ context.Context, key string) ([]byte, diag.Diagnostics) {
	return p[key], nil
}
func (p memPrivate) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	if len(value) == 0 {
		delete(p, key)
		return nil
	}
	if !json.Valid(value) {
		var d diag.Diagnostics
		d.AddError("JSON Invalid", key)
		return d
	}
	p[key] = value
	return nil
}

// A refresh's blocking diagnosis reaches the plan of the same process through the private
// state, never a plan of another process (a finding stored with the state is stale), and a
// healthy refresh forgets it.
func TestFindingThroughPrivateState(t *testing.T) {
	ctx := context.Background()
	closed := &connection.Error{Problem: connection.ProblemEWSClosed, Switch: connection.SwitchMailbox, Summary: "EWS is turned off for the mailbox a@b.c", Detail: "Set-CASMailbox"}
	this := &targetConnectionResource{data: &providerData{run: "this process"}}
	next := &targetConnectionResource{data: &providerData{run: "the next process"}}
	private := memPrivate{}
	if d := this.remember(ctx, private, closed); d.HasError() {
		t.Fatal(d)
	}
	got, _ := this.recalled(ctx, private)
	if got == nil || got.Problem != closed.Problem || got.Switch != closed.Switch || got.Summary != closed.Summary || got.Detail != closed.Detail {
		t.Fatalf("recalled %+v, want %+v", got, closed)
	}
	if got, _ := next.recalled(ctx, private); got != nil {
		t.Fatalf("another process used a stale finding: %+v", got)
	}
	var diags diag.Diagnostics
	if drifted := this.diagnoseExisting(ctx, private, targetConnectionModel{MissingRoles: stringSet(nil)}, true, &diags); drifted || !diags.HasError() {
		t.Fatalf("a changed connection whose EWS is closed: drifted %v, %v", drifted, diags)
	}
	if d := this.remember(ctx, private, nil); d.HasError() || len(private) != 0 {
		t.Fatalf("a healthy refresh kept %v (%v)", private, d)
	}
	if d := this.remember(ctx, private, errors.New("not a connection error")); d.HasError() || len(private) != 0 {
		t.Fatalf("an error without a diagnosis was kept: %v", private)
	}
}

// A replaced connection's assignments reach the Create of its replacement once.
func TestHandovers(t *testing.T) {
	var h handovers
	ms := []connection.Managed{{Role: "User Administrator", Kind: "directory_role", ID: "ra-1"}}
	h.put("worldwide/a@b.c", ms)
	if got := h.take("worldwide/a@b.c"); len(got) != 1 || got[0] != ms[0] {
		t.Fatalf("take = %v", got)
	}
	if got := h.take("worldwide/a@b.c"); got != nil {
		t.Fatalf("taken twice: %v", got)
	}
	var none *providerData
	none.handover().put("x", ms)
	if none.handover().take("x") != nil {
		t.Fatal("an unconfigured provider kept a hand-over")
	}
}
