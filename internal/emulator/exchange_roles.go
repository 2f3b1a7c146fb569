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

// roleAssignmentQuery is what Get-ManagementRoleAssignment's parameters ask for.
type roleAssignmentQuery struct {
	assignee, role, identity, assigneeType string
	delegating, enabled                    *bool
	effectiveUsers                         bool
}

// matches tells whether assignment a passes the query's filters.
func (f *roleAssignmentQuery) matches(t *tenant, a *exoAssignment) bool {
	switch {
	case f.identity != "" && !strings.EqualFold(a.name, f.identity) && !strings.EqualFold(a.guid, f.identity),
		f.role != "" && !strings.EqualFold(a.role, f.role),
		f.delegating != nil && *f.delegating != (a.delegation != "Regular"),
		f.enabled != nil && *f.enabled != a.enabled,
		f.assigneeType != "" && !strings.EqualFold(t.exchangeView(a).RoleAssigneeType, f.assigneeType):
		return false
	}
	return true
}

// getManagementRoleAssignment returns direct assignments and, for
// -RoleAssignee <user>, those the user gets through its role groups (WIRE §E3).
func (s *Server) getManagementRoleAssignment(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	f := roleAssignmentQuery{assignee: in.text("RoleAssignee"), role: in.text("Role"), identity: in.text("Identity")}
	f.delegating, f.enabled, f.effectiveUsers = in.flag("Delegating"), in.flag("Enabled"), in.on("GetEffectiveUsers")
	f.assigneeType = in.text("RoleAssigneeType")
	// WIRE §J5: the parameter's values do not include ServicePrincipal.
	if f.assigneeType != "" && !slices.ContainsFunc(roleAssigneeTypes, func(v string) bool { return strings.EqualFold(v, f.assigneeType) }) {
		in.fail(parameterError(fmt.Sprintf("Cannot bind parameter 'RoleAssigneeType'. Cannot convert value \"%s\" to type \"Microsoft.Exchange.Data.Directory.SystemConfiguration.RoleAssigneeType\".", f.assigneeType)))
	}
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	who, err := t.findRoleAssignee(f.assignee)
	switch {
	case err != nil:
		return nil, err
	case (c.appOnly() || who.user != c.user) && !t.mayReadRoleAssignments(c):
		return nil, accessDenied(c, "Get-ManagementRoleAssignment")
	case f.role != "" && canonicalAppAssignableRole(f.role) == "":
		return nil, notFound(f.role)
	case f.identity != "" && t.findExchangeAssignment(f.identity) == nil:
		return nil, notFound(f.identity)
	}
	objects := []jsonObject{}
	for _, e := range t.assignmentEntries(who, f.effectiveUsers) {
		if f.matches(t, e.a) {
			objects = append(objects, t.assignmentObject(e.a, e.via, f.effectiveUsers))
		}
	}
	return objects, nil
}

// roleAssignee is -RoleAssignee found: a user, a role group or a service
// principal's pointer; none of them without the parameter.
type roleAssignee struct {
	user  *user
	group *roleGroup
	app   *exchangeServicePrincipal
}

// findRoleAssignee looks name up as a recipient, then a role group, then a
// service principal.
func (t *tenant) findRoleAssignee(name string) (roleAssignee, *cmdletError) {
	if name == "" {
		return roleAssignee{}, nil
	}
	if u := t.recipient(name); u != nil {
		return roleAssignee{user: u}, nil
	}
	if g := findRoleGroup(name); g != nil {
		return roleAssignee{group: g}, nil
	}
	if p := t.exchangeSP(name); p != nil {
		return roleAssignee{app: p}, nil
	}
	return roleAssignee{}, notFound(name)
}

// assignmentEntry is an assignment as Get-ManagementRoleAssignment lists it;
// via is the member through whom a role group's assignment is seen.
type assignmentEntry struct {
	a   *exoAssignment
	via *user
}

// assignmentEntries lists the assignee's assignments: a user's own and its
// role groups' (seen through it), a role group's, a service principal's;
// without an assignee every assignment, and with effectiveUsers a role
// group's once per member.
func (t *tenant) assignmentEntries(who roleAssignee, effectiveUsers bool) []assignmentEntry {
	var entries []assignmentEntry
	add := func(a *exoAssignment, via *user) { entries = append(entries, assignmentEntry{a, via}) }
	switch {
	case who.user != nil:
		for _, a := range t.assignmentsOf(who.user) {
			if a.group != "" {
				add(a, who.user)
			} else {
				add(a, nil)
			}
		}
	case who.group != nil:
		for _, a := range t.exchange {
			if a.group == who.group.name {
				add(a, nil)
			}
		}
	case who.app != nil:
		for _, a := range t.appAssignmentsOf(who.app.objectID) {
			add(a, nil)
		}
	default:
		for _, a := range t.exchange {
			if a.group == "" || !effectiveUsers {
				add(a, nil)
				continue
			}
			for _, id := range t.groupMembers[a.group] {
				add(a, t.byID[id])
			}
		}
	}
	return entries
}

// assignmentExists is the error of a role assignment whose name is taken:
// name, or the default name the assignment would have had.
func assignmentExists(name, defaultName string) *cmdletError {
	if name == "" {
		name = defaultName
	}
	return &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
		fmt.Sprintf("The role assignment object '%s' already exists.", name)}
}

// newManagementRoleAssignment is New-ManagementRoleAssignment -Role -User
// [-Name] [-Delegating], or the App parameter set (WIRE §J5, newAppRoleAssignment).
func (s *Server) newManagementRoleAssignment(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	role := in.required("Role")
	if in.err != nil {
		return nil, in.err
	}
	if p.raw("App") != nil {
		return s.newAppRoleAssignment(c, p, role)
	}
	for _, appOnly := range []string{"CustomResourceScope", "RecipientAdministrativeUnitScope", "RecipientGroupScope"} {
		if p.raw(appOnly) != nil {
			in.fail(parameterError("Parameter set cannot be resolved using the specified named parameters: -" + appOnly + " belongs to the App parameter set."))
		}
	}
	userName, name, delegating := in.required("User"), in.text("Name"), in.on("Delegating")
	in.fail(nameTooLong(name))
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	if !isExchangeRole(role) {
		if r := findApplicationRole(role); r != nil {
			return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
				fmt.Sprintf("The role '%s' is an application role; it can only be assigned to a service principal (-App).", r.name)}
		}
		return nil, notFound(role)
	}
	target := t.recipient(userName)
	if target == nil {
		return nil, notFound(userName)
	}
	a, err := t.addExchangeAssignment(target, role, name, c.name(), s.clock())
	if err != nil {
		return nil, assignmentExists(name, assignmentName(canonicalExchangeRole(role), target.alias))
	}
	if delegating {
		a.delegation = "Delegating"
	}
	return []jsonObject{t.assignmentObject(a, nil, false)}, nil
}

// newAppRoleAssignment is the App parameter set of New-ManagementRoleAssignment
// (WIRE §J5): -App takes the pointer's ObjectId (or, as public scripts do,
// the AppId ⚠); the scope is -CustomResourceScope or organization-wide.
// Administrative units and groups are not modelled.
func (s *Server) newAppRoleAssignment(c *caller, p cmdletParameters, role string) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	app := in.required("App")
	if p.raw("User") != nil {
		in.fail(parameterError("Parameter set cannot be resolved using the specified named parameters: -App and -User."))
	}
	for _, unsupported := range []string{"RecipientAdministrativeUnitScope", "RecipientGroupScope"} {
		if p.raw(unsupported) != nil {
			in.fail(parameterError("The emulated tenant does not model administrative units or groups; use -CustomResourceScope instead of -" + unsupported + "."))
		}
	}
	scopeName, name := in.text("CustomResourceScope"), in.text("Name")
	in.fail(nameTooLong(name))
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	canonical, ptr := canonicalAppAssignableRole(role), t.exchangeSP(app)
	switch {
	case canonical == "":
		return nil, notFound(role)
	case ptr == nil:
		return nil, notFound(app)
	}
	if scopeName != "" {
		sc := t.findScope(scopeName)
		if sc == nil {
			return nil, notFound(scopeName)
		}
		scopeName = sc.name
	}
	a, err := t.addAppExchangeAssignment(ptr, canonical, scopeName, name, c.name(), s.clock())
	if err != nil {
		return nil, assignmentExists(name, assignmentName(canonical, ptr.name()))
	}
	return []jsonObject{t.assignmentObject(a, nil, false)}, nil
}

// removeManagementRoleAssignment is Remove-ManagementRoleAssignment -Identity
// -Confirm:$false; success is 200 with an empty value (WIRE §E4 ⚠).
func (s *Server) removeManagementRoleAssignment(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	identity, err := removalIdentity(p)
	if err != nil {
		return nil, err
	}
	t := s.tenant
	a := t.findExchangeAssignment(identity)
	switch {
	case a == nil:
		return nil, notFound(identity)
	case a.spID != "":
		t.removeAppExchangeAssignment(a, s.clock())
	default:
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
	obj = append(obj, guidFields(v.Guid)...)
	return append(obj, whenCreatedFields(v.CreatedAt)...)
}

// managementRoleType is Get-ManagementRole's RoleType: the name without
// spaces, dots and hyphens (⚠ except ApplicationEWSAccessAsApp, WIRE §J4).
func managementRoleType(name string) string {
	if r := findApplicationRole(name); r != nil {
		return r.roleType
	}
	return strings.NewReplacer(" ", "", "-", "", ".", "").Replace(name)
}

// managementRoleNames are the management roles, then the application
// roles; a retired ApplicationImpersonation is absent.
func (t *tenant) managementRoleNames() []string {
	var names []string
	for _, r := range exchangeRoles {
		if r != "ApplicationImpersonation" || !t.org.impersonationRetired {
			names = append(names, r)
		}
	}
	for _, r := range applicationRoles {
		names = append(names, r.name)
	}
	return names
}

// getManagementRole lists management and application roles; Identity may
// hold * wildcards (WIRE §K1: "Application*" shows RBAC for Applications).
func (s *Server) getManagementRole(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity, roleType := in.text("Identity"), in.text("RoleType")
	t := s.tenant
	if err := in.readableBy(t, c, "Get-ManagementRole"); err != nil {
		return nil, err
	}
	objects := []jsonObject{}
	for _, name := range t.managementRoleNames() {
		if identity != "" && !wildcardMatch(strings.ToLower(identity), strings.ToLower(name)) ||
			roleType != "" && !strings.EqualFold(roleType, managementRoleType(name)) {
			continue
		}
		objects = append(objects, append(jsonObject{
			{"Name", name}, {"Identity", name}, {"RoleType", managementRoleType(name)},
			{"IsRootRole", true}, {"IsEndUserRole", false},
		}, guidFields(uuidFor(t, "management-role:"+name))...))
	}
	if len(objects) == 0 && identity != "" && !strings.Contains(identity, "*") {
		return nil, notFound(identity)
	}
	return objects, nil
}
