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
	obj := jsonObject{{"Name", sc.name}, {"Identity", sc.name}, {"ScopeRestrictionType", "RecipientScope"},
		{"Exclusive", false}, {"RecipientRoot", nil}, {"RecipientFilter", sc.filter}}
	obj = append(obj, guidFields(sc.guid)...)
	return append(obj, whenCreatedFields(sc.createdAt)...)
}

// noRecipientRoot: the emulated tenant has no organizational units.
func (b *binder) noRecipientRoot() {
	if raw := b.p.raw("RecipientRoot"); raw != nil && string(raw) != "null" {
		b.fail(parameterError("The emulated tenant has no organizational units; omit RecipientRoot."))
	}
}

func scopeExists(name string) *cmdletError {
	return &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
		fmt.Sprintf("The management scope object '%s' already exists.", name)}
}

// newManagementScope is New-ManagementScope -Name -RecipientRestrictionFilter
// with the OPATH subset of opath.go (WIRE §J3); a filter outside it fails
// like PowerShell's parameter binding.
func (s *Server) newManagementScope(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	name, filter := in.required("Name"), in.required("RecipientRestrictionFilter")
	in.noRecipientRoot()
	in.fail(nameTooLong(name))
	t := s.tenant
	switch {
	case in.err != nil:
		return nil, in.err
	case t.findScope(name) != nil:
		return nil, scopeExists(name)
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
// filter and name rules, errors and rights are New-ManagementScope's; given,
// a filter or name must not be empty (Set- cannot clear them). Like
// Remove-, it answers no object (⚠): a client reads the scope back with
// Get-ManagementScope. The new filter applies to the scope's assignments at
// once for Test-ServicePrincipalAuthorization and after the RBAC delay for
// Graph and EWS (WIRE §J7.2).
func (s *Server) setManagementScope(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity := in.required("Identity")
	filter, name := in.nonEmptyIfGiven("RecipientRestrictionFilter"), in.nonEmptyIfGiven("Name")
	in.noRecipientRoot()
	in.flag("Confirm")
	in.flag("Force")
	in.fail(nameTooLong(name))
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	sc := t.findScope(identity)
	if sc == nil {
		return nil, notFound(identity)
	}
	if other := t.findScope(name); name != "" && other != nil && other != sc {
		return nil, scopeExists(name)
	}
	if perr := t.setScope(sc, name, filter, s.clock()); perr != nil {
		return nil, filterBindingError(filter, perr)
	}
	return []jsonObject{}, nil
}

func (s *Server) getManagementScope(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity := in.text("Identity")
	t := s.tenant
	if err := in.readableBy(t, c, "Get-ManagementScope"); err != nil {
		return nil, err
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
func (s *Server) removeManagementScope(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	identity, err := removalIdentity(p)
	if err != nil {
		return nil, err
	}
	t := s.tenant
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
