package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

const (
	exchangeRoutePrefix = "exo"
	exchangeContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	// domainController is the server name Exchange puts in "couldn't be found on '…'".
	domainController = "EMU01A001DC001.EMUPR01A001.PROD.OUTLOOK.COM"
	rateLimit        = 30000
)

// Exchange exception types the cmdlets raise (WIRE §E5).
const (
	exNotFound       = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
	exAlreadyExists  = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAlreadyExistsException"
	exAccessDenied   = "Microsoft.Exchange.Configuration.Tasks.AccessDeniedException" // ⚠ emulator choice
	exParameter      = "System.Management.Automation.ParameterBindingException"
	exCommandMissing = "System.Management.Automation.CommandNotFoundException"
	exValidation     = "Microsoft.Exchange.Data.DataValidationException"
	exTask           = "Microsoft.Exchange.Configuration.Tasks.TaskException" // ⚠ emulator choice where Exchange's type is unknown
)

// cmdletInput is the InvokeCommand body (WIRE §E1).
type cmdletInput struct {
	CmdletInput struct {
		CmdletName string                     `json:"CmdletName"`
		Parameters map[string]json.RawMessage `json:"Parameters"`
	} `json:"CmdletInput"`
}

// exchangeRoute names an InvokeCommand request after its cmdlet, so faults and
// counters can tell Get- from New- and Remove-.
func exchangeRoute(r *http.Request) string {
	data, err := readBody(r)
	var in cmdletInput
	if err != nil || json.Unmarshal(data, &in) != nil || in.CmdletInput.CmdletName == "" {
		return exchangeRoutePrefix + ".InvokeCommand"
	}
	return exchangeRoutePrefix + "." + in.CmdletInput.CmdletName
}

// cmdletError is a failed cmdlet, rendered in the §E5 envelope.
type cmdletError struct {
	status    int
	code      string // error.code: NotFound, BadRequest, Forbidden …
	exception string
	message   string
}

func notFound(object string) *cmdletError {
	return &cmdletError{http.StatusNotFound, "NotFound", exNotFound,
		fmt.Sprintf("The operation couldn't be performed because object '%s' couldn't be found on '%s'.", object, domainController)}
}

func parameterError(message string) *cmdletError {
	return &cmdletError{http.StatusBadRequest, "BadRequest", exParameter, message}
}

// cmdletParameters reads PowerShell-style parameters: names are
// case-insensitive; unknown names fail like PowerShell's parameter binder.
type cmdletParameters map[string]json.RawMessage

func (p cmdletParameters) check(allowed ...string) *cmdletError {
	for name := range p {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) }) {
			return parameterError(fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name))
		}
	}
	return nil
}

func (p cmdletParameters) raw(name string) json.RawMessage {
	for k, v := range p {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func (p cmdletParameters) text(name string) (string, *cmdletError) {
	raw := p.raw(name)
	if raw == nil || string(raw) == "null" {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", parameterError(fmt.Sprintf("Cannot bind parameter '%s'. Cannot convert value %s to type \"System.String\".", name, raw))
	}
	return v, nil
}

// flag reads a switch/bool parameter; nil when absent.
func (p cmdletParameters) flag(name string) (*bool, *cmdletError) {
	raw := p.raw(name)
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, parameterError(fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"System.Boolean\".", name, raw))
	}
	return &v, nil
}

func (p cmdletParameters) required(name string) (string, *cmdletError) {
	v, err := p.text(name)
	if err == nil && v == "" {
		err = parameterError("Cannot process command because of one or more missing mandatory parameters: " + name + ".")
	}
	return v, err
}

// invokeCommand is POST /adminapi/beta/{tenant}/InvokeCommand (WIRE §E1–§E5).
func (s *Server) invokeCommand(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	caller, reason := s.authenticate(r, apiExchange)
	if caller == nil {
		// WIRE §E5: bodies of the admin API's 401 are ⚠; like EWS, headers only.
		w.Header().Set("WWW-Authenticate", exchangeAuthHint)
		w.Header().Set("x-ms-diagnostics", `2000003;reason="`+reason+`";error_category="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !s.tenant.isKnownTenant(r.PathValue("tenant")) {
		s.writeExchangeError(w, &cmdletError{http.StatusNotFound, "NotFound", exNotFound,
			fmt.Sprintf("The tenant '%s' couldn't be found.", r.PathValue("tenant"))})
		return
	}
	data, _ := readBody(r)
	var in cmdletInput
	if err := json.Unmarshal(data, &in); err != nil || in.CmdletInput.CmdletName == "" {
		s.writeExchangeError(w, &cmdletError{http.StatusBadRequest, "BadRequest", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
			"The request body must be {\"CmdletInput\":{\"CmdletName\":…,\"Parameters\":{…}}}."})
		return
	}
	params := cmdletParameters(in.CmdletInput.Parameters)
	name := in.CmdletInput.CmdletName
	if caller.appOnly() && !s.appSessionAllowed(w, r, caller, name) {
		return
	}
	if cerr := s.retiredRoleNamed(params); cerr != nil {
		s.writeExchangeError(w, cerr)
		return
	}
	var (
		objects []jsonObject
		cerr    *cmdletError
	)
	switch {
	case strings.EqualFold(name, "Get-ManagementRoleAssignment"):
		objects, cerr = s.getManagementRoleAssignment(caller, params)
	case strings.EqualFold(name, "New-ManagementRoleAssignment"):
		objects, cerr = s.newManagementRoleAssignment(caller, params)
	case strings.EqualFold(name, "Remove-ManagementRoleAssignment"):
		objects, cerr = s.removeManagementRoleAssignment(caller, params)
	case strings.EqualFold(name, "Get-ManagementRole"):
		objects, cerr = s.getManagementRole(caller, params)
	case strings.EqualFold(name, "Get-OrganizationConfig"):
		objects, cerr = s.getOrganizationConfig(caller, params)
	case strings.EqualFold(name, "Get-CASMailbox"):
		objects, cerr = s.getCASMailbox(caller, params)
	case strings.EqualFold(name, "Test-ServicePrincipalAuthorization"):
		objects, cerr = s.testServicePrincipalAuthorization(caller, params)
	case strings.EqualFold(name, "New-ServicePrincipal"):
		objects, cerr = s.newServicePrincipal(caller, params)
	case strings.EqualFold(name, "Get-ServicePrincipal"):
		objects, cerr = s.getServicePrincipal(caller, params)
	case strings.EqualFold(name, "Remove-ServicePrincipal"):
		objects, cerr = s.removeServicePrincipal(caller, params)
	case strings.EqualFold(name, "New-ManagementScope"):
		objects, cerr = s.newManagementScope(caller, params)
	case strings.EqualFold(name, "Get-ManagementScope"):
		objects, cerr = s.getManagementScope(caller, params)
	case strings.EqualFold(name, "Set-ManagementScope"):
		objects, cerr = s.setManagementScope(caller, params)
	case strings.EqualFold(name, "Remove-ManagementScope"):
		objects, cerr = s.removeManagementScope(caller, params)
	default:
		cerr = &cmdletError{http.StatusBadRequest, "BadRequest", exCommandMissing,
			fmt.Sprintf("The term '%s' is not recognized as a name of a cmdlet, function, script file, or executable program.", name)}
	}
	if cerr != nil {
		s.writeExchangeError(w, cerr)
		return
	}
	s.writeCmdletResult(w, r, caller, objects)
}

// writeCmdletResult pages the objects (Prefer: odata.maxpagesize, nextLink to
// re-POST the same body) and applies $select (WIRE §E2).
func (s *Server) writeCmdletResult(w http.ResponseWriter, r *http.Request, caller *caller, objects []jsonObject) {
	pageSize := s.exchangePageSize
	for _, pref := range strings.Split(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(pref), "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				pageSize = n
				w.Header().Set("Preference-Applied", "odata.maxpagesize="+v)
			}
		}
	}
	offset := 0
	if token := r.URL.Query().Get("$skiptoken"); token != "" {
		raw, _ := base64.RawURLEncoding.DecodeString(token)
		offset, _ = strconv.Atoi(string(raw))
	}
	if selected := r.URL.Query().Get("$select"); selected != "" {
		objects = selectProperties(objects, strings.Split(selected, ","))
	}
	page := []jsonObject{}
	if offset >= 0 && offset < len(objects) {
		page = objects[offset:min(offset+pageSize, len(objects))]
	}
	base := s.url + "/adminapi/beta/" + r.PathValue("tenant")
	body := jsonObject{
		{"@odata.context", base + "/$metadata#Collection(Exchange.GenericHashTable)"},
		{"adminapi.warnings@odata.type", "#Collection(String)"},
		{"@adminapi.warnings", []string{}},
		{"value", page},
	}
	if offset+pageSize < len(objects) {
		next := base + "/InvokeCommand?$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset+pageSize)))
		if selected := r.URL.Query().Get("$select"); selected != "" {
			next += "&$select=" + selected
		}
		body = append(body, jsonField{"@odata.nextLink", next})
	}
	s.exchangeHeaders(w, caller)
	writeJSONType(w, http.StatusOK, exchangeContentType, body)
}

// exchangeHeaders sets request-id and the Rate-Limit-* headers (WIRE §E2).
// Remaining counts this caller's admin API requests since the last counter reset.
func (s *Server) exchangeHeaders(w http.ResponseWriter, caller *caller) {
	used := 0
	if caller != nil {
		for route, users := range s.counters.ByRouteUser {
			if strings.HasPrefix(route, exchangeRoutePrefix+".") {
				used += users[caller.key()]
			}
		}
	}
	h := w.Header()
	h.Set("request-id", uuid.NewString())
	h.Set("Rate-Limit-Limit", strconv.Itoa(rateLimit))
	h.Set("Rate-Limit-Remaining", strconv.Itoa(max(rateLimit-used, 0)))
	h.Set("Rate-Limit-Reset", s.clock().UTC().Truncate(time.Hour).Add(time.Hour).Format("2006-01-02T15:04:05.0000000Z"))
}

func selectProperties(objects []jsonObject, names []string) []jsonObject {
	keep := func(key string) bool {
		prop, _, _ := strings.Cut(key, "@")
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(strings.TrimSpace(n), prop) })
	}
	out := make([]jsonObject, 0, len(objects))
	for _, obj := range objects {
		var sel jsonObject
		for _, f := range obj {
			if keep(f.key) {
				sel = append(sel, f)
			}
		}
		out = append(out, sel)
	}
	return out
}

// mayManageRoleAssignments: New-/Remove-ManagementRoleAssignment need the
// "Role Management" role (Organization Management holds it) or one of the
// directory roles Exchange maps into Organization Management (WIRE §E1).
func (t *tenant) mayManageRoleAssignments(c *caller) bool {
	if c.appOnly() {
		return c.hasTokenDirectoryRole("Global Administrator", "Exchange Administrator")
	}
	u := c.user
	return t.hasDirectoryRole(u, "Global Administrator", "Exchange Administrator") ||
		t.holdsExchangeRole(u, "Role Management", time.Time{}, 0)
}

// mayReadRoleAssignments: reading other recipients' assignments needs an
// Exchange admin right; anyone may read their own.
func (t *tenant) mayReadRoleAssignments(c *caller) bool {
	if c.appOnly() {
		return c.hasTokenDirectoryRole(exchangeAppSessionRoles...)
	}
	u := c.user
	return t.mayManageRoleAssignments(c) || t.hasDirectoryRole(u, "Global Reader") ||
		t.holdsExchangeRole(u, "View-Only Configuration", time.Time{}, 0)
}

func accessDenied(c *caller, cmdlet string) *cmdletError {
	return &cmdletError{http.StatusForbidden, "Forbidden", exAccessDenied,
		fmt.Sprintf("Access is denied. The user '%s' isn't assigned to any management roles that allow running '%s'.", c.name(), cmdlet)}
}

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

// writeExchangeError writes the §E5 envelope: details[].message is
// "<ErrorId>|<ExceptionType>|<text>", repeated in innererror.internalexception.
func (s *Server) writeExchangeError(w http.ResponseWriter, e *cmdletError) {
	s.exchangeHeaders(w, nil)
	errorID := fmt.Sprintf("Ex%06X", crc32.ChecksumIEEE([]byte(e.exception))&0xFFFFFF)
	writeJSONType(w, e.status, "application/json;odata.metadata=minimal;charset=utf-8", jsonObject{{"error", jsonObject{
		{"code", e.code},
		{"message", "Error executing cmdlet"},
		{"details", []jsonObject{{{"code", "Client"}, {"target", ""}, {"message", errorID + "|" + e.exception + "|" + e.message}}}},
		{"innererror", jsonObject{
			{"message", "Error executing cmdlet"},
			{"type", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"},
			{"stacktrace", ""},
			{"internalexception", jsonObject{{"message", e.message}, {"type", e.exception}, {"stacktrace", ""}}},
		}},
	}}})
}

// writeExchangeStatusError is an injected fault's admin API body: the §E5
// envelope; 429 carries the "maximum number of concurrent requests" text
// ExoHelper looks for (⚠ real throttling bodies may be plain text).
func (s *Server) writeExchangeStatusError(w http.ResponseWriter, status int) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", exchangeAuthHint)
		w.WriteHeader(status)
		return
	}
	e := &cmdletError{status, http.StatusText(status), "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "The service is temporarily unavailable. Please try again later."}
	e.code = strings.ReplaceAll(e.code, " ", "")
	if status == http.StatusTooManyRequests {
		e.message = "You have reached the maximum number of concurrent requests per tenant. Please wait and try again."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeExchangeError(w, e)
}
