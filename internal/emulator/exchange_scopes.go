package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Management scopes (WIRE §J3): New-, Get-, Set- and Remove-ManagementScope.

// scopeObject is the bag of WIRE §J3 (Identity and Guid are ⚠).
func scopeObject(sc *managementScope) jsonObject {
	return jsonObject{{"Name", sc.name}, {"Identity", sc.name}, {"ScopeRestrictionType", "RecipientScope"},
		{"Exclusive", false}, {"RecipientRoot", nil}, {"RecipientFilter", sc.filter},
		{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", sc.guid},
		{"WhenCreatedUTC@data.type", "System.DateTime"}, {"WhenCreatedUTC", sc.createdAt.UTC().Format("2006-01-02T15:04:05.0000000+00:00")}}
}

// newManagementScope is New-ManagementScope -Name -RecipientRestrictionFilter
// with the OPATH subset of opath.go (WIRE §J3); a filter outside it fails
// like PowerShell's parameter binding.
func (s *Server) newManagementScope(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Name", "RecipientRestrictionFilter", "RecipientRoot", "Confirm", "Force"); err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayManageRoleAssignments(c) {
		return nil, accessDenied(c, "New-ManagementScope")
	}
	name, err := p.required("Name")
	if err != nil {
		return nil, err
	}
	filter, err := p.required("RecipientRestrictionFilter")
	if err != nil {
		return nil, err
	}
	if p.raw("RecipientRoot") != nil && string(p.raw("RecipientRoot")) != "null" {
		return nil, parameterError("The emulated tenant has no organizational units; omit RecipientRoot.")
	}
	if e := nameTooLong(name); e != nil {
		return nil, e
	}
	if t.findScope(name) != nil {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The management scope object '%s' already exists.", name)}
	}
	sc, perr := t.addScope(name, filter, s.clock())
	if perr != nil {
		return nil, filterBindingError(filter, perr)
	}
	return []jsonObject{scopeObject(sc)}, nil
}

// filterBindingError is how a RecipientRestrictionFilter outside the OPATH
// subset fails: PowerShell's parameter binding (WIRE §J3).
func filterBindingError(filter string, err error) *cmdletError {
	return parameterError(fmt.Sprintf("Cannot bind parameter 'RecipientRestrictionFilter' to the target. Exception setting \"RecipientRestrictionFilter\": \"Invalid filter syntax. For a description of the filter parameter syntax see the command help. \"%s\": %v\"", filter, err))
}

// setManagementScope is Set-ManagementScope -Identity [-RecipientRestrictionFilter]
// [-Name] of Exchange Online (office-docs-powershell Set-ManagementScope.md;
// the Database/Server filters are on-premises only, so unknown here). The
// filter and name rules, errors and rights are New-ManagementScope's. Like
// Remove-, it answers no object (⚠): a client reads the scope back with
// Get-ManagementScope. The new filter applies to the scope's assignments at
// once for Test-ServicePrincipalAuthorization and after the RBAC delay for
// Graph and EWS (WIRE §J7.2).
func (s *Server) setManagementScope(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "RecipientRestrictionFilter", "Name", "RecipientRoot", "Confirm", "Force"); err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayManageRoleAssignments(c) {
		return nil, accessDenied(c, "Set-ManagementScope")
	}
	identity, err := p.required("Identity")
	if err != nil {
		return nil, err
	}
	// Given, a filter or name must not be empty: Set- cannot clear them.
	optional := func(name string) (string, *cmdletError) {
		v, err := p.text(name)
		if err == nil && p.raw(name) != nil && strings.TrimSpace(v) == "" {
			err = parameterError(fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.", name))
		}
		return v, err
	}
	filter, err := optional("RecipientRestrictionFilter")
	if err != nil {
		return nil, err
	}
	name, err := optional("Name")
	if err != nil {
		return nil, err
	}
	if p.raw("RecipientRoot") != nil && string(p.raw("RecipientRoot")) != "null" {
		return nil, parameterError("The emulated tenant has no organizational units; omit RecipientRoot.")
	}
	if _, err := p.flag("Confirm"); err != nil {
		return nil, err
	}
	if _, err := p.flag("Force"); err != nil {
		return nil, err
	}
	if e := nameTooLong(name); e != nil {
		return nil, e
	}
	sc := t.findScope(identity)
	if sc == nil {
		return nil, notFound(identity)
	}
	if other := t.findScope(name); name != "" && other != nil && other != sc {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The management scope object '%s' already exists.", name)}
	}
	if perr := t.setScope(sc, name, filter, s.clock()); perr != nil {
		return nil, filterBindingError(filter, perr)
	}
	return []jsonObject{}, nil
}

func (s *Server) getManagementScope(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "Exclusive", "ResultSize"); err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Get-ManagementScope")
	}
	if identity != "" {
		sc := t.findScope(identity)
		if sc == nil {
			return nil, notFound(identity)
		}
		return []jsonObject{scopeObject(sc)}, nil
	}
	objects := []jsonObject{}
	for _, sc := range t.scopes {
		objects = append(objects, scopeObject(sc))
	}
	return objects, nil
}

// removeManagementScope refuses a scope an assignment still uses (⚠).
func (s *Server) removeManagementScope(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	t := s.tenant
	identity, err := t.removalIdentity(c, p, "Remove-ManagementScope", "Identity", "Confirm", "Force")
	if err != nil {
		return nil, err
	}
	sc := t.findScope(identity)
	if sc == nil {
		return nil, notFound(identity)
	}
	for _, a := range t.exchange {
		if strings.EqualFold(a.scope, sc.name) {
			return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
				fmt.Sprintf("The management scope '%s' is used by the role assignment '%s' and can't be removed.", sc.name, a.name)}
		}
	}
	t.scopes = slices.DeleteFunc(t.scopes, func(x *managementScope) bool { return x == sc })
	return []jsonObject{}, nil
}
