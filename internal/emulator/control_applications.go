package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
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

// onApplication runs change on the application with client id appID, under
// the lock.
func (s *Server) onApplication(appID string, change func(t *tenant, a *application) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.appAndSP(appID)
	if err != nil {
		return err
	}
	return change(s.tenant, a)
}

// onServicePrincipal runs change on the application with client id appID
// and its service principal, which it must have, under the lock.
func (s *Server) onServicePrincipal(appID string, change func(t *tenant, a *application, sp *servicePrincipal) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, sp, err := s.appAndSP(appID)
	if err == nil && sp == nil {
		err = fmt.Errorf("application %q has no service principal: %w", appID, errNotFound)
	}
	if err != nil {
		return err
	}
	return change(s.tenant, a, sp)
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
	return s.onApplication(appID, func(t *tenant, a *application) error {
		t.deleteApplication(a)
		return nil
	})
}

// AddApplicationSecret adds a client secret (also an expired one: set End
// in the past) and returns its key id.
func (s *Server) AddApplicationSecret(appID string, secret SeedSecret) (keyID string, err error) {
	err = s.onApplication(appID, func(t *tenant, a *application) error {
		if secret.Value == "" {
			return errors.New("value is empty")
		}
		keyID = t.addSeedSecret(a, secret, s.clock()).keyID
		return nil
	})
	return keyID, err
}

// AddApplicationCertificate adds a certificate credential from PEM; Start and
// End default to the certificate's validity.
func (s *Server) AddApplicationCertificate(appID string, c SeedCertificate) (keyID string, err error) {
	err = s.onApplication(appID, func(t *tenant, a *application) error {
		k, err := t.addSeedCertificate(a, c)
		if err == nil {
			keyID = k.keyID
		}
		return err
	})
	return keyID, err
}

// RemoveApplicationCredential removes a secret or a certificate by key id.
func (s *Server) RemoveApplicationCredential(appID, keyID string) error {
	return s.onApplication(appID, func(_ *tenant, a *application) error {
		before := len(a.passwords) + len(a.keys)
		a.passwords = slices.DeleteFunc(a.passwords, func(p *passwordCredential) bool { return strings.EqualFold(p.keyID, keyID) })
		a.keys = slices.DeleteFunc(a.keys, func(k *keyCredential) bool { return strings.EqualFold(k.keyID, keyID) })
		if len(a.passwords)+len(a.keys) == before {
			return fmt.Errorf("credential %q: %w", keyID, errNotFound)
		}
		return nil
	})
}

// SetApplicationCredentialEnd moves the end date of a secret or certificate credential (by
// key id), so a test can put a credential inside its renewal window or make it expire
// without waiting. Microsoft has no such operation (a credential's dates are fixed when it
// is added); only the control API changes them.
func (s *Server) SetApplicationCredentialEnd(appID, keyID string, end time.Time) error {
	return s.onApplication(appID, func(_ *tenant, a *application) error {
		for _, p := range a.passwords {
			if strings.EqualFold(p.keyID, keyID) {
				if !end.After(p.start) {
					p.start = end.Add(-time.Hour)
				}
				p.end = end
				return nil
			}
		}
		for _, k := range a.keys {
			if strings.EqualFold(k.keyID, keyID) {
				if !end.After(k.start) {
					k.start = end.Add(-time.Hour)
				}
				k.end = end
				return nil
			}
		}
		return fmt.Errorf("credential %q: %w", keyID, errNotFound)
	})
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
	return s.onServicePrincipal(appID, func(t *tenant, _ *application, sp *servicePrincipal) error {
		r, role, err := resourceAndRole(resource, permission)
		if err != nil {
			return err
		}
		_, err = t.consent(sp, t.resourceSP(r), role, "", s.clock())
		return err
	})
}

// RemoveConsent revokes an application permission behind the provider's
// back; new tokens lack the role at once, issued ones keep it (WIRE §I9).
func (s *Server) RemoveConsent(appID, resource, permission string) (removed int, err error) {
	err = s.onServicePrincipal(appID, func(t *tenant, _ *application, sp *servicePrincipal) error {
		r, role, err := resourceAndRole(resource, permission)
		if err != nil {
			return err
		}
		res := t.resourceSP(r)
		n := len(t.appRoleAssignments)
		t.appRoleAssignments = slices.DeleteFunc(t.appRoleAssignments, func(a *appRoleAssignment) bool {
			return a.principalID == sp.id && a.resourceID == res.id && strings.EqualFold(a.appRoleID, role.id)
		})
		removed = n - len(t.appRoleAssignments)
		return nil
	})
	return removed, err
}

// AddServicePrincipalDirectoryRole gives the application's service principal
// a directory role (WIRE §J1: Exchange Administrator for app-only Exchange).
func (s *Server) AddServicePrincipalDirectoryRole(appID, roleName string) error {
	return s.onServicePrincipal(appID, func(t *tenant, _ *application, sp *servicePrincipal) error {
		role, err := directoryRoleNamed(roleName)
		if err == nil {
			_, err = t.addDirectoryAssignmentTo(sp.id, role, "")
		}
		return err
	})
}

// RemoveServicePrincipalDirectoryRole removes it again.
func (s *Server) RemoveServicePrincipalDirectoryRole(appID, roleName string) error {
	return s.onServicePrincipal(appID, func(t *tenant, _ *application, sp *servicePrincipal) error {
		role, err := directoryRoleNamed(roleName)
		if err != nil {
			return err
		}
		n := len(t.directory)
		t.directory = slices.DeleteFunc(t.directory, func(d *dirAssignment) bool {
			return d.principalID == sp.id && d.roleID == role.templateID
		})
		if n == len(t.directory) {
			return fmt.Errorf("%s does not hold %s: %w", appID, role.displayName, errNotFound)
		}
		return nil
	})
}

// AddServicePrincipalExchangeRole assigns an Exchange application role to the
// application (creating Exchange's service principal pointer when missing),
// scoped to a management scope or organization-wide.
func (s *Server) AddServicePrincipalExchangeRole(appID string, r SeedAppExchangeRole) (assignment ExchangeAssignment, err error) {
	err = s.onServicePrincipal(appID, func(t *tenant, a *application, sp *servicePrincipal) error {
		role := canonicalAppAssignableRole(r.Role)
		switch {
		case role == "" || (role == "ApplicationImpersonation" && t.org.impersonationRetired):
			return fmt.Errorf("role %q: %w", r.Role, errNotFound)
		case r.Scope != "" && t.findScope(r.Scope) == nil:
			return fmt.Errorf("management scope %q: %w", r.Scope, errNotFound)
		}
		ptr := t.exchangeSPByObjectID(sp.id)
		if ptr == nil {
			ptr = &exchangeServicePrincipal{objectID: sp.id, appID: a.appID, displayName: a.displayName, createdAt: s.clock().UTC()}
			t.exchangeSPs = append(t.exchangeSPs, ptr)
		}
		name := r.Name
		if name == "" {
			name = t.uniqueAssignmentName(role, ptr.name())
		}
		x, err := t.addAppExchangeAssignment(ptr, role, r.Scope, name, "", s.clock())
		if err == nil {
			assignment = t.exchangeView(x)
		}
		return err
	})
	return assignment, err
}

// RemoveServicePrincipalExchangeRole removes the application's Exchange
// assignments of role behind the provider's back. Graph and EWS notice after
// the RBAC delay; Test-ServicePrincipalAuthorization at once.
func (s *Server) RemoveServicePrincipalExchangeRole(appID, role string) (removed int, err error) {
	err = s.onServicePrincipal(appID, func(t *tenant, _ *application, sp *servicePrincipal) error {
		for _, a := range t.appAssignmentsOf(sp.id) {
			if strings.EqualFold(a.role, role) {
				t.removeAppExchangeAssignment(a, s.clock())
				removed++
			}
		}
		return nil
	})
	return removed, err
}

// SetServicePrincipalEnabled sets the service principal's accountEnabled:
// disabled, token requests fail with AADSTS7000112 and its tokens stop working.
func (s *Server) SetServicePrincipalEnabled(appID string, on bool) error {
	return s.onServicePrincipal(appID, func(_ *tenant, _ *application, sp *servicePrincipal) error {
		sp.enabled = on
		return nil
	})
}
