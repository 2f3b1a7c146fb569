package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Seed is the tenant file the emulator starts from (and returns to on Reset).
type Seed struct {
	TenantID    string `json:"tenant_id"`
	DisplayName string `json:"display_name"`
	// Cloud is one of worldwide, germany, usgovernment, usgovernment_dod, china
	// (WIRE §B). It decides which resource URIs the token endpoint accepts.
	Cloud string `json:"cloud,omitempty"`
	// Domains are the verified domains; the first is the initial
	// (*.onmicrosoft.com) domain, the second (when present) the default one.
	Domains []string `json:"domains"`
	// LegacyBasicAuth lets EWS accept Basic auth with a user's app password (WIRE §A11).
	LegacyBasicAuth bool `json:"legacy_basic_auth,omitempty"`
	// PropagationDelay is how long a new Exchange role assignment takes to
	// become effective for EWS impersonation. JSON: a Go duration string ("5s").
	PropagationDelay time.Duration `json:"-"`
	Users            []SeedUser    `json:"users"`
}

// SeedUser is one account of the seeded tenant.
type SeedUser struct {
	UserPrincipalName string `json:"user_principal_name"`
	DisplayName       string `json:"display_name,omitempty"`
	// Alias is the Exchange recipient name; default: the UPN's local part.
	Alias       string `json:"alias,omitempty"`
	Password    string `json:"password"`
	AppPassword string `json:"app_password,omitempty"`
	MFA         bool   `json:"mfa,omitempty"`
	// MFARegistered defaults to true; an MFA user that is not registered gets
	// AADSTS50079 instead of 50076.
	MFARegistered *bool `json:"mfa_registered,omitempty"`
	Disabled      bool  `json:"disabled,omitempty"`
	Locked        bool  `json:"locked,omitempty"`
	// CABlocked makes every sign-in fail with AADSTS53003 (Conditional Access).
	CABlocked          bool     `json:"ca_blocked,omitempty"`
	Mailbox            bool     `json:"mailbox,omitempty"`
	ExchangeRoles      []string `json:"exchange_roles,omitempty"`
	ExchangeRoleGroups []string `json:"exchange_role_groups,omitempty"`
	DirectoryRoles     []string `json:"directory_roles,omitempty"`
}

type seedJSON Seed

// UnmarshalJSON reads propagation_delay as a duration string.
func (s *Seed) UnmarshalJSON(data []byte) error {
	var aux struct {
		*seedJSON
		PropagationDelay string `json:"propagation_delay"`
	}
	aux.seedJSON = (*seedJSON)(s)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	if aux.PropagationDelay != "" {
		d, err := time.ParseDuration(aux.PropagationDelay)
		if err != nil {
			return fmt.Errorf("propagation_delay: %w", err)
		}
		s.PropagationDelay = d
	}
	return nil
}

// MarshalJSON writes propagation_delay as a duration string.
func (s Seed) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		seedJSON
		PropagationDelay string `json:"propagation_delay"`
	}{seedJSON(s), s.PropagationDelay.String()})
}

// LoadSeed reads and validates a seed file.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return seed, nil
}

// ParseSeed decodes and validates a seed document. Unknown fields are errors,
// so a typo in a flag name is not silently ignored.
func ParseSeed(data []byte) (*Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the seed and fills defaults (cloud, aliases, mfa_registered).
// All problems are reported together.
func (s *Seed) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if id, err := uuid.Parse(s.TenantID); err != nil || strings.Count(s.TenantID, "-") != 4 {
		fail("tenant_id %q is not a GUID", s.TenantID)
	} else {
		s.TenantID = id.String()
	}
	if strings.TrimSpace(s.DisplayName) == "" {
		fail("display_name is empty")
	}
	if s.Cloud == "" {
		s.Cloud = "worldwide"
	}
	if _, ok := clouds[s.Cloud]; !ok {
		fail("cloud %q is not one of worldwide, germany, usgovernment, usgovernment_dod, china", s.Cloud)
	}
	if s.PropagationDelay < 0 {
		fail("propagation_delay is negative")
	}
	if len(s.Domains) == 0 {
		fail("domains is empty (the first domain is the tenant's initial domain)")
	}
	domains := map[string]bool{}
	for i, d := range s.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		s.Domains[i] = d
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@/ ") {
			fail("domain %q is not a domain name", d)
		}
		if domains[d] {
			fail("domain %q is listed twice", d)
		}
		domains[d] = true
	}

	upns, aliases := map[string]bool{}, map[string]string{}
	for i := range s.Users {
		u := &s.Users[i]
		local, domain, ok := strings.Cut(u.UserPrincipalName, "@")
		if !ok || local == "" || strings.Contains(domain, "@") {
			fail("users[%d]: user_principal_name %q is not an address", i, u.UserPrincipalName)
			continue
		}
		upn := strings.ToLower(u.UserPrincipalName)
		if upns[upn] {
			fail("users[%d]: duplicate user_principal_name %q", i, u.UserPrincipalName)
		}
		upns[upn] = true
		if !domains[strings.ToLower(domain)] {
			fail("users[%d]: the domain of %q is not in domains", i, u.UserPrincipalName)
		}
		if u.Alias == "" {
			u.Alias = local
		}
		if other, dup := aliases[strings.ToLower(u.Alias)]; dup {
			fail("users[%d]: alias %q is also the alias of %s", i, u.Alias, other)
		}
		aliases[strings.ToLower(u.Alias)] = u.UserPrincipalName
		if u.DisplayName == "" {
			u.DisplayName = local
		}
		if u.Password == "" {
			fail("users[%d] (%s): password is empty", i, u.UserPrincipalName)
		}
		if u.MFARegistered == nil {
			registered := true
			u.MFARegistered = &registered
		}
		for _, r := range u.ExchangeRoles {
			if !isExchangeRole(r) {
				fail("users[%d] (%s): unknown Exchange role %q", i, u.UserPrincipalName, r)
			}
		}
		for _, g := range u.ExchangeRoleGroups {
			if findRoleGroup(g) == nil {
				fail("users[%d] (%s): unknown Exchange role group %q", i, u.UserPrincipalName, g)
			}
		}
		for _, r := range u.DirectoryRoles {
			if findDirectoryRole(r) == nil {
				fail("users[%d] (%s): unknown directory role %q", i, u.UserPrincipalName, r)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid seed: %w", errors.Join(errs...))
	}
	return nil
}

// defaultDomain is the domain new mail addresses use.
func (s *Seed) defaultDomain() string {
	if len(s.Domains) > 1 {
		return s.Domains[1]
	}
	return s.Domains[0]
}
