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
// operation is also a Server method for in-process tests (control_*.go).

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
	mux.HandleFunc("GET /_emulator/import-sessions", s.getControlImportSessions)
	s.controlAppRoutes(mux)
	return mux
}

func (s *Server) controlAppRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_emulator/applications", s.postControlApplication)
	mux.HandleFunc("PATCH /_emulator/applications/{app}", s.patchControlApplication)
	mux.HandleFunc("DELETE /_emulator/applications/{app}", s.deleteControlApplication)
	mux.HandleFunc("POST /_emulator/applications/{app}/secrets", s.postControlSecret)
	mux.HandleFunc("POST /_emulator/applications/{app}/certificates", s.postControlCertificate)
	mux.HandleFunc("PATCH /_emulator/applications/{app}/credentials/{key}", s.patchControlCredential)
	mux.HandleFunc("DELETE /_emulator/applications/{app}/credentials/{key}", s.deleteControlCredential)
	mux.HandleFunc("POST /_emulator/applications/{app}/consents", s.postControlConsent)
	mux.HandleFunc("DELETE /_emulator/applications/{app}/consents/{resource}/{permission}", s.deleteControlConsent)
	mux.HandleFunc("POST /_emulator/applications/{app}/directory-roles", s.postControlAppDirectoryRole)
	mux.HandleFunc("DELETE /_emulator/applications/{app}/directory-roles/{role}", s.deleteControlAppDirectoryRole)
	mux.HandleFunc("POST /_emulator/applications/{app}/exchange-roles", s.postControlAppExchangeRole)
	mux.HandleFunc("DELETE /_emulator/applications/{app}/exchange-roles/{role}", s.deleteControlAppExchangeRole)
	mux.HandleFunc("POST /_emulator/management-scopes", s.postControlScope)
	mux.HandleFunc("PATCH /_emulator/organization", s.patchControlOrganization)
	mux.HandleFunc("PUT /_emulator/rbac-delay", s.putControlRBACDelay)
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

// answerControl ends a control request: the error of what it did, else
// value with status (nil: no body).
func answerControl(w http.ResponseWriter, err error, status int, value any) {
	switch {
	case err != nil:
		writeControlError(w, err)
	case value == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, value)
	}
}

// answerControlUser ends a control request that changed the user of the
// path: the change's error, or the user as it is now with status.
func (s *Server) answerControlUser(w http.ResponseWriter, r *http.Request, err error, status int) {
	var v User
	if err == nil {
		v, err = s.userState(r.PathValue("upn"))
	}
	answerControl(w, err, status, v)
}

// answerControlApplication ends a control request that changed the
// application of the path: the change's error, or the application as it is
// now with status.
func (s *Server) answerControlApplication(w http.ResponseWriter, r *http.Request, err error, status int) {
	var v Application
	if err == nil {
		v, err = s.applicationState(r.PathValue("app"))
	}
	answerControl(w, err, status, v)
}

// userState is the user's current state (State's view of it).
func (s *Server) userState(upn string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.tenant.mustUser(upn)
	if err != nil {
		return User{}, err
	}
	return s.tenant.userView(u), nil
}

// applicationState is the application's current state (State's view of it).
func (s *Server) applicationState(appID string) (Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return Application{}, err
	}
	return applicationView(a), nil
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
	answerControl(w, err, http.StatusCreated, a)
}

func (s *Server) deleteControlExchangeRole(w http.ResponseWriter, r *http.Request) {
	n, err := s.RemoveExchangeRoleAssignment(r.PathValue("upn"), r.PathValue("role"))
	answerControl(w, err, http.StatusOK, map[string]int{"removed": n})
}

func (s *Server) postControlDirectoryRole(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	s.answerControlUser(w, r, s.AddDirectoryRole(r.PathValue("upn"), body.Role), http.StatusCreated)
}

func (s *Server) deleteControlDirectoryRole(w http.ResponseWriter, r *http.Request) {
	s.answerControlUser(w, r, s.RemoveDirectoryRole(r.PathValue("upn"), r.PathValue("role")), http.StatusOK)
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
	s.answerControlUser(w, r, err, http.StatusOK)
}

func (s *Server) deleteControlUser(w http.ResponseWriter, r *http.Request) {
	answerControl(w, s.DeleteUser(r.PathValue("upn")), http.StatusNoContent, nil)
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
	answerControl(w, s.Reset(), http.StatusNoContent, nil)
}

func (s *Server) postControlApplication(w http.ResponseWriter, r *http.Request) {
	var body SeedApplication
	if !decodeControl(w, r, &body) {
		return
	}
	a, err := s.AddApplication(body)
	answerControl(w, err, http.StatusCreated, a)
}

func (s *Server) patchControlApplication(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	var err error
	if body.Enabled != nil {
		err = s.SetServicePrincipalEnabled(r.PathValue("app"), *body.Enabled)
	}
	s.answerControlApplication(w, r, err, http.StatusOK)
}

func (s *Server) deleteControlApplication(w http.ResponseWriter, r *http.Request) {
	answerControl(w, s.RemoveApplication(r.PathValue("app")), http.StatusNoContent, nil)
}

func (s *Server) postControlSecret(w http.ResponseWriter, r *http.Request) {
	var body SeedSecret
	if !decodeControl(w, r, &body) {
		return
	}
	_, err := s.AddApplicationSecret(r.PathValue("app"), body)
	s.answerControlApplication(w, r, err, http.StatusCreated)
}

func (s *Server) postControlCertificate(w http.ResponseWriter, r *http.Request) {
	var body SeedCertificate
	if !decodeControl(w, r, &body) {
		return
	}
	_, err := s.AddApplicationCertificate(r.PathValue("app"), body)
	s.answerControlApplication(w, r, err, http.StatusCreated)
}

func (s *Server) patchControlCredential(w http.ResponseWriter, r *http.Request) {
	var body struct {
		End *time.Time `json:"end"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if body.End == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "end (RFC 3339) is required"})
		return
	}
	err := s.SetApplicationCredentialEnd(r.PathValue("app"), r.PathValue("key"), *body.End)
	s.answerControlApplication(w, r, err, http.StatusOK)
}

func (s *Server) deleteControlCredential(w http.ResponseWriter, r *http.Request) {
	err := s.RemoveApplicationCredential(r.PathValue("app"), r.PathValue("key"))
	s.answerControlApplication(w, r, err, http.StatusOK)
}

func (s *Server) postControlConsent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Resource   string `json:"resource"`
		Permission string `json:"permission"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	err := s.AddConsent(r.PathValue("app"), body.Resource, body.Permission)
	s.answerControlApplication(w, r, err, http.StatusCreated)
}

func (s *Server) deleteControlConsent(w http.ResponseWriter, r *http.Request) {
	n, err := s.RemoveConsent(r.PathValue("app"), r.PathValue("resource"), r.PathValue("permission"))
	answerControl(w, err, http.StatusOK, map[string]int{"removed": n})
}

func (s *Server) postControlAppDirectoryRole(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	err := s.AddServicePrincipalDirectoryRole(r.PathValue("app"), body.Role)
	s.answerControlApplication(w, r, err, http.StatusCreated)
}

func (s *Server) deleteControlAppDirectoryRole(w http.ResponseWriter, r *http.Request) {
	err := s.RemoveServicePrincipalDirectoryRole(r.PathValue("app"), r.PathValue("role"))
	s.answerControlApplication(w, r, err, http.StatusOK)
}

func (s *Server) postControlAppExchangeRole(w http.ResponseWriter, r *http.Request) {
	var body SeedAppExchangeRole
	if !decodeControl(w, r, &body) {
		return
	}
	a, err := s.AddServicePrincipalExchangeRole(r.PathValue("app"), body)
	answerControl(w, err, http.StatusCreated, a)
}

func (s *Server) deleteControlAppExchangeRole(w http.ResponseWriter, r *http.Request) {
	n, err := s.RemoveServicePrincipalExchangeRole(r.PathValue("app"), r.PathValue("role"))
	answerControl(w, err, http.StatusOK, map[string]int{"removed": n})
}

func (s *Server) postControlScope(w http.ResponseWriter, r *http.Request) {
	var body SeedManagementScope
	if !decodeControl(w, r, &body) {
		return
	}
	sc, err := s.AddManagementScope(body.Name, body.RecipientFilter)
	answerControl(w, err, http.StatusCreated, sc)
}

// patchControlOrganization changes any of the switches; a JSON null sets
// ews_enabled or ews_allowed_app_ids back to "not configured", "" clears a date.
func (s *Server) patchControlOrganization(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ImpersonationRetired *bool           `json:"impersonation_retired"`
		EWSEnabled           json.RawMessage `json:"ews_enabled"`
		EWSAllowedAppIDs     json.RawMessage `json:"ews_allowed_app_ids"`
		EWSDisablementDate   *string         `json:"ews_disablement_date"`
		EWSEndDate           *string         `json:"ews_end_date"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	var err error
	if body.ImpersonationRetired != nil {
		s.SetImpersonationRetired(*body.ImpersonationRetired)
	}
	if body.EWSEnabled != nil {
		var v *bool
		if e := json.Unmarshal(body.EWSEnabled, &v); e != nil {
			err = errors.Join(err, fmt.Errorf("ews_enabled: %w", e))
		} else {
			s.SetOrganizationEWSEnabled(v)
		}
	}
	if body.EWSAllowedAppIDs != nil {
		var ids []string
		if e := json.Unmarshal(body.EWSAllowedAppIDs, &ids); e != nil {
			err = errors.Join(err, fmt.Errorf("ews_allowed_app_ids: %w", e))
		} else {
			s.SetEWSAllowedAppIDs(ids)
		}
	}
	for _, d := range []struct {
		value *string
		set   func(time.Time)
		name  string
	}{{body.EWSDisablementDate, s.SetEWSDisablementDate, "ews_disablement_date"}, {body.EWSEndDate, s.SetEWSEndDate, "ews_end_date"}} {
		if d.value == nil {
			continue
		}
		if t, e := parseDate(*d.value); e != nil {
			err = errors.Join(err, fmt.Errorf("%s %q is not YYYY-MM-DD", d.name, *d.value))
		} else {
			d.set(t)
		}
	}
	answerControl(w, err, http.StatusOK, s.Snapshot().Organization)
}

func (s *Server) putControlRBACDelay(w http.ResponseWriter, r *http.Request) {
	if d, ok := decodeDuration(w, r, "delay"); ok {
		s.SetRBACDelay(d)
		writeJSON(w, http.StatusOK, map[string]string{"delay": d.String()})
	}
}
