package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The Exchange admin API's app-only session (WIRE §J1), RBAC for
// Applications (§J2–§J6) and the diagnosis cmdlets (§K1–§K3).

// systemMailboxAnchor is the X-AnchorMailbox local part of app-only calls (WIRE §E1, §J1).
const systemMailboxAnchor = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"

// roleAssigneeTypes are Get-ManagementRoleAssignment -RoleAssigneeType's
// values; ServicePrincipal is not one of them (WIRE §J5).
var roleAssigneeTypes = []string{"User", "SecurityGroup", "RoleGroup", "RoleAssignmentPolicy",
	"ForeignSecurityPrincipal", "LinkedRoleGroup", "Computer", "MailboxPlan", "Partner", "PartnerLinkedRoleGroup"}

// manageCmdlets change RBAC; an app-only session needs Exchange or Global
// Administrator for them (reading roles only read).
func isManageCmdlet(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "new-") || strings.HasPrefix(lower, "remove-") || strings.HasPrefix(lower, "set-") || strings.HasPrefix(lower, "add-")
}

// appSessionAllowed is the gate of an app-only admin API call (WIRE §J1): the
// anchor must be the system mailbox, the token must carry Exchange.ManageAsApp
// and a directory role Exchange supports for app-only sessions, and a
// read-only role only reads. Refusals are 401 Unauthorized (the wire form of
// the "role isn't supported" error is ⚠). Needs s.mu.
func (s *Server) appSessionAllowed(w http.ResponseWriter, r *http.Request, c *caller, cmdlet string) bool {
	if !s.isSystemMailboxAnchor(r.Header.Get("X-AnchorMailbox")) {
		s.writeExchangeError(w, &cmdletError{http.StatusBadRequest, "BadRequest", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
			"An app-only request must be routed with X-AnchorMailbox: APP:" + systemMailboxAnchor + "@" + s.seed.Domains[0] + "."})
		return false
	}
	switch {
	case !c.hasRole("Exchange.ManageAsApp"):
		s.writeExchangeUnauthorized(w, c, fmt.Sprintf("The application '%s' has no Exchange.ManageAsApp permission in its token.", c.sp.appID))
	case !c.hasTokenDirectoryRole(exchangeAppSessionRoles...):
		s.writeExchangeUnauthorized(w, c, fmt.Sprintf("The role assigned to application %s isn't supported in this scenario. Please check online documentation for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication.", c.sp.appID))
	case isManageCmdlet(cmdlet) && !c.hasTokenDirectoryRole("Global Administrator", "Exchange Administrator"):
		s.writeExchangeUnauthorized(w, c, "User is not allowed to call "+cmdlet)
	default:
		return true
	}
	return false
}

// isSystemMailboxAnchor accepts APP:SystemMailbox{…}@<tenant GUID or a
// verified domain>, and the UPN: form seen in public code (WIRE §E1).
func (s *Server) isSystemMailboxAnchor(anchor string) bool {
	kind, address, ok := strings.Cut(strings.TrimSpace(anchor), ":")
	if !ok || (!strings.EqualFold(kind, "APP") && !strings.EqualFold(kind, "UPN")) {
		return false
	}
	local, domain, ok := strings.Cut(address, "@")
	return ok && strings.EqualFold(local, systemMailboxAnchor) && s.tenant.isKnownTenant(domain)
}

// writeExchangeUnauthorized is the 401 of WIRE §J1 (no details array).
func (s *Server) writeExchangeUnauthorized(w http.ResponseWriter, c *caller, message string) {
	s.exchangeHeaders(w, c)
	writeJSONType(w, http.StatusUnauthorized, "application/json;odata.metadata=minimal;charset=utf-8", jsonObject{{"error", jsonObject{
		{"code", "Unauthorized"}, {"message", message},
		{"innererror", jsonObject{{"message", message}, {"type", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}},
	}}})
}

// retiredRoleNamed: once ApplicationImpersonation is retired, any cmdlet
// that names it fails as Exchange fails for an object that does not exist
// (WIRE §K1, emulator choice of the envelope). Needs s.mu.
func (s *Server) retiredRoleNamed(p cmdletParameters) *cmdletError {
	if !s.tenant.org.impersonationRetired {
		return nil
	}
	for name := range p {
		if v, err := p.text(name); err == nil && strings.EqualFold(strings.TrimSpace(v), "ApplicationImpersonation") {
			return notFound("ApplicationImpersonation")
		}
	}
	return nil
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

// uuidFor derives a stable GUID for an object the emulator does not store.
func uuidFor(t *tenant, name string) string {
	return uuid.NewSHA1(t.namespace, []byte(name)).String()
}

// ewsNullable renders an EwsEnabled-like switch: null when not configured.
func ewsNullable(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// getOrganizationConfig answers the organization's EWS switches (WIRE §K2).
// EwsAllowedAppIDs is only returned with -RetrieveEwsOperationAccessPolicy
// (⚠ emulator choice: a client that wants the list must ask for it), as a
// comma-separated string like Set-OrganizationConfig takes (⚠).
func (s *Server) getOrganizationConfig(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "RetrieveEwsOperationAccessPolicy"); err != nil {
		return nil, err
	}
	retrieve, err := p.flag("RetrieveEwsOperationAccessPolicy")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Get-OrganizationConfig")
	}
	o := t.org
	obj := jsonObject{
		{"Name", s.seed.Domains[0]}, {"Identity", s.seed.Domains[0]}, {"DisplayName", s.seed.DisplayName},
		{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", s.seed.TenantID},
		{"EwsEnabled", ewsNullable(o.ewsEnabled)},
		{"EwsApplicationAccessPolicy", nil},
		{"EwsAllowList@odata.type", "#Collection(String)"}, {"EwsAllowList", nil},
		{"EwsBlockList@odata.type", "#Collection(String)"}, {"EwsBlockList", nil},
		{"EwsAllowOutlook", nil}, {"EwsAllowMacOutlook", nil}, {"EwsAllowEntourage", nil},
	}
	if retrieve != nil && *retrieve {
		var ids any
		if o.allowedAppIDs != nil {
			ids = strings.Join(o.allowedAppIDs, ",")
		}
		obj = append(obj, jsonField{"EwsAllowedAppIDs", ids})
	}
	return []jsonObject{obj}, nil
}

// mayReadRecipients: Get-CASMailbox on others needs a recipient or admin
// role; anyone may read their own mailbox.
func (t *tenant) mayReadRecipients(c *caller, target *user) bool {
	if c.appOnly() {
		return c.hasTokenDirectoryRole(exchangeAppSessionRoles...)
	}
	return target == c.user || t.mayReadRoleAssignments(c) ||
		t.holdsExchangeRole(c.user, "View-Only Recipients", time.Time{}, 0) || t.holdsExchangeRole(c.user, "Mail Recipients", time.Time{}, 0)
}

// getCASMailbox answers a mailbox's EWS switch (WIRE §K3); EwsEnabled is null
// until configured, which means allowed. Without Identity it lists every
// mailbox; users without one are not CAS mailboxes.
func (s *Server) getCASMailbox(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "ResultSize"); err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	var targets []*user
	if identity != "" {
		u := t.recipient(identity)
		if u == nil || !u.mailbox {
			if !t.mayReadRecipients(c, nil) {
				return nil, accessDenied(c, "Get-CASMailbox")
			}
			return nil, notFound(identity)
		}
		targets = []*user{u}
	} else {
		for _, u := range t.users {
			if u.mailbox {
				targets = append(targets, u)
			}
		}
	}
	objects := []jsonObject{}
	for _, u := range targets {
		if !t.mayReadRecipients(c, u) {
			if identity != "" {
				return nil, accessDenied(c, "Get-CASMailbox")
			}
			continue
		}
		objects = append(objects, jsonObject{
			{"Name", u.alias}, {"Identity", u.alias}, {"PrimarySmtpAddress", t.mail(u)},
			{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", uuidFor(t, "mailbox:"+u.oid)},
			{"EwsEnabled", ewsNullable(u.ewsEnabled)},
			{"EwsApplicationAccessPolicy", nil},
			{"EwsAllowList@odata.type", "#Collection(String)"}, {"EwsAllowList", nil},
			{"EwsBlockList@odata.type", "#Collection(String)"}, {"EwsBlockList", nil},
			{"EwsAllowOutlook", nil}, {"EwsAllowMacOutlook", nil}, {"EwsAllowEntourage", nil},
		})
	}
	return objects, nil
}

// testServicePrincipalAuthorization lists the service principal's
// application role assignments and, with -Resource, whether each covers
// that mailbox (WIRE §J6). It reads the assignments as they are now: the
// RBAC cache does not apply to it (§J7.2).
func (s *Server) testServicePrincipalAuthorization(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "Resource", "Organization"); err != nil {
		return nil, err
	}
	identity, err := p.required("Identity")
	if err != nil {
		return nil, err
	}
	resource, err := p.text("Resource")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Test-ServicePrincipalAuthorization")
	}
	sp := t.exchangeSP(identity)
	if sp == nil {
		return nil, notFound(identity)
	}
	var mailbox *user
	if resource != "" {
		if mailbox = t.recipient(resource); mailbox == nil {
			return nil, notFound(resource)
		}
	}
	objects := []jsonObject{}
	for _, a := range t.appAssignmentsOf(sp.objectID) {
		permissions := []string{}
		if r := findApplicationRole(a.role); r != nil {
			permissions = r.permissions
		}
		scope, scopeType := "Organization", "Organization"
		if a.scope != "" {
			scope, scopeType = a.scope, "CustomRecipientScope"
		}
		var inScope any = "Not Run"
		if mailbox != nil {
			inScope = t.scopeContains(a.scope, mailbox)
		}
		objects = append(objects, jsonObject{
			{"RoleName", a.role}, {"GrantedPermissions", strings.Join(permissions, ", ")},
			{"AllowedResourceScope", scope}, {"ScopeType", scopeType}, {"InScope", inScope},
		})
	}
	return objects, nil
}

// servicePrincipalObject is Exchange's bag for a pointer (WIRE §J2; keys
// beyond DisplayName/AppId/ObjectId/Identity are ⚠).
func servicePrincipalObject(p *exchangeServicePrincipal) jsonObject {
	return jsonObject{{"Identity", p.objectID}, {"Name", p.name()}, {"DisplayName", p.displayName},
		{"AppId", p.appID}, {"ObjectId", p.objectID}}
}

// newServicePrincipal is New-ServicePrincipal -AppId -ObjectId [-DisplayName]
// (WIRE §J2). ObjectId must be the Entra service principal's id (not the
// application's object id) and belong to AppId. ServiceId is the deprecated
// name of ObjectId. A second pointer for the same app fails (exception ⚠).
func (s *Server) newServicePrincipal(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("AppId", "ObjectId", "ServiceId", "DisplayName", "Organization", "Confirm"); err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayManageRoleAssignments(c) {
		return nil, accessDenied(c, "New-ServicePrincipal")
	}
	appID, err := p.required("AppId")
	if err != nil {
		return nil, err
	}
	objectID, err := p.text("ObjectId")
	if err != nil {
		return nil, err
	}
	if objectID == "" {
		if objectID, err = p.text("ServiceId"); err != nil {
			return nil, err
		}
	}
	if objectID == "" {
		return nil, parameterError("Cannot process command because of one or more missing mandatory parameters: ObjectId.")
	}
	displayName, err := p.text("DisplayName")
	if err != nil {
		return nil, err
	}
	sp := t.spByID(objectID)
	switch {
	case sp == nil || sp.app == nil:
		return nil, notFound(objectID)
	case !strings.EqualFold(sp.appID, appID):
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
			fmt.Sprintf("The service principal '%s' belongs to application '%s', not '%s'.", objectID, sp.appID, appID)}
	case t.exchangeSPByObjectID(sp.id) != nil || t.exchangeSP(sp.appID) != nil:
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The service principal '%s' already exists.", sp.id)}
	}
	if displayName == "" {
		displayName = sp.displayName
	}
	ptr := &exchangeServicePrincipal{objectID: sp.id, appID: sp.appID, displayName: displayName, createdAt: s.clock().UTC()}
	t.exchangeSPs = append(t.exchangeSPs, ptr)
	return []jsonObject{servicePrincipalObject(ptr)}, nil
}

// getServicePrincipal: as Microsoft warns, a null or unknown Identity returns
// every pointer (WIRE §J2), so a client must filter by AppId itself.
func (s *Server) getServicePrincipal(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "Organization", "ResultSize"); err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Get-ServicePrincipal")
	}
	objects := []jsonObject{}
	if ptr := t.exchangeSP(identity); identity != "" && ptr != nil {
		return append(objects, servicePrincipalObject(ptr)), nil
	}
	for _, ptr := range t.exchangeSPs {
		objects = append(objects, servicePrincipalObject(ptr))
	}
	return objects, nil
}

// removeServicePrincipal is Remove-ServicePrincipal -Identity -Confirm:$false:
// 200 with an empty value (⚠). A pointer that still has role assignments is
// refused (⚠ emulator choice: remove the assignments first).
func (s *Server) removeServicePrincipal(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	t := s.tenant
	identity, err := t.removalIdentity(c, p, "Remove-ServicePrincipal", "Identity", "Confirm", "Organization")
	if err != nil {
		return nil, err
	}
	ptr := t.exchangeSP(identity)
	if ptr == nil {
		return nil, notFound(identity)
	}
	if n := len(t.appAssignmentsOf(ptr.objectID)); n > 0 {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
			fmt.Sprintf("The service principal '%s' still has %d management role assignment(s). Remove them first.", ptr.objectID, n)}
	}
	t.exchangeSPs = slices.DeleteFunc(t.exchangeSPs, func(x *exchangeServicePrincipal) bool { return x == ptr })
	return []jsonObject{}, nil
}

// scopeObject is the bag of WIRE §J3 (Identity and Guid are ⚠).
func scopeObject(sc *managementScope) jsonObject {
	return jsonObject{{"Name", sc.name}, {"Identity", sc.name}, {"ScopeRestrictionType", "RecipientScope"},
		{"Exclusive", false}, {"RecipientRoot", nil}, {"RecipientFilter", sc.filter},
		{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", sc.guid},
		{"WhenCreatedUTC@data.type", "System.DateTime"}, {"WhenCreatedUTC", sc.createdAt.UTC().Format("2006-01-02T15:04:05.0000000+00:00")}}
}

func nameTooLong(name string) *cmdletError {
	if n := len([]rune(name)); n > 64 {
		return &cmdletError{http.StatusBadRequest, "BadRequest", exValidation,
			fmt.Sprintf("The length of the property is too long. The maximum length is 64 and the length of the value provided is %d.", n)}
	}
	return nil
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

// removalIdentity is how a Remove-* cmdlet of RBAC for Applications starts: only the allowed
// parameters, a caller who may manage role assignments, an -Identity, and -Confirm as a
// flag. It returns the identity.
func (t *tenant) removalIdentity(c *caller, p cmdletParameters, cmdlet string, allowed ...string) (string, *cmdletError) {
	if err := p.check(allowed...); err != nil {
		return "", err
	}
	if !t.mayManageRoleAssignments(c) {
		return "", accessDenied(c, cmdlet)
	}
	identity, err := p.required("Identity")
	if err != nil {
		return "", err
	}
	if _, err := p.flag("Confirm"); err != nil {
		return "", err
	}
	return identity, nil
}
