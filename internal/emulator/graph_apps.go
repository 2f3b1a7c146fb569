package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// App registrations through Graph (WIRE §I7–§I11): applications, their
// secrets and certificates, service principals and app-role assignments
// (consent), with the authorization rules of §I11.

const graphTime = "2006-01-02T15:04:05Z"

// Directory roles that may manage registrations (WIRE §I11), and those that
// may consent to Microsoft Graph app roles.
var (
	appManagerRoles   = []string{"Global Administrator", "Application Administrator", "Cloud Application Administrator"}
	graphConsentRoles = []string{"Global Administrator", "Privileged Role Administrator"}
	appReadApps       = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}
)

// denyGraph writes the 403 of WIRE §C0.
func (s *Server) denyGraph(w http.ResponseWriter, r *http.Request) {
	s.writeGraphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// mayManageApps: create, change and delete applications and service
// principals. Delegated: Application, Cloud Application or Global
// Administrator; app-only: Application.ReadWrite.All.
func (t *tenant) mayManageApps(c *caller) bool {
	if c.appOnly() {
		return c.hasRole("Application.ReadWrite.All")
	}
	return t.hasDirectoryRole(c.user, appManagerRoles...)
}

// mayConsent: grant or revoke an app role of resource (WIRE §I9, §I11).
// Microsoft Graph's roles need Privileged Role or Global Administrator
// (for an application: in its token's wids); other resources also accept
// the application administrators. An application also needs
// AppRoleAssignment.ReadWrite.All and a permission to read applications.
func (t *tenant) mayConsent(c *caller, resource *servicePrincipal) bool {
	roles := graphConsentRoles
	if resource.appID != graphAppID {
		roles = append(slices.Clone(graphConsentRoles), "Application Administrator", "Cloud Application Administrator")
	}
	if c.appOnly() {
		return c.hasRole("AppRoleAssignment.ReadWrite.All") && c.hasRole(appReadApps...) && c.hasTokenDirectoryRole(roles...)
	}
	return t.hasDirectoryRole(c.user, roles...)
}

// graphBody decodes a JSON body into into, rejecting properties the type
// does not have; known ones the emulator does not model are accepted and
// ignored. False when it has written the error.
func (s *Server) graphBody(w http.ResponseWriter, r *http.Request, typeName string, known []string, into any) bool {
	data, _ := readBody(r)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid request body: a JSON object is expected.")
		return false
	}
	for k := range raw {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if !slices.Contains(known, k) {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Property '%s' does not exist on type 'microsoft.graph.%s'.", k, typeName))
			return false
		}
	}
	if err := json.Unmarshal(data, into); err != nil {
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid request body: "+err.Error())
		return false
	}
	return true
}

// applicationProperties are those of microsoft.graph.application a client may send.
var applicationProperties = []string{"displayName", "signInAudience", "requiredResourceAccess", "tags", "identifierUris",
	"notes", "description", "keyCredentials", "passwordCredentials",
	// accepted, not modelled:
	"api", "web", "spa", "publicClient", "info", "optionalClaims", "isFallbackPublicClient",
	"serviceManagementReference", "groupMembershipClaims", "appRoles", "parentalControlSettings"}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

type applicationBody struct {
	DisplayName            *string                   `json:"displayName"`
	SignInAudience         *string                   `json:"signInAudience"`
	RequiredResourceAccess *[]requiredResourceAccess `json:"requiredResourceAccess"`
	Tags                   *[]string                 `json:"tags"`
	IdentifierURIs         *[]string                 `json:"identifierUris"`
	Notes                  *string                   `json:"notes"`
	Description            *string                   `json:"description"`
	KeyCredentials         *[]keyCredentialBody      `json:"keyCredentials"`
	PasswordCredentials    json.RawMessage           `json:"passwordCredentials"`
}

type keyCredentialBody struct {
	KeyID               string  `json:"keyId"`
	Type                string  `json:"type"`
	Usage               string  `json:"usage"`
	Key                 string  `json:"key"`
	DisplayName         string  `json:"displayName"`
	CustomKeyIdentifier *string `json:"customKeyIdentifier"`
	StartDateTime       *string `json:"startDateTime"`
	EndDateTime         *string `json:"endDateTime"`
}

// validIdentifierURI applies the default app management policy: api://<app
// id>, api://<tenant id>/…, or a verified domain (or its subdomain) over
// api:// or https:// (⚠ emulator reading of Entra's policy).
func (s *Server) validIdentifierURI(a *application, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	switch u.Scheme {
	case "api":
		if strings.EqualFold(host, a.appID) || (strings.EqualFold(host, s.seed.TenantID) && len(u.Path) > 1) {
			return true
		}
	case "https":
	default:
		return false
	}
	return slices.ContainsFunc(s.seed.Domains, func(d string) bool { return host == d || strings.HasSuffix(host, "."+d) })
}

// applyApplication validates and applies a create or PATCH body. Needs s.mu.
func (s *Server) applyApplication(w http.ResponseWriter, r *http.Request, a *application, body *applicationBody, creating bool) bool {
	bad := func(message string) bool {
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", message)
		return false
	}
	t := s.tenant
	if body.PasswordCredentials != nil && string(body.PasswordCredentials) != "null" && string(body.PasswordCredentials) != "[]" {
		return bad("Property 'passwordCredentials' is read-only here; add a secret with addPassword.")
	}
	if body.DisplayName != nil && strings.TrimSpace(*body.DisplayName) == "" || creating && body.DisplayName == nil {
		return bad("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	if body.SignInAudience != nil && !slices.Contains(signInAudiences, *body.SignInAudience) {
		return bad(fmt.Sprintf("Invalid value specified for property 'signInAudience' of resource 'Application': '%s'.", *body.SignInAudience))
	}
	if body.IdentifierURIs != nil {
		for _, uri := range *body.IdentifierURIs {
			if !s.validIdentifierURI(a, uri) {
				s.writeGraphError(w, r, http.StatusBadRequest, "HostNameNotOnVerifiedDomain",
					fmt.Sprintf("Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", uri))
				return false
			}
			for _, other := range t.apps {
				if other != a && slices.ContainsFunc(other.identifierURIs, func(x string) bool { return strings.EqualFold(x, uri) }) {
					return bad("Another object with the same value for property identifierUris already exists.")
				}
			}
		}
	}
	if body.RequiredResourceAccess != nil {
		for _, rra := range *body.RequiredResourceAccess {
			for _, ra := range rra.ResourceAccess {
				if ra.Type != "Role" && ra.Type != "Scope" {
					return bad(fmt.Sprintf("Invalid value specified for property 'type' of resource 'ResourceAccess': '%s'.", ra.Type))
				}
			}
		}
	}
	var keys []*keyCredential
	if body.KeyCredentials != nil {
		for i, k := range *body.KeyCredentials {
			key, msg := s.keyFromBody(a, k)
			if msg != "" {
				return bad(fmt.Sprintf("keyCredentials[%d]: %s", i, msg))
			}
			keys = append(keys, key)
		}
	}
	// All checked: apply.
	if body.DisplayName != nil {
		a.displayName = *body.DisplayName
		if sp := t.spByAppID(a.appID); sp != nil && sp.app == a {
			sp.displayName = a.displayName
		}
	}
	if body.SignInAudience != nil {
		a.signInAudience = *body.SignInAudience
	}
	if body.Tags != nil {
		a.tags = slices.Clone(*body.Tags)
	}
	if body.IdentifierURIs != nil {
		a.identifierURIs = slices.Clone(*body.IdentifierURIs)
	}
	if body.RequiredResourceAccess != nil {
		a.requiredResourceAccess = slices.Clone(*body.RequiredResourceAccess)
	}
	if body.Notes != nil {
		a.notes = *body.Notes
	}
	if body.Description != nil {
		a.description = *body.Description
	}
	if body.KeyCredentials != nil {
		a.keys = keys // the list replaces the stored one (WIRE §I10 ⚠)
	}
	return true
}

// keyFromBody reads one keyCredentials entry: an X.509 certificate (public
// part, base64 DER) for verification; the dates must lie within its
// validity and default to it.
func (s *Server) keyFromBody(a *application, k keyCredentialBody) (*keyCredential, string) {
	if k.Type != "AsymmetricX509Cert" || k.Usage != "Verify" {
		return nil, "type must be AsymmetricX509Cert and usage Verify"
	}
	der, err := base64.StdEncoding.DecodeString(k.Key)
	if err != nil || k.Key == "" {
		return nil, "key must be the certificate in base64 (DER)"
	}
	cert, err := parseAnyCertificateDER(der)
	if err != nil {
		return nil, "key is not a valid certificate: " + err.Error()
	}
	var start, end time.Time
	for _, d := range []struct {
		text *string
		into *time.Time
	}{{k.StartDateTime, &start}, {k.EndDateTime, &end}} {
		if d.text != nil && *d.text != "" {
			if *d.into, err = time.Parse(time.RFC3339, *d.text); err != nil {
				return nil, "startDateTime and endDateTime must be ISO 8601 times"
			}
		}
	}
	if !end.IsZero() && end.After(cert.NotAfter) || !start.IsZero() && start.Before(cert.NotBefore.Add(-time.Second)) {
		return nil, "the key credential's dates must lie within the certificate's validity"
	}
	keyID := k.KeyID
	if keyID != "" {
		if _, err := parseGUID(keyID); err != nil {
			return nil, "keyId must be a GUID"
		}
	}
	key := s.tenant.newKeyCredential(a, cert, k.DisplayName, keyID, start, end)
	if k.CustomKeyIdentifier != nil {
		if b, err := base64.StdEncoding.DecodeString(*k.CustomKeyIdentifier); err == nil {
			key.customKeyIdentifier = b
		}
	}
	return key, ""
}

// applicationObject renders an application (WIRE §I7); keyCredentials carry
// their key only when selected, and secrets never their value.
func (s *Server) applicationObject(a *application, withKeys bool) jsonObject {
	passwords := []jsonObject{}
	for _, p := range a.passwords {
		passwords = append(passwords, passwordObject(p, false))
	}
	keys := []jsonObject{}
	for _, k := range a.keys {
		keys = append(keys, keyObject(k, withKeys))
	}
	rra := a.requiredResourceAccess
	if rra == nil {
		rra = []requiredResourceAccess{}
	}
	return jsonObject{
		{"id", a.objectID}, {"deletedDateTime", nil}, {"appId", a.appID}, {"applicationTemplateId", nil},
		{"createdDateTime", a.createdAt.UTC().Format(graphTime)}, {"description", nullIfEmpty(a.description)},
		{"displayName", a.displayName}, {"identifierUris", nonNil(a.identifierURIs)}, {"notes", nullIfEmpty(a.notes)},
		{"publisherDomain", s.seed.Domains[0]}, {"signInAudience", a.signInAudience}, {"tags", nonNil(a.tags)},
		{"keyCredentials", keys}, {"passwordCredentials", passwords}, {"requiredResourceAccess", rra},
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

func passwordObject(p *passwordCredential, withSecret bool) jsonObject {
	var secret any
	if withSecret {
		secret = p.secret
	}
	return jsonObject{{"customKeyIdentifier", nil}, {"displayName", nullIfEmpty(p.displayName)},
		{"endDateTime", p.end.UTC().Format(graphTime)}, {"hint", p.hint}, {"keyId", p.keyID},
		{"secretText", secret}, {"startDateTime", p.start.UTC().Format(graphTime)}}
}

func keyObject(k *keyCredential, withKey bool) jsonObject {
	var key any
	if withKey {
		key = base64.StdEncoding.EncodeToString(k.cert.Raw)
	}
	return jsonObject{{"customKeyIdentifier", base64.StdEncoding.EncodeToString(k.customKeyIdentifier)},
		{"displayName", nullIfEmpty(k.displayName)}, {"endDateTime", k.end.UTC().Format(graphTime)},
		{"key", key}, {"keyId", k.keyID}, {"startDateTime", k.start.UTC().Format(graphTime)},
		{"type", k.keyType}, {"usage", k.usage}}
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

// writeGraphPage answers a collection with $top and an opaque $skiptoken (WIRE §C0).
func (s *Server) writeGraphPage(w http.ResponseWriter, r *http.Request, context string, objects []jsonObject) {
	query := r.URL.Query()
	pageSize := s.graphPageSize
	if top := query.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 1 || n > 999 {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", top))
			return
		}
		pageSize = n
	}
	offset, ok := s.skipToken(w, r, query.Get("$skiptoken"))
	if !ok {
		return
	}
	page := []jsonObject{}
	if offset < len(objects) {
		page = objects[offset:min(offset+pageSize, len(objects))]
	}
	body := jsonObject{{"@odata.context", context}, {"value", page}}
	if offset+pageSize < len(objects) {
		query.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset+pageSize))))
		body = append(body, jsonField{"@odata.nextLink", s.url + r.URL.Path + "?" + strings.ReplaceAll(query.Encode(), "%24", "$")})
	}
	s.writeGraph(w, r, http.StatusOK, body)
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

func (s *Server) directoryFilter(w http.ResponseWriter, r *http.Request, eq, startsWith, collections []string) (directoryFilter, bool) {
	raw := strings.TrimSpace(r.URL.Query().Get("$filter"))
	filter := directoryFilter{}
	if raw == "" {
		return filter, true
	}
	unquote := func(v string) (string, bool) {
		v = strings.TrimSpace(v)
		if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			return "", false
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), true
	}
	known := func(list []string, name string) (string, bool) {
		i := slices.IndexFunc(list, func(p string) bool { return strings.EqualFold(p, strings.TrimSpace(name)) })
		if i < 0 {
			return "", false
		}
		return list[i], true
	}
	for _, clause := range splitFold(raw, " and ") {
		clause = strings.TrimSpace(clause)
		var fn func(map[string]any) bool
		switch lower := strings.ToLower(clause); {
		case strings.HasPrefix(lower, "startswith(") && strings.HasSuffix(clause, ")"):
			prop, value, ok := strings.Cut(clause[len("startswith("):len(clause)-1], ",")
			p, okProp := known(startsWith, prop)
			v, okValue := unquote(value)
			if ok && okProp && okValue {
				fn = func(values map[string]any) bool {
					s, _ := values[p].(string)
					return strings.HasPrefix(strings.ToLower(s), strings.ToLower(v))
				}
			}
		case strings.Contains(clause, "/any(") && strings.HasSuffix(clause, ")"):
			coll, inner, _ := strings.Cut(clause, "/any(")
			variable, cond, ok := strings.Cut(inner[:len(inner)-1], ":")
			lhs, value, okEq := strings.Cut(cond, " eq ")
			p, okProp := known(collections, coll)
			v, okValue := unquote(value)
			if ok && okEq && okProp && okValue && strings.TrimSpace(lhs) == strings.TrimSpace(variable) {
				fn = func(values map[string]any) bool {
					list, _ := values[p].([]string)
					return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
				}
			}
		default:
			prop, value, ok := strings.Cut(clause, " eq ")
			p, okProp := known(eq, prop)
			v, okValue := unquote(value)
			if ok && okProp && okValue {
				fn = func(values map[string]any) bool {
					s, _ := values[p].(string)
					return strings.EqualFold(s, v)
				}
			}
		}
		if fn == nil {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported or invalid query filter clause specified: '%s'.", clause))
			return nil, false
		}
		filter = append(filter, fn)
	}
	return filter, true
}

// graphApp finds /applications/{id} by object id; 404 otherwise. Needs s.mu.
func (s *Server) graphApp(w http.ResponseWriter, r *http.Request) *application {
	a := s.tenant.appByObjectID(r.PathValue("id"))
	if a == nil {
		s.writeGraphNotFound(w, r, r.PathValue("id"))
	}
	return a
}

// createApplication is POST /applications (WIRE §I7): 201 with the object.
func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	var body applicationBody
	if ok := s.graphBody(w, r, "application", applicationProperties, &body); !ok {
		return
	}
	// Validate on a draft first: nothing is created when the body is refused.
	// (api://<appId> cannot be set yet: the app id does not exist.)
	draft := &application{signInAudience: "AzureADMyOrg", identifierURIs: []string{}, tags: []string{}}
	if !s.applyApplication(w, r, draft, &body, true) {
		return
	}
	a := s.tenant.addApplication(draft.displayName, "", c.name(), s.clock())
	draft.objectID, draft.appID, draft.createdAt, draft.createdBy = a.objectID, a.appID, a.createdAt, a.createdBy
	*a = *draft
	w.Header().Set("Location", s.url+"/v1.0/applications/"+a.objectID)
	s.writeGraph(w, r, http.StatusCreated, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#applications/$entity"}}, s.applicationObject(a, false)...))
}

// applicationSelectable are the properties $select may name on applications.
var applicationSelectable = []string{"id", "deletedDateTime", "appId", "applicationTemplateId", "createdDateTime",
	"description", "displayName", "identifierUris", "notes", "publisherDomain", "signInAudience", "tags",
	"keyCredentials", "passwordCredentials", "requiredResourceAccess"}

// listApplications is GET /applications with $filter (appId, displayName,
// id, startswith(displayName), tags/any, identifierUris/any), $select, $top.
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil || !s.graphAppAllowed(w, r, c, appReadApps...) {
		return
	}
	filter, ok := s.directoryFilter(w, r, []string{"appId", "displayName", "id", "publisherDomain"}, []string{"displayName"}, []string{"tags", "identifierUris"})
	if !ok {
		return
	}
	selected, ok := s.graphSelect(w, r, applicationSelectable, "application")
	if !ok {
		return
	}
	objects := []jsonObject{}
	for _, a := range s.tenant.apps {
		if !filter.matches(map[string]any{"appId": a.appID, "displayName": a.displayName, "id": a.objectID,
			"publisherDomain": s.seed.Domains[0], "tags": a.tags, "identifierUris": a.identifierURIs}) {
			continue
		}
		objects = append(objects, selectObject(s.applicationObject(a, slices.Contains(selected, "keyCredentials")), selected))
	}
	context := s.selectContext("applications", selected, false)
	s.writeGraphPage(w, r, context, objects)
}

// getApplication is GET /applications/{id}.
func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil || !s.graphAppAllowed(w, r, c, appReadApps...) {
		return
	}
	a := s.graphApp(w, r)
	if a == nil {
		return
	}
	selected, ok := s.graphSelect(w, r, applicationSelectable, "application")
	if !ok {
		return
	}
	context := s.selectContext("applications", selected, true)
	s.writeGraph(w, r, http.StatusOK, append(jsonObject{{"@odata.context", context}},
		selectObject(s.applicationObject(a, slices.Contains(selected, "keyCredentials")), selected)...))
}

// updateApplication is PATCH /applications/{id}: 204. keyCredentials
// replaces the whole list (WIRE §I10).
func (s *Server) updateApplication(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	a := s.graphApp(w, r)
	if a == nil {
		return
	}
	var body applicationBody
	if ok := s.graphBody(w, r, "application", applicationProperties, &body); !ok {
		return
	}
	if !s.applyApplication(w, r, a, &body, false) {
		return
	}
	s.graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// deleteApplication is DELETE /applications/{id}: 204; its service principal
// goes with it (WIRE §I11 ⚠). Deleted items are not modelled.
func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	a := s.graphApp(w, r)
	if a == nil {
		return
	}
	s.tenant.deleteApplication(a)
	s.graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// secretAlphabet is what Entra's generated secrets are made of.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"

func newSecretText() string {
	b := make([]byte, 40)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(secretAlphabet))))
		b[i] = secretAlphabet[n.Int64()]
	}
	return string(b)
}

// addPassword is POST /applications/{id}/addPassword (WIRE §I10): 200 with
// the secret's value, shown here and never again.
func (s *Server) addPassword(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	a := s.graphApp(w, r)
	if a == nil {
		return
	}
	var body struct {
		PasswordCredential *struct {
			DisplayName   string  `json:"displayName"`
			StartDateTime *string `json:"startDateTime"`
			EndDateTime   *string `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	data, _ := readBody(r)
	if len(bytes.TrimSpace(data)) > 0 {
		if ok := s.graphBody(w, r, "application.addPassword", []string{"passwordCredential"}, &body); !ok {
			return
		}
	}
	start, end := s.clock(), time.Time{}
	if p := body.PasswordCredential; p != nil {
		for _, d := range []struct {
			text *string
			into *time.Time
		}{{p.StartDateTime, &start}, {p.EndDateTime, &end}} {
			if d.text == nil || *d.text == "" {
				continue
			}
			v, err := time.Parse(time.RFC3339, *d.text)
			if err != nil {
				s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "startDateTime and endDateTime must be ISO 8601 times.")
				return
			}
			*d.into = v
		}
		if !end.IsZero() && !end.After(start) {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "endDateTime must be after startDateTime.")
			return
		}
	}
	name := ""
	if body.PasswordCredential != nil {
		name = body.PasswordCredential.DisplayName
	}
	p := s.tenant.addPassword(a, name, newSecretText(), "", start, end)
	s.writeGraph(w, r, http.StatusOK, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#microsoft.graph.passwordCredential"}}, passwordObject(p, true)...))
}

// removePassword is POST /applications/{id}/removePassword: 204; an unknown
// keyId is 404 (⚠), so a retried removal can tell it is done.
func (s *Server) removePassword(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	a := s.graphApp(w, r)
	if a == nil {
		return
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if ok := s.graphBody(w, r, "application.removePassword", []string{"keyId"}, &body); !ok {
		return
	}
	n := len(a.passwords)
	a.passwords = slices.DeleteFunc(a.passwords, func(p *passwordCredential) bool { return strings.EqualFold(p.keyID, body.KeyID) })
	if n == len(a.passwords) {
		s.writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("No password credential with keyId '%s' exists on the application.", body.KeyID))
		return
	}
	s.graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// servicePrincipalObject renders a service principal (WIRE §I7); resources
// carry their appRoles.
func (s *Server) servicePrincipalObject(sp *servicePrincipal) jsonObject {
	roles := []jsonObject{}
	if sp.resource != nil {
		for _, r := range sp.resource.roles {
			roles = append(roles, jsonObject{{"allowedMemberTypes", []string{"Application"}}, {"description", r.displayName},
				{"displayName", r.displayName}, {"id", r.id}, {"isEnabled", true}, {"origin", "Application"}, {"value", r.value}})
		}
	}
	names := []string{sp.appID}
	audience, owner := "AzureADMultipleOrgs", "f8cdef31-a31e-4b4a-93e4-5f571e91255a" // Microsoft's own tenant
	if sp.app != nil {
		names = append(names, sp.app.identifierURIs...)
		audience, owner = sp.app.signInAudience, s.seed.TenantID
	}
	return jsonObject{
		{"id", sp.id}, {"deletedDateTime", nil}, {"accountEnabled", sp.enabled}, {"appDisplayName", sp.displayName},
		{"appId", sp.appID}, {"appOwnerOrganizationId", owner}, {"appRoleAssignmentRequired", false},
		{"displayName", sp.displayName}, {"servicePrincipalNames", names}, {"servicePrincipalType", "Application"},
		{"signInAudience", audience}, {"tags", nonNil(sp.tags)}, {"appRoles", roles},
		{"keyCredentials", []jsonObject{}}, {"passwordCredentials", []jsonObject{}},
	}
}

var servicePrincipalSelectable = []string{"id", "deletedDateTime", "accountEnabled", "appDisplayName", "appId",
	"appOwnerOrganizationId", "appRoleAssignmentRequired", "displayName", "servicePrincipalNames",
	"servicePrincipalType", "signInAudience", "tags", "appRoles", "keyCredentials", "passwordCredentials"}

// graphSP finds /servicePrincipals/{id}; 404 otherwise. Needs s.mu.
func (s *Server) graphSP(w http.ResponseWriter, r *http.Request) *servicePrincipal {
	sp := s.tenant.spByID(r.PathValue("id"))
	if sp == nil {
		s.writeGraphNotFound(w, r, r.PathValue("id"))
	}
	return sp
}

// graphCreateServicePrincipal is POST /servicePrincipals {"appId":…} (WIRE §I7).
func (s *Server) graphCreateServicePrincipal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	var body struct {
		AppID          string   `json:"appId"`
		AccountEnabled *bool    `json:"accountEnabled"`
		Tags           []string `json:"tags"`
	}
	if ok := s.graphBody(w, r, "servicePrincipal", []string{"appId", "accountEnabled", "tags", "appRoleAssignmentRequired", "notes", "description"}, &body); !ok {
		return
	}
	t := s.tenant
	a := t.appByAppID(body.AppID)
	switch {
	case t.spByAppID(body.AppID) != nil:
		s.writeGraphError(w, r, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Another object with the same value for property servicePrincipalNames already exists.")
		return
	case a == nil:
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("The appId '%s' of the service principal does not reference a valid application object.", body.AppID))
		return
	}
	sp, _ := t.addServicePrincipal(a, s.clock())
	if body.AccountEnabled != nil {
		sp.enabled = *body.AccountEnabled
	}
	sp.tags = append(sp.tags, body.Tags...)
	w.Header().Set("Location", s.url+"/v1.0/servicePrincipals/"+sp.id)
	s.writeGraph(w, r, http.StatusCreated, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#servicePrincipals/$entity"}}, s.servicePrincipalObject(sp)...))
}

// graphListServicePrincipals is GET /servicePrincipals with $filter (appId,
// displayName, id, startswith(displayName), servicePrincipalNames/any,
// tags/any), $select, $top. An empty value for a resource's appId means it is
// not provisioned (WIRE §I7).
func (s *Server) graphListServicePrincipals(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil || !s.graphAppAllowed(w, r, c, appReadApps...) {
		return
	}
	filter, ok := s.directoryFilter(w, r, []string{"appId", "displayName", "id"}, []string{"displayName"}, []string{"servicePrincipalNames", "tags"})
	if !ok {
		return
	}
	selected, ok := s.graphSelect(w, r, servicePrincipalSelectable, "servicePrincipal")
	if !ok {
		return
	}
	objects := []jsonObject{}
	for _, sp := range s.tenant.sps {
		obj := s.servicePrincipalObject(sp)
		names := []string{sp.appID}
		if sp.app != nil {
			names = append(names, sp.app.identifierURIs...)
		}
		if filter.matches(map[string]any{"appId": sp.appID, "displayName": sp.displayName, "id": sp.id, "servicePrincipalNames": names, "tags": sp.tags}) {
			objects = append(objects, selectObject(obj, selected))
		}
	}
	context := s.selectContext("servicePrincipals", selected, false)
	s.writeGraphPage(w, r, context, objects)
}

func (s *Server) graphGetServicePrincipal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil || !s.graphAppAllowed(w, r, c, appReadApps...) {
		return
	}
	sp := s.graphSP(w, r)
	if sp == nil {
		return
	}
	selected, ok := s.graphSelect(w, r, servicePrincipalSelectable, "servicePrincipal")
	if !ok {
		return
	}
	context := s.selectContext("servicePrincipals", selected, true)
	s.writeGraph(w, r, http.StatusOK, append(jsonObject{{"@odata.context", context}}, selectObject(s.servicePrincipalObject(sp), selected)...))
}

// graphDeleteServicePrincipal is DELETE /servicePrincipals/{id}: 204; only the
// service principal (and what was granted to it) goes (WIRE §I11 ⚠).
func (s *Server) graphDeleteServicePrincipal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if !s.tenant.mayManageApps(c) {
		s.denyGraph(w, r)
		return
	}
	sp := s.graphSP(w, r)
	if sp == nil {
		return
	}
	if sp.resource != nil {
		s.denyGraph(w, r) // Microsoft's first-party service principals are not the tenant's to delete
		return
	}
	s.tenant.deleteServicePrincipal(sp)
	s.graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// appRoleAssignmentObject renders a consent (WIRE §I9).
func (s *Server) appRoleAssignmentObject(a *appRoleAssignment) jsonObject {
	t := s.tenant
	principalName, resourceName := "", ""
	if p := t.spByID(a.principalID); p != nil {
		principalName = p.displayName
	}
	if res := t.spByID(a.resourceID); res != nil {
		resourceName = res.displayName
	}
	return jsonObject{{"id", a.id}, {"deletedDateTime", nil}, {"appRoleId", a.appRoleID},
		{"createdDateTime", a.createdAt.UTC().Format("2006-01-02T15:04:05.0000000Z")}, {"principalDisplayName", principalName},
		{"principalId", a.principalID}, {"principalType", "ServicePrincipal"}, {"resourceDisplayName", resourceName},
		{"resourceId", a.resourceID}}
}

// createAppRoleAssignment is POST /servicePrincipals/{resource}/appRoleAssignedTo (WIRE §I9).
func (s *Server) createAppRoleAssignment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	resource := s.graphSP(w, r)
	if resource == nil {
		return
	}
	if !s.tenant.mayConsent(c, resource) {
		s.denyGraph(w, r)
		return
	}
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if ok := s.graphBody(w, r, "appRoleAssignment", []string{"principalId", "resourceId", "appRoleId"}, &body); !ok {
		return
	}
	t := s.tenant
	principal := t.spByID(body.PrincipalID)
	var role *appRole
	if resource.resource != nil {
		role = resource.resource.roleByID(body.AppRoleID)
	}
	switch {
	case body.PrincipalID == "" || body.ResourceID == "" || body.AppRoleID == "":
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "principalId, resourceId and appRoleId are required.")
	case !strings.EqualFold(body.ResourceID, resource.id):
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "resourceId must be the service principal of the request URL.")
	case principal == nil:
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", body.PrincipalID))
	case role == nil:
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application.")
	default:
		a, err := t.consent(principal, resource, role, c.name(), s.clock())
		if err != nil {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object.")
			return
		}
		w.Header().Set("Location", s.url+"/v1.0/servicePrincipals/"+resource.id+"/appRoleAssignedTo/"+a.id)
		s.writeGraph(w, r, http.StatusCreated, append(jsonObject{{"@odata.context",
			s.url + "/v1.0/$metadata#servicePrincipals('" + resource.id + "')/appRoleAssignedTo/$entity"}}, s.appRoleAssignmentObject(a)...))
	}
}

// listAppRoleAssignedTo is GET /servicePrincipals/{resource}/appRoleAssignedTo:
// every principal's assignments on the resource, paged; WIRE §I9 has clients
// filter by principalId themselves, so $filter is refused (⚠).
func (s *Server) listAppRoleAssignedTo(w http.ResponseWriter, r *http.Request) {
	s.listAppRoleAssignments(w, r, true)
}

// listAppRoleAssignmentsOf is GET /servicePrincipals/{principal}/appRoleAssignments.
func (s *Server) listAppRoleAssignmentsOf(w http.ResponseWriter, r *http.Request) {
	s.listAppRoleAssignments(w, r, false)
}

func (s *Server) listAppRoleAssignments(w http.ResponseWriter, r *http.Request, byResource bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil || !s.graphAppAllowed(w, r, c, appReadApps...) {
		return
	}
	sp := s.graphSP(w, r)
	if sp == nil {
		return
	}
	if r.URL.Query().Get("$filter") != "" {
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "The emulated tenant does not filter app role assignments; filter the collection by principalId.")
		return
	}
	objects := []jsonObject{}
	for _, a := range s.tenant.appRoleAssignments {
		if byResource && a.resourceID == sp.id || !byResource && a.principalID == sp.id {
			objects = append(objects, s.appRoleAssignmentObject(a))
		}
	}
	segment := "appRoleAssignments"
	if byResource {
		segment = "appRoleAssignedTo"
	}
	s.writeGraphPage(w, r, s.url+"/v1.0/$metadata#servicePrincipals('"+sp.id+"')/"+segment, objects)
}

// deleteAppRoleAssignment is DELETE …/appRoleAssignedTo/{assignment}: 204, 404 when unknown.
func (s *Server) deleteAppRoleAssignment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	resource := s.graphSP(w, r)
	if resource == nil {
		return
	}
	if !s.tenant.mayConsent(c, resource) {
		s.denyGraph(w, r)
		return
	}
	id := r.PathValue("assignment")
	t := s.tenant
	i := slices.IndexFunc(t.appRoleAssignments, func(a *appRoleAssignment) bool { return a.id == id && a.resourceID == resource.id })
	if i < 0 {
		s.writeGraphNotFound(w, r, id)
		return
	}
	t.appRoleAssignments = slices.Delete(t.appRoleAssignments, i, i+1)
	s.graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
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
