package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Management roles and their assignments: Get-ManagementRole (WIRE §K1)
// and Get-, New- and Remove-ManagementRoleAssignment for users, role groups
// (§E3, §E4) and service principals (RBAC for Applications, §J5).

// roleAssigneeTypes are Get-ManagementRoleAssignment -RoleAssigneeType's
// values; ServicePrincipal is not one of them (WIRE §J5).
var roleAssigneeTypes = []string{"User", "SecurityGroup", "RoleGroup", "RoleAssignmentPolicy",
	"ForeignSecurityPrincipal", "LinkedRoleGroup", "Computer", "MailboxPlan", "Partner", "PartnerLinkedRoleGroup"}

// getManagementRoleAssignment returns direct assignments and, for
// -RoleAssignee <user>, those the user gets through its role groups (WIRE §E3).
func (s *Server) getManagementRoleAssignment(caller *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("RoleAssignee", "Role", "Delegating", "Identity", "GetEffectiveUsers", "Enabled", "ResultSize", "RoleAssigneeType"); err != nil {
		return nil, err
	}
	assignee, err := p.text("RoleAssignee")
	if err != nil {
		return nil, err
	}
	role, err := p.text("Role")
	if err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	delegating, err := p.flag("Delegating")
	if err != nil {
		return nil, err
	}
	enabled, err := p.flag("Enabled")
	if err != nil {
		return nil, err
	}
	effectiveUsers, err := p.flag("GetEffectiveUsers")
	if err != nil {
		return nil, err
	}
	assigneeType, err := p.text("RoleAssigneeType")
	if err != nil {
		return nil, err
	}
	// WIRE §J5: the parameter's values do not include ServicePrincipal.
	if assigneeType != "" && !slices.ContainsFunc(roleAssigneeTypes, func(v string) bool { return strings.EqualFold(v, assigneeType) }) {
		return nil, parameterError(fmt.Sprintf("Cannot bind parameter 'RoleAssigneeType'. Cannot convert value \"%s\" to type \"Microsoft.Exchange.Data.Directory.SystemConfiguration.RoleAssigneeType\".", assigneeType))
	}
	t := s.tenant

	var target *user
	var group *roleGroup
	var app *exchangeServicePrincipal
	if assignee != "" {
		if target = t.recipient(assignee); target == nil {
			if group = findRoleGroup(assignee); group == nil {
				if app = t.exchangeSP(assignee); app == nil {
					return nil, notFound(assignee)
				}
			}
		}
	}
	if (caller.appOnly() || target != caller.user) && !t.mayReadRoleAssignments(caller) {
		return nil, accessDenied(caller, "Get-ManagementRoleAssignment")
	}
	if role != "" && canonicalAppAssignableRole(role) == "" {
		return nil, notFound(role)
	}

	// Each entry: the assignment and, for a role group's assignment seen
	// through a member, that member.
	type entry struct {
		a   *exoAssignment
		via *user
	}
	var entries []entry
	switch {
	case target != nil:
		for _, a := range t.assignmentsOf(target) {
			via := (*user)(nil)
			if a.group != "" {
				via = target
			}
			entries = append(entries, entry{a, via})
		}
	case group != nil:
		for _, a := range t.exchange {
			if a.group == group.name {
				entries = append(entries, entry{a, nil})
			}
		}
	case app != nil:
		for _, a := range t.appAssignmentsOf(app.objectID) {
			entries = append(entries, entry{a, nil})
		}
	default:
		for _, a := range t.exchange {
			if a.group != "" && effectiveUsers != nil && *effectiveUsers {
				for _, id := range t.groupMembers[a.group] {
					entries = append(entries, entry{a, t.byID[id]})
				}
				continue
			}
			entries = append(entries, entry{a, nil})
		}
	}
	if identity != "" {
		if t.findExchangeAssignment(identity) == nil {
			return nil, notFound(identity)
		}
	}
	objects := []jsonObject{}
	for _, e := range entries {
		a := e.a
		switch {
		case identity != "" && !strings.EqualFold(a.name, identity) && !strings.EqualFold(a.guid, identity),
			role != "" && !strings.EqualFold(a.role, role),
			delegating != nil && *delegating != (a.delegation != "Regular"),
			enabled != nil && *enabled != a.enabled,
			assigneeType != "" && !strings.EqualFold(t.exchangeView(a).RoleAssigneeType, assigneeType):
			continue
		}
		objects = append(objects, t.assignmentObject(a, e.via, effectiveUsers != nil && *effectiveUsers))
	}
	return objects, nil
}

// newManagementRoleAssignment is New-ManagementRoleAssignment -Role -User
// [-Name] [-Delegating], or the App parameter set (WIRE §J5, newAppRoleAssignment).
func (s *Server) newManagementRoleAssignment(caller *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Role", "User", "App", "CustomResourceScope", "RecipientAdministrativeUnitScope", "RecipientGroupScope",
		"Name", "Delegating", "Confirm", "Force"); err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayManageRoleAssignments(caller) {
		return nil, accessDenied(caller, "New-ManagementRoleAssignment")
	}
	role, err := p.required("Role")
	if err != nil {
		return nil, err
	}
	if p.raw("App") != nil {
		return s.newAppRoleAssignment(caller, p, role)
	}
	for _, appOnly := range []string{"CustomResourceScope", "RecipientAdministrativeUnitScope", "RecipientGroupScope"} {
		if p.raw(appOnly) != nil {
			return nil, parameterError("Parameter set cannot be resolved using the specified named parameters: -" + appOnly + " belongs to the App parameter set.")
		}
	}
	userName, err := p.required("User")
	if err != nil {
		return nil, err
	}
	name, err := p.text("Name")
	if err != nil {
		return nil, err
	}
	delegating, err := p.flag("Delegating")
	if err != nil {
		return nil, err
	}
	if len([]rune(name)) > 64 {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exValidation,
			fmt.Sprintf("The length of the property is too long. The maximum length is 64 and the length of the value provided is %d.", len([]rune(name)))}
	}
	if !isExchangeRole(role) {
		if findApplicationRole(role) != nil {
			return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
				fmt.Sprintf("The role '%s' is an application role; it can only be assigned to a service principal (-App).", findApplicationRole(role).name)}
		}
		return nil, notFound(role)
	}
	target := t.recipient(userName)
	if target == nil {
		return nil, notFound(userName)
	}
	a, addErr := t.addExchangeAssignment(target, role, name, caller.name(), s.clock())
	if addErr != nil {
		existing := name
		if existing == "" {
			existing = assignmentName(canonicalExchangeRole(role), target.alias)
		}
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The role assignment object '%s' already exists.", existing)}
	}
	if delegating != nil && *delegating {
		a.delegation = "Delegating"
	}
	return []jsonObject{t.assignmentObject(a, nil, false)}, nil
}

// newAppRoleAssignment is the App parameter set of New-ManagementRoleAssignment
// (WIRE §J5): -App takes the pointer's ObjectId (or, as public scripts do,
// the AppId ⚠); the scope is -CustomResourceScope or organization-wide.
// Administrative units and groups are not modelled.
func (s *Server) newAppRoleAssignment(c *caller, p cmdletParameters, role string) ([]jsonObject, *cmdletError) {
	t := s.tenant
	app, err := p.required("App")
	if err != nil {
		return nil, err
	}
	if p.raw("User") != nil {
		return nil, parameterError("Parameter set cannot be resolved using the specified named parameters: -App and -User.")
	}
	for _, unsupported := range []string{"RecipientAdministrativeUnitScope", "RecipientGroupScope"} {
		if p.raw(unsupported) != nil {
			return nil, parameterError("The emulated tenant does not model administrative units or groups; use -CustomResourceScope instead of -" + unsupported + ".")
		}
	}
	scopeName, err := p.text("CustomResourceScope")
	if err != nil {
		return nil, err
	}
	name, err := p.text("Name")
	if err != nil {
		return nil, err
	}
	if e := nameTooLong(name); e != nil {
		return nil, e
	}
	canonical := canonicalAppAssignableRole(role)
	if canonical == "" {
		return nil, notFound(role)
	}
	ptr := t.exchangeSP(app)
	if ptr == nil {
		return nil, notFound(app)
	}
	if scopeName != "" {
		sc := t.findScope(scopeName)
		if sc == nil {
			return nil, notFound(scopeName)
		}
		scopeName = sc.name
	}
	a, addErr := t.addAppExchangeAssignment(ptr, canonical, scopeName, name, c.name(), s.clock())
	if addErr != nil {
		existing := name
		if existing == "" {
			existing = assignmentName(canonical, ptr.name())
		}
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The role assignment object '%s' already exists.", existing)}
	}
	return []jsonObject{t.assignmentObject(a, nil, false)}, nil
}

// removeManagementRoleAssignment is Remove-ManagementRoleAssignment -Identity
// -Confirm:$false; success is 200 with an empty value (WIRE §E4 ⚠).
func (s *Server) removeManagementRoleAssignment(caller *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "Confirm"); err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayManageRoleAssignments(caller) {
		return nil, accessDenied(caller, "Remove-ManagementRoleAssignment")
	}
	identity, err := p.required("Identity")
	if err != nil {
		return nil, err
	}
	if _, err := p.flag("Confirm"); err != nil {
		return nil, err
	}
	a := t.findExchangeAssignment(identity)
	if a == nil {
		return nil, notFound(identity)
	}
	if a.spID != "" {
		t.removeAppExchangeAssignment(a, s.clock())
	} else {
		t.removeExchangeAssignment(a)
	}
	return []jsonObject{}, nil
}

// assignmentObject renders an assignment in the §E3 shape. A role group's
// assignment seen through a member (via) has AssignmentMethod RoleGroup.
func (t *tenant) assignmentObject(a *exoAssignment, via *user, effectiveUsers bool) jsonObject {
	v := t.exchangeView(a)
	assignee, method, userName := v.RoleAssigneeName, "Direct", any(v.RoleAssigneeName)
	if a.group != "" {
		userName = nil
		if via != nil {
			method = "RoleGroup"
		}
	}
	// A service principal's assignment (WIRE §J5): no User; the scope's
	// name and kind (the organization-wide value is ⚠).
	writeScope, resourceScope := "Organization", any(nil)
	if a.spID != "" {
		userName = nil
		if a.scope != "" {
			writeScope, resourceScope = "CustomRecipientScope", a.scope
		}
	}
	obj := jsonObject{
		{"Name", v.Name}, {"Identity", v.Identity}, {"Role", v.Role},
		{"RoleAssignee", assignee}, {"RoleAssigneeName", assignee}, {"RoleAssigneeType", v.RoleAssigneeType},
		{"AssignmentMethod", method}, {"User", userName},
		{"RoleAssignmentDelegationType", v.DelegationType}, {"Enabled", v.Enabled},
		{"RecipientReadScope", "Organization"}, {"ConfigReadScope", "OrganizationConfig"},
		{"RecipientWriteScope", writeScope}, {"ConfigWriteScope", "OrganizationConfig"},
		{"CustomRecipientWriteScope", nil}, {"CustomConfigWriteScope", nil}, {"CustomResourceScope", resourceScope},
		{"IsValid", true},
	}
	if effectiveUsers {
		effective := assignee
		if via != nil {
			effective = via.alias
		}
		obj = append(obj, jsonField{"EffectiveUserName", effective})
	}
	return append(obj,
		jsonField{"Guid@data.type", "System.Guid"}, jsonField{"Guid@odata.type", "#Guid"}, jsonField{"Guid", v.Guid},
		jsonField{"WhenCreatedUTC@data.type", "System.DateTime"},
		jsonField{"WhenCreatedUTC", v.CreatedAt.UTC().Format("2006-01-02T15:04:05.0000000+00:00")},
	)
}

// managementRoleType is Get-ManagementRole's RoleType: the name without
// spaces, dots and hyphens (⚠ except ApplicationEWSAccessAsApp, WIRE §J4).
func managementRoleType(name string) string {
	if r := findApplicationRole(name); r != nil {
		return r.roleType
	}
	return strings.NewReplacer(" ", "", "-", "", ".", "").Replace(name)
}

// getManagementRole lists management and application roles; Identity may
// hold * wildcards (WIRE §K1: "Application*" shows RBAC for Applications).
// A retired ApplicationImpersonation is simply absent.
func (s *Server) getManagementRole(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "RoleType", "ResultSize"); err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	roleType, err := p.text("RoleType")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Get-ManagementRole")
	}
	var names []string
	for _, r := range exchangeRoles {
		if r == "ApplicationImpersonation" && t.org.impersonationRetired {
			continue
		}
		names = append(names, r)
	}
	for _, r := range applicationRoles {
		names = append(names, r.name)
	}
	objects := []jsonObject{}
	for _, name := range names {
		if identity != "" && !wildcardMatch(strings.ToLower(identity), strings.ToLower(name)) {
			continue
		}
		if roleType != "" && !strings.EqualFold(roleType, managementRoleType(name)) {
			continue
		}
		objects = append(objects, jsonObject{
			{"Name", name}, {"Identity", name}, {"RoleType", managementRoleType(name)},
			{"IsRootRole", true}, {"IsEndUserRole", false},
			{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", uuidFor(t, "management-role:"+name)},
		})
	}
	if len(objects) == 0 && identity != "" && !strings.Contains(identity, "*") {
		return nil, notFound(identity)
	}
	return objects, nil
}
