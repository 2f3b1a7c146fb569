package emulator

import (
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The control API's tenant-wide operations as Server methods: the state,
// counters, faults, delays, the organization's switches and management
// scopes.

// Snapshot returns a deep copy of the tenant's state.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.tenant.snapshot()
	st.Tenant.PropagationDelay = s.propagationDelay
	st.Tenant.Latency = s.latency
	st.Tenant.RBACDelay = s.rbacDelay
	return st
}

// Counters returns a copy of the request counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newCounters()
	c.Total = s.counters.Total
	for k, v := range s.counters.ByRoute {
		c.ByRoute[k] = v
	}
	for k, v := range s.counters.ByUser {
		c.ByUser[k] = v
	}
	for route, users := range s.counters.ByRouteUser {
		c.ByRouteUser[route] = map[string]int{}
		for k, v := range users {
			c.ByRouteUser[route][k] = v
		}
	}
	return c
}

// ResetCounters sets every counter to zero.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = newCounters()
}

// InjectFault adds a fault and returns its id. Invalid faults (see the control
// API's validation) are still stored; they simply never match.
func (s *Server) InjectFault(f Fault) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSequence++
	id := fmt.Sprintf("fault-%d", s.faultSequence)
	s.faults = append(s.faults, &activeFault{Fault: f, id: id,
		rng: mathrand.New(mathrand.NewPCG(uint64(s.faultSequence), 0x6f333635))})
	return id
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency changes the latency added to every Microsoft request.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetPropagationDelay changes how long a new Exchange role assignment takes to
// become effective for EWS impersonation.
func (s *Server) SetPropagationDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.propagationDelay = d
}

// SetRBACDelay changes how long RBAC-for-Applications changes take to reach
// Graph and EWS.
func (s *Server) SetRBACDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rbacDelay = d
}

// AddManagementScope is New-ManagementScope done by an administrator.
func (s *Server) AddManagementScope(name, filter string) (ManagementScope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.TrimSpace(name) == "" || len([]rune(name)) > 64 {
		return ManagementScope{}, errors.New("name must have 1 to 64 characters")
	}
	sc, err := s.tenant.addScope(name, filter, s.clock())
	if err != nil {
		return ManagementScope{}, err
	}
	return scopeView(sc), nil
}

// SetImpersonationRetired removes (or brings back) ApplicationImpersonation
// (WIRE §K1). Retiring deletes every assignment of the role; bringing it
// back restores only Organization Management's Delegating one.
func (s *Server) SetImpersonationRetired(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenant
	t.org.impersonationRetired = on
	if on {
		t.exchange = slices.DeleteFunc(t.exchange, func(a *exoAssignment) bool { return a.role == "ApplicationImpersonation" })
		return
	}
	name := assignmentName("ApplicationImpersonation", "Organization Management-Delegating")
	if t.findExchangeAssignment(name) == nil {
		t.exchange = append(t.exchange, &exoAssignment{name: name, role: "ApplicationImpersonation",
			guid: t.newID("exchange-role-assignment", name), delegation: "Delegating", enabled: true,
			createdAt: s.clock().UTC(), seeded: true, group: "Organization Management"})
	}
}

// SetOrganizationEWSEnabled sets Get-OrganizationConfig's EwsEnabled; nil is
// "not configured".
func (s *Server) SetOrganizationEWSEnabled(v *bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenant.org.ewsEnabled = cloneBool(v)
}

// SetEWSAllowedAppIDs sets EwsAllowedAppIDs; nil is "not configured".
func (s *Server) SetEWSAllowedAppIDs(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ids == nil {
		s.tenant.org.allowedAppIDs = nil
		return
	}
	s.tenant.org.allowedAppIDs = slices.Clone(ids)
}

// SetEWSDisablementDate sets the day a not-configured EwsEnabled turns false
// (the zero time: never).
func (s *Server) SetEWSDisablementDate(d time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenant.org.disablementDate = d
}

// SetEWSEndDate sets the day EWS stops for everyone (EWSEndDate in Exchange
// Online; the zero time: never).
func (s *Server) SetEWSEndDate(d time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenant.org.endDate = d
}
