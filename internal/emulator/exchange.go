package emulator

import (
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

// The Exchange Online admin API (WIRE §E1–§E5): the InvokeCommand route,
// the cmdlets' parameters, rights and errors, paging, and the gate of an
// app-only session (§J1). The cmdlets live in exchange_*.go.

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

// cmdletOf reads an InvokeCommand body: the cmdlet's name and parameters.
func cmdletOf(data []byte) (name string, params cmdletParameters, ok bool) {
	var in cmdletInput
	if json.Unmarshal(data, &in) != nil || in.CmdletInput.CmdletName == "" {
		return "", nil, false
	}
	return in.CmdletInput.CmdletName, in.CmdletInput.Parameters, true
}

// exchangeRoute names an InvokeCommand request after its cmdlet, so faults and
// counters can tell Get- from New- and Remove-.
func exchangeRoute(r *http.Request) string {
	data, err := readBody(r)
	name, _, ok := cmdletOf(data)
	if err != nil || !ok {
		return exchangeRoutePrefix + ".InvokeCommand"
	}
	return exchangeRoutePrefix + "." + name
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

func accessDenied(c *caller, cmdlet string) *cmdletError {
	return &cmdletError{http.StatusForbidden, "Forbidden", exAccessDenied,
		fmt.Sprintf("Access is denied. The user '%s' isn't assigned to any management roles that allow running '%s'.", c.name(), cmdlet)}
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

// binder binds a cmdlet's parameters one after another, as PowerShell's
// parameter binder does: the first that fails is the cmdlet's error (err),
// and whatever is bound after it reads as absent. A cmdlet binds what it
// needs, then checks err once.
type binder struct {
	p   cmdletParameters
	err *cmdletError
}

// fail records err unless an earlier one is recorded (nil is no error).
func (b *binder) fail(err *cmdletError) {
	if b.err == nil {
		b.err = err
	}
}

func bind[T any](b *binder, read func(string) (T, *cmdletError), name string) T {
	var v T
	if b.err == nil {
		v, b.err = read(name)
	}
	return v
}

func (b *binder) text(name string) string     { return bind(b, b.p.text, name) }
func (b *binder) required(name string) string { return bind(b, b.p.required, name) }
func (b *binder) flag(name string) *bool      { return bind(b, b.p.flag, name) }

// on is a switch parameter: given and true.
func (b *binder) on(name string) bool {
	v := b.flag(name)
	return v != nil && *v
}

// readableBy is what a cmdlet that reads RBAC checks once its parameters are
// bound: their error, else whether the caller may read role assignments.
func (b *binder) readableBy(t *tenant, c *caller, cmdlet string) *cmdletError {
	if b.err == nil && !t.mayReadRoleAssignments(c) {
		b.fail(accessDenied(c, cmdlet))
	}
	return b.err
}

// nonEmptyIfGiven is an optional text parameter that, given, must not be empty.
func (b *binder) nonEmptyIfGiven(name string) string {
	v := b.text(name)
	if b.err == nil && b.p.raw(name) != nil && strings.TrimSpace(v) == "" {
		b.fail(parameterError(fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.", name)))
	}
	return v
}

func nameTooLong(name string) *cmdletError {
	if n := len([]rune(name)); n > 64 {
		return &cmdletError{http.StatusBadRequest, "BadRequest", exValidation,
			fmt.Sprintf("The length of the property is too long. The maximum length is 64 and the length of the value provided is %d.", n)}
	}
	return nil
}

// removalIdentity binds what a Remove-* cmdlet takes: -Identity and
// -Confirm:$false.
func removalIdentity(p cmdletParameters) (string, *cmdletError) {
	in := binder{p: p}
	identity := in.required("Identity")
	in.flag("Confirm")
	return identity, in.err
}

// guidFields are an object's Guid with its type annotations.
func guidFields(guid string) jsonObject {
	return jsonObject{{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", guid}}
}

// whenCreatedFields are an object's WhenCreatedUTC with its type annotation.
func whenCreatedFields(t time.Time) jsonObject {
	return jsonObject{{"WhenCreatedUTC@data.type", "System.DateTime"}, {"WhenCreatedUTC", t.UTC().Format("2006-01-02T15:04:05.0000000+00:00")}}
}

// cmdlet is one entry of InvokeCommand's dispatch table.
type cmdlet struct {
	name   string
	params []string // the parameters it binds; any other fails
	// manages: it changes RBAC, so the caller must be allowed to manage
	// role assignments (mayManageRoleAssignments; WIRE §E1, §J1). Reading
	// cmdlets check their own rights, after binding their parameters.
	manages bool
	run     func(s *Server, c *caller, p cmdletParameters) ([]jsonObject, *cmdletError)
}

// cmdlets are the cmdlets the emulated admin API runs (WIRE §E3, §E4, §J2–§J6, §K1–§K3).
var cmdlets = []cmdlet{
	{"Get-ManagementRoleAssignment", []string{"RoleAssignee", "Role", "Delegating", "Identity", "GetEffectiveUsers", "Enabled", "ResultSize", "RoleAssigneeType"},
		false, (*Server).getManagementRoleAssignment},
	{"New-ManagementRoleAssignment", []string{"Role", "User", "App", "CustomResourceScope", "RecipientAdministrativeUnitScope", "RecipientGroupScope", "Name", "Delegating", "Confirm", "Force"},
		true, (*Server).newManagementRoleAssignment},
	{"Remove-ManagementRoleAssignment", []string{"Identity", "Confirm"}, true, (*Server).removeManagementRoleAssignment},
	{"Get-ManagementRole", []string{"Identity", "RoleType", "ResultSize"}, false, (*Server).getManagementRole},
	{"Get-OrganizationConfig", []string{"Identity", "RetrieveEwsOperationAccessPolicy"}, false, (*Server).getOrganizationConfig},
	{"Get-CASMailbox", []string{"Identity", "ResultSize"}, false, (*Server).getCASMailbox},
	{"Test-ServicePrincipalAuthorization", []string{"Identity", "Resource", "Organization"}, false, (*Server).testServicePrincipalAuthorization},
	{"New-ServicePrincipal", []string{"AppId", "ObjectId", "ServiceId", "DisplayName", "Organization", "Confirm"}, true, (*Server).newServicePrincipal},
	{"Get-ServicePrincipal", []string{"Identity", "Organization", "ResultSize"}, false, (*Server).getServicePrincipal},
	{"Remove-ServicePrincipal", []string{"Identity", "Confirm", "Organization"}, true, (*Server).removeServicePrincipal},
	{"New-ManagementScope", []string{"Name", "RecipientRestrictionFilter", "RecipientRoot", "Confirm", "Force"}, true, (*Server).newManagementScope},
	{"Get-ManagementScope", []string{"Identity", "Exclusive", "ResultSize"}, false, (*Server).getManagementScope},
	{"Set-ManagementScope", []string{"Identity", "RecipientRestrictionFilter", "Name", "RecipientRoot", "Confirm", "Force"}, true, (*Server).setManagementScope},
	{"Remove-ManagementScope", []string{"Identity", "Confirm", "Force"}, true, (*Server).removeManagementScope},
}

// cmdletRouteNames are the route names of the cmdlets (exo.<cmdlet>).
func cmdletRouteNames() []string {
	var names []string
	for _, c := range cmdlets {
		names = append(names, exchangeRoutePrefix+"."+c.name)
	}
	return names
}

// exchangeAuth authenticates an admin API request (token with the Exchange
// audience) and writes the 401 when it fails. Needs s.mu.
func (s *Server) exchangeAuth(w http.ResponseWriter, r *http.Request) *caller {
	c, reason := s.authenticate(r, apiExchange)
	if c == nil {
		// WIRE §E5: bodies of the admin API's 401 are ⚠; like EWS, headers only.
		w.Header().Set("WWW-Authenticate", exchangeAuthHint)
		w.Header().Set("x-ms-diagnostics", `2000003;reason="`+reason+`";error_category="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	return c
}

// invokeCommand is POST /adminapi/beta/{tenant}/InvokeCommand (WIRE §E1–§E5).
func (s *Server) invokeCommand(q *call) {
	w, r, caller := q.w, q.r, q.c
	if !s.tenant.isKnownTenant(r.PathValue("tenant")) {
		s.writeExchangeError(w, &cmdletError{http.StatusNotFound, "NotFound", exNotFound,
			fmt.Sprintf("The tenant '%s' couldn't be found.", r.PathValue("tenant"))})
		return
	}
	data, _ := readBody(r)
	name, params, ok := cmdletOf(data)
	if !ok {
		s.writeExchangeError(w, &cmdletError{http.StatusBadRequest, "BadRequest", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
			"The request body must be {\"CmdletInput\":{\"CmdletName\":…,\"Parameters\":{…}}}."})
		return
	}
	if caller.appOnly() && !s.appSessionAllowed(w, r, caller, name) {
		return
	}
	objects, cerr := s.runCmdlet(caller, name, params)
	if cerr != nil {
		s.writeExchangeError(w, cerr)
		return
	}
	s.writeCmdletResult(w, r, caller, objects)
}

// runCmdlet runs the named cmdlet (any case) from the dispatch table: a
// retired role named anywhere fails first, then an unknown cmdlet, an
// unknown parameter and, for a cmdlet that changes RBAC, a caller without
// the right to. Needs s.mu.
func (s *Server) runCmdlet(c *caller, name string, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := s.retiredRoleNamed(p); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cmdlets, func(x cmdlet) bool { return strings.EqualFold(x.name, name) })
	if i < 0 {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exCommandMissing,
			fmt.Sprintf("The term '%s' is not recognized as a name of a cmdlet, function, script file, or executable program.", name)}
	}
	cmd := cmdlets[i]
	if err := p.check(cmd.params...); err != nil {
		return nil, err
	}
	if cmd.manages && !s.tenant.mayManageRoleAssignments(c) {
		return nil, accessDenied(c, cmd.name)
	}
	return cmd.run(s, c, p)
}

// systemMailboxAnchor is the X-AnchorMailbox local part of app-only calls (WIRE §E1, §J1).
const systemMailboxAnchor = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"

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
	offset, _ := pageOffset(r.URL.Query().Get("$skiptoken")) // a token not of ours reads as far as it goes
	if selected := r.URL.Query().Get("$select"); selected != "" {
		objects = selectProperties(objects, strings.Split(selected, ","))
	}
	page, next := pageAt(objects, offset, pageSize)
	base := s.url + "/adminapi/beta/" + r.PathValue("tenant")
	body := jsonObject{
		{"@odata.context", base + "/$metadata#Collection(Exchange.GenericHashTable)"},
		{"adminapi.warnings@odata.type", "#Collection(String)"},
		{"@adminapi.warnings", []string{}},
		{"value", page},
	}
	if next != "" {
		link := base + "/InvokeCommand?$skiptoken=" + next
		if selected := r.URL.Query().Get("$select"); selected != "" {
			link += "&$select=" + selected
		}
		body = append(body, jsonField{"@odata.nextLink", link})
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

// uuidFor derives a stable GUID for an object the emulator does not store.
func uuidFor(t *tenant, name string) string {
	return uuid.NewSHA1(t.namespace, []byte(name)).String()
}
