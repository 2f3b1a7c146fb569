package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The control API is the emulator's own (not Microsoft's): JSON in and out,
// under /_emulator/, with "Authorization: Bearer <control token>". Every
// operation is also a Server method for in-process tests.

func (s *Server) controlRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_emulator/state", s.getControlState)
	mux.HandleFunc("POST /_emulator/users/{upn}/exchange-roles", s.postControlExchangeRole)
	mux.HandleFunc("DELETE /_emulator/users/{upn}/exchange-roles/{role}", s.deleteControlExchangeRole)
	mux.HandleFunc("POST /_emulator/users/{upn}/directory-roles", s.postControlDirectoryRole)
	mux.HandleFunc("DELETE /_emulator/users/{upn}/directory-roles/{role}", s.deleteControlDirectoryRole)
	mux.HandleFunc("PATCH /_emulator/users/{upn}", s.patchControlUser)
	mux.HandleFunc("DELETE /_emulator/users/{upn}", s.deleteControlUser)
	mux.HandleFunc("POST /_emulator/faults", s.postControlFault)
	mux.HandleFunc("DELETE /_emulator/faults", s.deleteControlFaults)
	mux.HandleFunc("PUT /_emulator/latency", s.putControlLatency)
	mux.HandleFunc("PUT /_emulator/propagation-delay", s.putControlPropagationDelay)
	mux.HandleFunc("GET /_emulator/counters", s.getControlCounters)
	mux.HandleFunc("DELETE /_emulator/counters", s.deleteControlCounters)
	mux.HandleFunc("POST /_emulator/reset", s.postControlReset)
	s.controlAppRoutes(mux)
	return mux
}

// serveControl checks the control token, then dispatches.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.controlToken)) != 1 {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the control API needs Authorization: Bearer <control token>"})
		return
	}
	s.control.ServeHTTP(w, r)
}

func writeControlError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, errNotFound):
		status = http.StatusNotFound
	case errors.Is(err, errConflict):
		status = http.StatusConflict
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeControlError(w, fmt.Errorf("request body: %w", err))
		return false
	}
	return true
}

// writeControlUser answers with the user's current state.
func (s *Server) writeControlUser(w http.ResponseWriter, upn string, status int) {
	for _, u := range s.Snapshot().Users {
		if strings.EqualFold(u.UserPrincipalName, upn) {
			writeJSON(w, status, u)
			return
		}
	}
	writeControlError(w, fmt.Errorf("user %q: %w", upn, errNotFound))
}

func (s *Server) getControlState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Snapshot())
}

func (s *Server) postControlExchangeRole(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	a, err := s.AddExchangeRoleAssignment(r.PathValue("upn"), body.Role)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) deleteControlExchangeRole(w http.ResponseWriter, r *http.Request) {
	n, err := s.RemoveExchangeRoleAssignment(r.PathValue("upn"), r.PathValue("role"))
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": n})
}

func (s *Server) postControlDirectoryRole(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if err := s.AddDirectoryRole(r.PathValue("upn"), body.Role); err != nil {
		writeControlError(w, err)
		return
	}
	s.writeControlUser(w, r.PathValue("upn"), http.StatusCreated)
}

func (s *Server) deleteControlDirectoryRole(w http.ResponseWriter, r *http.Request) {
	if err := s.RemoveDirectoryRole(r.PathValue("upn"), r.PathValue("role")); err != nil {
		writeControlError(w, err)
		return
	}
	s.writeControlUser(w, r.PathValue("upn"), http.StatusOK)
}

// patchControlUser changes any of password, mfa, disabled, locked,
// ews_enabled (null = not configured), department, custom_attributes.
func (s *Server) patchControlUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Password         *string           `json:"password"`
		MFA              *bool             `json:"mfa"`
		Disabled         *bool             `json:"disabled"`
		Locked           *bool             `json:"locked"`
		EWSEnabled       json.RawMessage   `json:"ews_enabled"`
		Department       *string           `json:"department"`
		CustomAttributes map[string]string `json:"custom_attributes"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	upn := r.PathValue("upn")
	var err error
	if body.Password != nil {
		err = errors.Join(err, s.SetPassword(upn, *body.Password))
	}
	if body.MFA != nil {
		err = errors.Join(err, s.SetMFA(upn, *body.MFA))
	}
	if body.Disabled != nil {
		err = errors.Join(err, s.SetDisabled(upn, *body.Disabled))
	}
	if body.Locked != nil {
		err = errors.Join(err, s.SetLocked(upn, *body.Locked))
	}
	if body.EWSEnabled != nil {
		var v *bool
		if e := json.Unmarshal(body.EWSEnabled, &v); e != nil {
			err = errors.Join(err, fmt.Errorf("ews_enabled: %w", e))
		} else {
			err = errors.Join(err, s.SetMailboxEWSEnabled(upn, v))
		}
	}
	if body.Department != nil || body.CustomAttributes != nil {
		err = errors.Join(err, s.SetUserRecipientProperties(upn, body.Department, body.CustomAttributes))
	}
	if err != nil {
		writeControlError(w, err)
		return
	}
	s.writeControlUser(w, upn, http.StatusOK)
}

func (s *Server) deleteControlUser(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteUser(r.PathValue("upn")); err != nil {
		writeControlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postControlFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeControl(w, r, &f) {
		return
	}
	if err := f.validate(); err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": s.InjectFault(f)})
}

func (s *Server) deleteControlFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// decodeDuration reads {"<key>":"20ms"}.
func decodeDuration(w http.ResponseWriter, r *http.Request, key string) (time.Duration, bool) {
	var body map[string]string
	if !decodeControl(w, r, &body) {
		return 0, false
	}
	d, err := time.ParseDuration(body[key])
	if err != nil || d < 0 {
		writeControlError(w, fmt.Errorf(`body must be {"%s":"<duration, e.g. 250ms>"}`, key))
		return 0, false
	}
	return d, true
}

func (s *Server) putControlLatency(w http.ResponseWriter, r *http.Request) {
	if d, ok := decodeDuration(w, r, "latency"); ok {
		s.SetLatency(d)
		writeJSON(w, http.StatusOK, map[string]string{"latency": d.String()})
	}
}

func (s *Server) putControlPropagationDelay(w http.ResponseWriter, r *http.Request) {
	if d, ok := decodeDuration(w, r, "delay"); ok {
		s.SetPropagationDelay(d)
		writeJSON(w, http.StatusOK, map[string]string{"delay": d.String()})
	}
}

func (s *Server) getControlCounters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Counters())
}

func (s *Server) deleteControlCounters(w http.ResponseWriter, r *http.Request) {
	s.ResetCounters()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postControlReset(w http.ResponseWriter, r *http.Request) {
	if err := s.Reset(); err != nil {
		writeControlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RemoveExchangeRoleAssignment removes the user's direct assignments of role
// (as an admin would in the admin centre) and returns how many it removed.
func (s *Server) RemoveExchangeRoleAssignment(upn, role string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.tenant.mustUser(upn)
	if err != nil {
		return 0, err
	}
	if !isExchangeRole(role) {
		return 0, fmt.Errorf("management role %q: %w", role, errNotFound)
	}
	n := 0
	for _, a := range s.tenant.assignmentsOf(u) {
		if a.userID == u.oid && strings.EqualFold(a.role, role) {
			s.tenant.removeExchangeAssignment(a)
			n++
		}
	}
	return n, nil
}

// AddExchangeRoleAssignment assigns role to the user directly, named
// "<Role>-<alias>" (or "-2", "-3"… when that name is taken). Like any new
// assignment it becomes effective for impersonation after the propagation delay.
func (s *Server) AddExchangeRoleAssignment(upn, role string) (ExchangeAssignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.tenant.mustUser(upn)
	if err != nil {
		return ExchangeAssignment{}, err
	}
	canonical := canonicalExchangeRole(role)
	if canonical == "" {
		return ExchangeAssignment{}, fmt.Errorf("management role %q: %w", role, errNotFound)
	}
	a, err := s.tenant.addExchangeAssignment(u, canonical, s.tenant.uniqueAssignmentName(canonical, u.alias), "", s.clock())
	if err != nil {
		return ExchangeAssignment{}, err
	}
	return s.tenant.exchangeView(a), nil
}

// RemoveDirectoryRole removes the user's assignment of a directory role
// (by display name or template id).
func (s *Server) RemoveDirectoryRole(upn, roleDisplayName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, role, err := s.userAndDirectoryRole(upn, roleDisplayName)
	if err != nil {
		return err
	}
	for i, d := range s.tenant.directory {
		if d.principalID == u.oid && d.roleID == role.templateID {
			s.tenant.directory = append(s.tenant.directory[:i:i], s.tenant.directory[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%s does not hold %s: %w", u.upn, role.displayName, errNotFound)
}

// AddDirectoryRole assigns a directory role (by display name or template id).
func (s *Server) AddDirectoryRole(upn, roleDisplayName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, role, err := s.userAndDirectoryRole(upn, roleDisplayName)
	if err != nil {
		return err
	}
	return s.tenant.addDirectoryAssignment(u, role)
}

// userAndDirectoryRole finds a user and a directory role (by display name or template id).
// The caller holds s.mu.
func (s *Server) userAndDirectoryRole(upn, roleName string) (*user, *directoryRole, error) {
	u, err := s.tenant.mustUser(upn)
	if err != nil {
		return nil, nil, err
	}
	role := findDirectoryRole(roleName)
	if role == nil {
		return nil, nil, fmt.Errorf("directory role %q: %w", roleName, errNotFound)
	}
	return u, role, nil
}

// SetPassword changes the password; the user's refresh tokens are revoked.
func (s *Server) SetPassword(upn, password string) error {
	if password == "" {
		return errors.New("password is empty")
	}
	return s.updateUser(upn, func(t *tenant, u *user) {
		sec := t.passwords[u.oid]
		sec.password = password
		sec.generation++
		t.passwords[u.oid] = sec
	})
}

// SetMFA turns multi-factor authentication on or off for the user.
func (s *Server) SetMFA(upn string, on bool) error {
	return s.updateUser(upn, func(_ *tenant, u *user) { u.mfa = on })
}

// SetDisabled disables or enables the account; tokens stop working at once.
func (s *Server) SetDisabled(upn string, on bool) error {
	return s.updateUser(upn, func(_ *tenant, u *user) { u.disabled = on })
}

// SetLocked locks or unlocks the account (sign-in fails with AADSTS50053).
func (s *Server) SetLocked(upn string, on bool) error {
	return s.updateUser(upn, func(_ *tenant, u *user) { u.locked = on })
}

// DeleteUser removes the user and all its assignments.
func (s *Server) DeleteUser(upn string) error {
	return s.updateUser(upn, func(t *tenant, u *user) { t.deleteUser(u) })
}

func (s *Server) updateUser(upn string, change func(*tenant, *user)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.tenant.mustUser(upn)
	if err != nil {
		return err
	}
	change(s.tenant, u)
	return nil
}
