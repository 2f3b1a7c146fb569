package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// What every Graph route shares (WIRE §C0): authentication and the app-only
// permission check, headers and the OData error envelope, $select, $filter,
// paging, request bodies and the appId alternate key.

const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// graphAuth authenticates a Graph request (token with a Graph audience) and
// writes the 401 when it fails: the authFunc of every Graph route. Needs s.mu.
func (s *Server) graphAuth(w http.ResponseWriter, r *http.Request) *caller {
	u, reason := s.authenticate(r, apiGraph)
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://`+clouds[s.seed.Cloud].loginHost+`/common/oauth2/authorize", client_id="`+graphAppID+`"`)
		s.writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", reason)
	}
	return u
}

// graph is a Graph route: the route wrapper with Graph's authentication,
// then allowed (nil: every authenticated caller) decides whether the caller
// may use the route at all; a refusal is Graph's 403.
func (s *Server) graph(allowed func(*tenant, *caller) bool, h func(*call)) http.HandlerFunc {
	return s.route((*Server).graphAuth, func(q *call) {
		if allowed != nil && !allowed(s.tenant, q.c) {
			q.graphDenied()
			return
		}
		h(q)
	})
}

// readsWith lets delegated callers through, and app-only callers that hold
// one of the application permissions (WIRE §C0, §I5: missing consent is not
// a token error, the resource refuses).
func readsWith(permissions ...string) func(*tenant, *caller) bool {
	return func(_ *tenant, c *caller) bool { return !c.appOnly() || c.hasRole(permissions...) }
}

// graphAllows is readsWith for a handler that checks it itself, after
// checks of its own; false when it has written the 403.
func (q *call) graphAllows(permissions ...string) bool {
	if readsWith(permissions...)(q.s.tenant, q.c) {
		return true
	}
	q.graphDenied()
	return false
}

// graphDenied writes the 403 of WIRE §C0.
func (q *call) graphDenied() {
	q.graphError(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

const graphTime = "2006-01-02T15:04:05Z"

// meAppOnly is Graph's answer to /me with an app-only token (WIRE §I12).
const meAppOnly = "/me request is only valid with delegated authentication flow."

// graphSelect parses $select against the allowed properties; nil when absent.
func (q *call) graphSelect(allowed []string, typeName string) ([]string, bool) {
	raw := q.r.URL.Query().Get("$select")
	if raw == "" {
		return nil, true
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, p) })
		if i < 0 {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.%s'.", p, typeName))
			return nil, false
		}
		out = append(out, allowed[i])
	}
	return out, true
}

// selectObject keeps the selected properties of obj (always in obj's order).
func selectObject(obj jsonObject, selected []string) jsonObject {
	if selected == nil {
		return obj
	}
	out := jsonObject{}
	for _, f := range obj {
		if slices.Contains(selected, f.key) {
			out = append(out, f)
		}
	}
	return out
}

// selectContext is the @odata.context of the collection set, or of one of its members when
// entity: the selected properties in parentheses after the set, then /$entity for a member.
func (s *Server) selectContext(set string, selected []string, entity bool) string {
	context := s.url + "/v1.0/$metadata#" + set
	if selected != nil {
		context += "(" + strings.Join(selected, ",") + ")"
	}
	if entity {
		context += "/$entity"
	}
	return context
}

// graphBody decodes a JSON body into into, rejecting properties the type
// does not have; known ones the emulator does not model are accepted and
// ignored. False when it has written the error.
func (q *call) graphBody(typeName string, known []string, into any) bool {
	data, _ := readBody(q.r)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "Invalid request body: a JSON object is expected.")
		return false
	}
	for k := range raw {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if !slices.Contains(known, k) {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Property '%s' does not exist on type 'microsoft.graph.%s'.", k, typeName))
			return false
		}
	}
	if err := json.Unmarshal(data, into); err != nil {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "Invalid request body: "+err.Error())
		return false
	}
	return true
}

// writeGraphPage answers a collection a page at a time: $top (1 to 999,
// default graphPageSize) objects from the $skiptoken's offset, and an
// @odata.nextLink that repeats the query with the next page's $skiptoken
// (WIRE §C0).
func (q *call) writeGraphPage(context string, objects []jsonObject) {
	query := q.r.URL.Query()
	pageSize := q.s.graphPageSize
	if top := query.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 1 || n > 999 {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", top))
			return
		}
		pageSize = n
	}
	offset, err := pageOffset(query.Get("$skiptoken"))
	if err != nil || offset < 0 {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired and can no longer be included in your request.")
		return
	}
	page, next := pageAt(objects, offset, pageSize)
	body := jsonObject{{"@odata.context", context}, {"value", page}}
	if next != "" {
		query.Set("$skiptoken", next)
		body = append(body, jsonField{"@odata.nextLink", q.s.url + q.r.URL.Path + "?" + strings.ReplaceAll(query.Encode(), "%24", "$")})
	}
	q.writeGraph(http.StatusOK, body)
}

// graphFilter is the `prop eq 'value' [and prop eq 'value']` subset of OData
// $filter the provider uses.
type graphFilter map[string]string

func (f graphFilter) matches(values map[string]string) bool {
	for k, v := range f {
		if !strings.EqualFold(values[k], v) {
			return false
		}
	}
	return true
}

func (q *call) graphFilter(properties ...string) (graphFilter, bool) {
	filter := graphFilter{}
	for _, clause := range q.filterClauses() {
		prop, value, ok := strings.Cut(strings.TrimSpace(clause), " eq ")
		p, okProp := knownProperty(properties, prop)
		v, okValue := odataString(value)
		if !ok || !okProp || !okValue {
			q.unsupportedFilter(clause)
			return nil, false
		}
		filter[p] = v
	}
	return filter, true
}

// directoryFilter is the $filter subset Graph documents for applications and
// service principals that a client uses to find its own object again: `prop
// eq 'v'`, `startswith(prop,'v')` and `collection/any(x:x eq 'v')`, joined by
// `and`. Values compare case-insensitively.
type directoryFilter []func(values map[string]any) bool

func (f directoryFilter) matches(values map[string]any) bool {
	for _, clause := range f {
		if !clause(values) {
			return false
		}
	}
	return true
}

// directoryFilter reads $filter with eq on the eq properties, startswith on
// the startsWith ones and any() on the collections.
func (q *call) directoryFilter(eq, startsWith, collections []string) (directoryFilter, bool) {
	filter := directoryFilter{}
	for _, clause := range q.filterClauses() {
		clause = strings.TrimSpace(clause)
		fn := directoryClause(clause, eq, startsWith, collections)
		if fn == nil {
			q.unsupportedFilter(clause)
			return nil, false
		}
		filter = append(filter, fn)
	}
	return filter, true
}

// directoryClause is one clause of a directoryFilter; nil when it is not
// one the filter supports.
func directoryClause(clause string, eq, startsWith, collections []string) func(map[string]any) bool {
	switch lower := strings.ToLower(clause); {
	case strings.HasPrefix(lower, "startswith(") && strings.HasSuffix(clause, ")"):
		prop, value, ok := strings.Cut(clause[len("startswith("):len(clause)-1], ",")
		p, okProp := knownProperty(startsWith, prop)
		v, okValue := odataString(value)
		if ok && okProp && okValue {
			return func(values map[string]any) bool {
				s, _ := values[p].(string)
				return strings.HasPrefix(strings.ToLower(s), strings.ToLower(v))
			}
		}
	case strings.Contains(clause, "/any(") && strings.HasSuffix(clause, ")"):
		coll, inner, _ := strings.Cut(clause, "/any(")
		variable, cond, ok := strings.Cut(inner[:len(inner)-1], ":")
		lhs, value, okEq := strings.Cut(cond, " eq ")
		p, okProp := knownProperty(collections, coll)
		v, okValue := odataString(value)
		if ok && okEq && okProp && okValue && strings.TrimSpace(lhs) == strings.TrimSpace(variable) {
			return func(values map[string]any) bool {
				list, _ := values[p].([]string)
				return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
			}
		}
	default:
		prop, value, ok := strings.Cut(clause, " eq ")
		p, okProp := knownProperty(eq, prop)
		v, okValue := odataString(value)
		if ok && okProp && okValue {
			return func(values map[string]any) bool {
				s, _ := values[p].(string)
				return strings.EqualFold(s, v)
			}
		}
	}
	return nil
}

// filterClauses splits $filter at its "and"s; none when it is absent.
func (q *call) filterClauses() []string {
	raw := strings.TrimSpace(q.r.URL.Query().Get("$filter"))
	if raw == "" {
		return nil
	}
	return splitFold(raw, " and ")
}

func (q *call) unsupportedFilter(clause string) {
	q.graphError(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported or invalid query filter clause specified: '%s'.", clause))
}

// knownProperty is name as list spells it (names compare ignoring case and
// surrounding blanks).
func knownProperty(list []string, name string) (string, bool) {
	i := slices.IndexFunc(list, func(p string) bool { return strings.EqualFold(p, strings.TrimSpace(name)) })
	if i < 0 {
		return "", false
	}
	return list[i], true
}

// odataString reads an OData string literal: single quotes around it, a
// quote inside doubled.
func odataString(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), true
}

// splitFold splits s around sep, ignoring case.
func splitFold(s, sep string) []string {
	var parts []string
	lower, lsep := strings.ToLower(s), strings.ToLower(sep)
	for {
		i := strings.Index(lower, lsep)
		if i < 0 {
			return append(parts, s)
		}
		parts = append(parts, s[:i])
		s, lower = s[i+len(sep):], lower[i+len(sep):]
	}
}

// rewriteAlternateKey turns /applications(appId='…')/… and
// /servicePrincipals(appId='…')/… (WIRE §I10) into the object-id path the
// routes know; an unknown app id keeps the key, so the handler answers 404.
func (s *Server) rewriteAlternateKey(r *http.Request) {
	for _, collection := range []string{"applications", "servicePrincipals"} {
		prefix := "/v1.0/" + collection + "(appId='"
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			continue
		}
		appID, tail, ok := strings.Cut(rest, "')")
		if !ok {
			return
		}
		key := "appId='" + appID + "'"
		s.mu.Lock()
		if collection == "applications" {
			if a := s.tenant.appByAppID(appID); a != nil {
				key = a.objectID
			}
		} else if sp := s.tenant.spByAppID(appID); sp != nil {
			key = sp.id
		}
		s.mu.Unlock()
		r.URL.Path, r.URL.RawPath = "/v1.0/"+collection+"/"+key+tail, ""
		return
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// graphHeaders sets the headers every Graph response carries (WIRE §C0).
func (s *Server) graphHeaders(w http.ResponseWriter, r *http.Request) (requestID, clientRequestID string) {
	requestID = uuid.NewString()
	clientRequestID = r.Header.Get("client-request-id")
	if clientRequestID == "" {
		clientRequestID = requestID
	}
	h := w.Header()
	h.Set("request-id", requestID)
	h.Set("client-request-id", clientRequestID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Emulated","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"o365-emulator"}}`)
	return requestID, clientRequestID
}

// writeGraph answers with Graph's headers and JSON.
func (q *call) writeGraph(status int, body any) {
	q.s.graphHeaders(q.w, q.r)
	writeJSONType(q.w, status, graphContentType, body)
}

// graphNoContent is a 204 with Graph's headers.
func (q *call) graphNoContent() {
	q.s.graphHeaders(q.w, q.r)
	q.w.WriteHeader(http.StatusNoContent)
}

func (q *call) graphError(status int, code, message string) {
	q.s.writeGraphError(q.w, q.r, status, code, message)
}

// writeGraphError writes the OData error envelope with innerError (WIRE §C0).
func (s *Server) writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	requestID, clientRequestID := s.graphHeaders(w, r)
	date := s.clock().UTC().Format("2006-01-02T15:04:05")
	inner := jsonObject{{"date", date}, {"request-id", requestID}, {"client-request-id", clientRequestID}}
	if status == http.StatusTooManyRequests {
		inner = jsonObject{{"code", "429"}, {"date", date}, {"message", "Please retry after"},
			{"request-id", requestID}, {"status", "429"}}
	}
	writeJSONType(w, status, "application/json", jsonObject{{"error", jsonObject{{"code", code}, {"message", message}, {"innerError", inner}}}})
}

func (q *call) graphNotFound(id string) {
	q.graphError(http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

// graphStatusErrors are Graph's error code and message for a status, as an
// injected fault answers; 429 is TooManyRequests exactly as WIRE §C0 shows.
var graphStatusErrors = map[int][2]string{
	http.StatusTooManyRequests:    {"TooManyRequests", "Please retry again later."},
	http.StatusBadRequest:         {"Request_BadRequest", "The request is invalid."},
	http.StatusUnauthorized:       {"InvalidAuthenticationToken", "Access token validation failure."},
	http.StatusForbidden:          {"Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
	http.StatusNotFound:           {"Request_ResourceNotFound", "The resource does not exist."},
	http.StatusServiceUnavailable: {"serviceNotAvailable", "The service is temporarily unavailable. Please retry after the time given in Retry-After."},
	http.StatusGatewayTimeout:     {"gatewayTimeout", "The gateway did not receive a timely response."},
}

// writeGraphStatusError is an injected fault's Graph body.
func (s *Server) writeGraphStatusError(w http.ResponseWriter, r *http.Request, status int) {
	e, ok := graphStatusErrors[status]
	if !ok {
		e = [2]string{"generalException", "An unexpected error occurred."}
	}
	s.writeGraphError(w, r, status, e[0], e[1])
}
