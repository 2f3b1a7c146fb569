package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The control API's applications as Server methods: applications and their
// credentials, consents and roles changed behind the provider's back. In
// the HTTP API, {app} is the application's client id.

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
	return applicationView(a), nil
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
	return s.tenant.addSeedSecret(a, secret, s.clock()).keyID, nil
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
	k, err := s.tenant.addSeedCertificate(a, c)
	if err != nil {
		return "", err
	}
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
