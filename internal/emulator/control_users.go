package emulator

import (
	"errors"
	"fmt"
	"strings"
)

// The control API's users as Server methods: roles, sign-in settings and
// recipient properties changed behind the provider's back.

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
	role, err := directoryRoleNamed(roleName)
	return u, role, err
}

// directoryRoleNamed is the directory role with that display name or
// template id, or a not-found error.
func directoryRoleNamed(name string) (*directoryRole, error) {
	if role := findDirectoryRole(name); role != nil {
		return role, nil
	}
	return nil, fmt.Errorf("directory role %q: %w", name, errNotFound)
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
