package provider

import (
	"sync"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// handovers carry the assignments a connection created from its Delete to the Create of its
// replacement in the same apply (a tainted connection, or -replace): Create gets no prior
// state, and a directory role assignment, unlike an Exchange one, has no name by which the
// new instance could recognise it as its own.
//
// The framework's private state cannot carry them: it clears a deleted resource's private
// state when Delete succeeds, and Create receives none (resource.CreateRequest has no
// Private). A replacement's Delete and Create run in the one provider process of the apply,
// so the process carries them, by connection id, and each is taken once.
type handovers struct {
	mu sync.Mutex
	m  map[string][]connection.Managed
}

// put keeps what a forgotten connection created for a Create of the same id.
func (h *handovers) put(id string, ms []connection.Managed) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string][]connection.Managed{}
	}
	h.m[id] = ms
}

// take returns (once) what a Delete of the same id handed over.
func (h *handovers) take(id string) []connection.Managed {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.m[id]
	delete(h.m, id)
	return ms
}

// handover is the process's hand-overs (nil before the provider is configured).
func (d *providerData) handover() *handovers {
	if d == nil {
		return nil
	}
	return &d.handovers
}
