package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The control API for the app-only world: applications and their
// credentials, consents and roles changed behind the provider's back, and
// the organization's EWS switches. {app} is the application's client id.

func (s *Server) controlAppRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_emulator/applications", s.postControlApplication)
	mux.HandleFunc("PATCH /_emulator/applications/{app}", s.patchControlApplication)
	mux.HandleFunc("DELETE /_emulator/applications/{app}", s.deleteControlApplication)
	mux.HandleFunc("POST /_emulator/applications/{app}/secrets", s.postControlSecret)
	mux.HandleFunc("POST /_emulator/applications/{app}/certificates", s.postControlCertificate)
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

// writeControlApplication answers with the application's current state.
func (s *Server) writeControlApplication(w http.ResponseWriter, appID string, status int) {
	for _, a := range s.Snapshot().Applications {
		if strings.EqualFold(a.AppID, appID) {
			writeJSON(w, status, a)
			return
		}
	}
	writeControlError(w, fmt.Errorf("application %q: %w", appID, errNotFound))
}

// answerControlApplication answers a control request that changed the application of the
// path: the change's error, or the application as it is now with status.
func (s *Server) answerControlApplication(w http.ResponseWriter, r *http.Request, err error, status int) {
	if err != nil {
		writeControlError(w, err)
		return
	}
	s.writeControlApplication(w, r.PathValue("app"), status)
}

func (s *Server) postControlApplication(w http.ResponseWriter, r *http.Request) {
	var body SeedApplication
	if !decodeControl(w, r, &body) {
		return
	}
	a, err := s.AddApplication(body)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) patchControlApplication(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if body.Enabled != nil {
		if err := s.SetServicePrincipalEnabled(r.PathValue("app"), *body.Enabled); err != nil {
			writeControlError(w, err)
			return
		}
	}
	s.writeControlApplication(w, r.PathValue("app"), http.StatusOK)
}

func (s *Server) deleteControlApplication(w http.ResponseWriter, r *http.Request) {
	if err := s.RemoveApplication(r.PathValue("app")); err != nil {
		writeControlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": n})
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
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) deleteControlAppExchangeRole(w http.ResponseWriter, r *http.Request) {
	n, err := s.RemoveServicePrincipalExchangeRole(r.PathValue("app"), r.PathValue("role"))
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": n})
}

func (s *Server) postControlScope(w http.ResponseWriter, r *http.Request) {
	var body SeedManagementScope
	if !decodeControl(w, r, &body) {
		return
	}
	sc, err := s.AddManagementScope(body.Name, body.RecipientFilter)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sc)
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
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Snapshot().Organization)
}

func (s *Server) putControlRBACDelay(w http.ResponseWriter, r *http.Request) {
	if d, ok := decodeDuration(w, r, "delay"); ok {
		s.SetRBACDelay(d)
		writeJSON(w, http.StatusOK, map[string]string{"delay": d.String()})
	}
}

// appAndSP finds an application by client id and its service principal
// (nil when it has none). The caller holds s.mu.
func (s *Server) appAndSP(appID string) (*application, *servicePrincipal, error) {
	a := s.tenant.appByAppID(appID)
	if a == nil {
		return nil, nil, fmt.Errorf("application %q: %w", appID, errNotFound)
	}
	return a, s.tenant.spByAppID(a.appID), nil
}

func (s *Server) mustSP(appID string) (*application, *servicePrincipal, error) {
	a, sp, err := s.appAndSP(appID)
	if err == nil && sp == nil {
		err = fmt.Errorf("application %q has no service principal: %w", appID, errNotFound)
	}
	return a, sp, err
}

func (s *Server) applicationView(a *application) Application {
	for _, v := range s.tenant.snapshot().Applications {
		if v.ObjectID == a.objectID {
			return v
		}
	}
	return Application{}
}

// AddApplication registers an application as a seed's "applications" entry
// describes it (service principal, credentials, consents, roles), as an
// administrator would in the portal.
func (s *Server) AddApplication(sa SeedApplication) (Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.tenant.seedApplication(sa, s.clock())
	if err != nil {
		return Application{}, err
	}
	return s.applicationView(a), nil
}

// RemoveApplication deletes an application and its service principal.
func (s *Server) RemoveApplication(appID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return err
	}
	s.tenant.deleteApplication(a)
	return nil
}

// AddApplicationSecret adds a client secret (also an expired one: set End
// in the past) and returns its key id.
func (s *Server) AddApplicationSecret(appID string, secret SeedSecret) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return "", err
	}
	if secret.Value == "" {
		return "", errors.New("value is empty")
	}
	start, end := s.clock(), time.Time{}
	if secret.Start != nil {
		start = *secret.Start
	}
	if secret.End != nil {
		end = *secret.End
	}
	return s.tenant.addPassword(a, secret.DisplayName, secret.Value, secret.KeyID, start, end).keyID, nil
}

// AddApplicationCertificate adds a certificate credential from PEM; Start and
// End default to the certificate's validity.
func (s *Server) AddApplicationCertificate(appID string, c SeedCertificate) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return "", err
	}
	cert, err := parseCertificatePEM(c.PEM)
	if err != nil {
		return "", err
	}
	var start, end time.Time
	if c.Start != nil {
		start = *c.Start
	}
	if c.End != nil {
		end = *c.End
	}
	k := s.tenant.newKeyCredential(a, cert, c.DisplayName, c.KeyID, start, end)
	a.keys = append(a.keys, k)
	return k.keyID, nil
}

// RemoveApplicationCredential removes a secret or a certificate by key id.
func (s *Server) RemoveApplicationCredential(appID, keyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return err
	}
	before := len(a.passwords) + len(a.keys)
	a.passwords = slices.DeleteFunc(a.passwords, func(p *passwordCredential) bool { return strings.EqualFold(p.keyID, keyID) })
	a.keys = slices.DeleteFunc(a.keys, func(k *keyCredential) bool { return strings.EqualFold(k.keyID, keyID) })
	if len(a.passwords)+len(a.keys) == before {
		return fmt.Errorf("credential %q: %w", keyID, errNotFound)
	}
	return nil
}

// resourceAndRole resolves "graph"/"exchange" (or a display name or app id)
// and an app-role value.
func resourceAndRole(resource, permission string) (*resourceApp, *appRole, error) {
	r := findResourceApp(resource)
	if r == nil {
		return nil, nil, fmt.Errorf("resource %q (graph, exchange, or their display name or app id): %w", resource, errNotFound)
	}
	role := r.roleByValue(permission)
	if role == nil {
		return nil, nil, fmt.Errorf("%s has no application permission %q: %w", r.displayName, permission, errNotFound)
	}
	return r, role, nil
}

// AddConsent grants an application permission, as admin consent does (WIRE §I9).
func (s *Server) AddConsent(appID, resource, permission string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err != nil {
		return err
	}
	r, role, err := resourceAndRole(resource, permission)
	if err != nil {
		return err
	}
	_, err = s.tenant.consent(sp, s.tenant.resourceSP(r), role, "", s.clock())
	return err
}

// RemoveConsent revokes an application permission behind the provider's
// back; new tokens lack the role at once, issued ones keep it (WIRE §I9).
func (s *Server) RemoveConsent(appID, resource, permission string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err != nil {
		return 0, err
	}
	r, role, err := resourceAndRole(resource, permission)
	if err != nil {
		return 0, err
	}
	res := s.tenant.resourceSP(r)
	n := len(s.tenant.appRoleAssignments)
	s.tenant.appRoleAssignments = slices.DeleteFunc(s.tenant.appRoleAssignments, func(a *appRoleAssignment) bool {
		return a.principalID == sp.id && a.resourceID == res.id && strings.EqualFold(a.appRoleID, role.id)
	})
	return n - len(s.tenant.appRoleAssignments), nil
}

// AddServicePrincipalDirectoryRole gives the application's service principal
// a directory role (WIRE §J1: Exchange Administrator for app-only Exchange).
func (s *Server) AddServicePrincipalDirectoryRole(appID, roleName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err != nil {
		return err
	}
	role := findDirectoryRole(roleName)
	if role == nil {
		return fmt.Errorf("directory role %q: %w", roleName, errNotFound)
	}
	_, err = s.tenant.addDirectoryAssignmentTo(sp.id, role, "")
	return err
}

// RemoveServicePrincipalDirectoryRole removes it again.
func (s *Server) RemoveServicePrincipalDirectoryRole(appID, roleName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err != nil {
		return err
	}
	role := findDirectoryRole(roleName)
	if role == nil {
		return fmt.Errorf("directory role %q: %w", roleName, errNotFound)
	}
	n := len(s.tenant.directory)
	s.tenant.directory = slices.DeleteFunc(s.tenant.directory, func(d *dirAssignment) bool {
		return d.principalID == sp.id && d.roleID == role.templateID
	})
	if n == len(s.tenant.directory) {
		return fmt.Errorf("%s does not hold %s: %w", appID, role.displayName, errNotFound)
	}
	return nil
}

// AddServicePrincipalExchangeRole assigns an Exchange application role to the
// application (creating Exchange's service principal pointer when missing),
// scoped to a management scope or organization-wide.
func (s *Server) AddServicePrincipalExchangeRole(appID string, r SeedAppExchangeRole) (ExchangeAssignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, sp, err := s.mustSP(appID)
	if err != nil {
		return ExchangeAssignment{}, err
	}
	t := s.tenant
	role := canonicalAppAssignableRole(r.Role)
	switch {
	case role == "" || (role == "ApplicationImpersonation" && t.org.impersonationRetired):
		return ExchangeAssignment{}, fmt.Errorf("role %q: %w", r.Role, errNotFound)
	case r.Scope != "" && t.findScope(r.Scope) == nil:
		return ExchangeAssignment{}, fmt.Errorf("management scope %q: %w", r.Scope, errNotFound)
	}
	ptr := t.exchangeSPByObjectID(sp.id)
	if ptr == nil {
		ptr = &exchangeServicePrincipal{objectID: sp.id, appID: a.appID, displayName: a.displayName, createdAt: s.clock().UTC()}
		t.exchangeSPs = append(t.exchangeSPs, ptr)
	}
	name := r.Name
	if name == "" {
		name = assignmentName(role, ptr.name())
		for n := 2; t.findExchangeAssignment(name) != nil; n++ {
			name = assignmentName(role, fmt.Sprintf("%s-%d", ptr.name(), n))
		}
	}
	x, err := t.addAppExchangeAssignment(ptr, role, r.Scope, name, "", s.clock())
	if err != nil {
		return ExchangeAssignment{}, err
	}
	return t.exchangeView(x), nil
}

// RemoveServicePrincipalExchangeRole removes the application's Exchange
// assignments of role behind the provider's back. Graph and EWS notice after
// the RBAC delay; Test-ServicePrincipalAuthorization at once.
func (s *Server) RemoveServicePrincipalExchangeRole(appID, role string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range s.tenant.appAssignmentsOf(sp.id) {
		if strings.EqualFold(a.role, role) {
			s.tenant.removeAppExchangeAssignment(a, s.clock())
			n++
		}
	}
	return n, nil
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
	return ManagementScope{Name: sc.name, Guid: sc.guid, RecipientFilter: sc.filter}, nil
}

// SetServicePrincipalEnabled sets the service principal's accountEnabled:
// disabled, token requests fail with AADSTS7000112 and its tokens stop working.
func (s *Server) SetServicePrincipalEnabled(appID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sp, err := s.mustSP(appID)
	if err == nil {
		sp.enabled = on
	}
	return err
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

// SetMailboxEWSEnabled sets the mailbox's CASMailbox EwsEnabled; nil is
// "not configured".
func (s *Server) SetMailboxEWSEnabled(upn string, v *bool) error {
	return s.updateUser(upn, func(_ *tenant, u *user) { u.ewsEnabled = cloneBool(v) })
}

// SetUserRecipientProperties sets the department and custom attributes
// ("1".."15"; "" clears one) management scopes filter on.
func (s *Server) SetUserRecipientProperties(upn string, department *string, customAttributes map[string]string) error {
	for k := range customAttributes {
		if n := customAttributeIndex(k); n < 0 {
			return fmt.Errorf("custom attribute %q is not 1..15", k)
		}
	}
	return s.updateUser(upn, func(_ *tenant, u *user) {
		if department != nil {
			u.department = *department
		}
		for k, v := range customAttributes {
			u.customAttributes[customAttributeIndex(k)] = v
		}
	})
}

// SetRBACDelay changes how long RBAC-for-Applications changes take to reach
// Graph and EWS.
func (s *Server) SetRBACDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rbacDelay = d
}
