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
	"strings"
	"time"
)

// App registrations through Graph (WIRE §I7, §I10, §I11): applications,
// their secrets and certificates, with the authorization rules of §I11.

// Directory roles that may manage registrations (WIRE §I11), and those that
// may consent to Microsoft Graph app roles.
var (
	appManagerRoles   = []string{"Global Administrator", "Application Administrator", "Cloud Application Administrator"}
	graphConsentRoles = []string{"Global Administrator", "Privileged Role Administrator"}
	appReadApps       = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}
)

// mayManageApps: create, change and delete applications and service
// principals. Delegated: Application, Cloud Application or Global
// Administrator; app-only: Application.ReadWrite.All.
func (t *tenant) mayManageApps(c *caller) bool {
	if c.appOnly() {
		return c.hasRole("Application.ReadWrite.All")
	}
	return t.hasDirectoryRole(c.user, appManagerRoles...)
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

// applyApplication validates a create or PATCH body against a, then
// applies it; false when it has written the 400 (and changed nothing but
// the id sequence). Needs s.mu.
func (s *Server) applyApplication(q *call, a *application, body *applicationBody, creating bool) bool {
	code, message := s.checkApplication(a, body, creating)
	var keys []*keyCredential
	if message == "" && body.KeyCredentials != nil {
		// Last: each key without a keyId takes an id of the sequence.
		code = "Request_BadRequest"
		keys, message = s.keysFromBody(a, *body.KeyCredentials)
	}
	if message != "" {
		q.graphError(http.StatusBadRequest, code, message)
		return false
	}
	s.tenant.updateApplication(a, body, keys)
	return true
}

// checkApplication is Graph's validation of an application body, in its
// order: Graph's error code and message, or "" when the body is valid.
func (s *Server) checkApplication(a *application, body *applicationBody, creating bool) (code, message string) {
	const badRequest = "Request_BadRequest"
	switch {
	case body.PasswordCredentials != nil && string(body.PasswordCredentials) != "null" && string(body.PasswordCredentials) != "[]":
		return badRequest, "Property 'passwordCredentials' is read-only here; add a secret with addPassword."
	case body.DisplayName != nil && strings.TrimSpace(*body.DisplayName) == "" || creating && body.DisplayName == nil:
		return badRequest, "Invalid value specified for property 'displayName' of resource 'Application'."
	case body.SignInAudience != nil && !slices.Contains(signInAudiences, *body.SignInAudience):
		return badRequest, fmt.Sprintf("Invalid value specified for property 'signInAudience' of resource 'Application': '%s'.", *body.SignInAudience)
	}
	if body.IdentifierURIs != nil {
		if code, message := s.checkIdentifierURIs(a, *body.IdentifierURIs); message != "" {
			return code, message
		}
	}
	for _, ra := range resourceAccessOf(body.RequiredResourceAccess) {
		if ra.Type != "Role" && ra.Type != "Scope" {
			return badRequest, fmt.Sprintf("Invalid value specified for property 'type' of resource 'ResourceAccess': '%s'.", ra.Type)
		}
	}
	return "", ""
}

// resourceAccessOf lists every resourceAccess entry of a requiredResourceAccess list.
func resourceAccessOf(rra *[]requiredResourceAccess) []resourceAccess {
	var out []resourceAccess
	if rra != nil {
		for _, r := range *rra {
			out = append(out, r.ResourceAccess...)
		}
	}
	return out
}

// checkIdentifierURIs: each must be allowed for a (validIdentifierURI) and
// belong to no other application.
func (s *Server) checkIdentifierURIs(a *application, uris []string) (code, message string) {
	for _, uri := range uris {
		if !s.validIdentifierURI(a, uri) {
			return "HostNameNotOnVerifiedDomain", fmt.Sprintf("Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", uri)
		}
		for _, other := range s.tenant.apps {
			if other != a && slices.ContainsFunc(other.identifierURIs, func(x string) bool { return strings.EqualFold(x, uri) }) {
				return "Request_BadRequest", "Another object with the same value for property identifierUris already exists."
			}
		}
	}
	return "", ""
}

// keysFromBody reads a keyCredentials list; the message names the first
// entry it refuses.
func (s *Server) keysFromBody(a *application, bodies []keyCredentialBody) ([]*keyCredential, string) {
	var keys []*keyCredential
	for i, k := range bodies {
		key, msg := s.keyFromBody(a, k)
		if msg != "" {
			return nil, fmt.Sprintf("keyCredentials[%d]: %s", i, msg)
		}
		keys = append(keys, key)
	}
	return keys, ""
}

// updateApplication applies a checked body: what it names replaces what a
// has; keys replace the whole list (WIRE §I10 ⚠). A new display name is also
// the service principal's.
func (t *tenant) updateApplication(a *application, body *applicationBody, keys []*keyCredential) {
	if body.DisplayName != nil {
		a.displayName = *body.DisplayName
		if sp := t.spByAppID(a.appID); sp != nil && sp.app == a {
			sp.displayName = a.displayName
		}
	}
	setIfGiven(&a.signInAudience, body.SignInAudience)
	setIfGiven(&a.notes, body.Notes)
	setIfGiven(&a.description, body.Description)
	if body.Tags != nil {
		a.tags = slices.Clone(*body.Tags)
	}
	if body.IdentifierURIs != nil {
		a.identifierURIs = slices.Clone(*body.IdentifierURIs)
	}
	if body.RequiredResourceAccess != nil {
		a.requiredResourceAccess = slices.Clone(*body.RequiredResourceAccess)
	}
	if body.KeyCredentials != nil {
		a.keys = keys
	}
}

func setIfGiven(field, value *string) {
	if value != nil {
		*field = *value
	}
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
	if isoTimes([]*string{k.StartDateTime, k.EndDateTime}, []*time.Time{&start, &end}) != nil {
		return nil, "startDateTime and endDateTime must be ISO 8601 times"
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

// isoTimes reads ISO 8601 (RFC 3339) times: each text that is given and not
// empty replaces the time at the same place in into.
func isoTimes(texts []*string, into []*time.Time) error {
	for i, text := range texts {
		if text == nil || *text == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, *text)
		if err != nil {
			return err
		}
		*into[i] = v
	}
	return nil
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

// pathApp finds /applications/{id} by object id; 404 otherwise.
func (q *call) pathApp() *application {
	a := q.s.tenant.appByObjectID(q.r.PathValue("id"))
	if a == nil {
		q.graphNotFound(q.r.PathValue("id"))
	}
	return a
}

// createApplication is POST /applications (WIRE §I7): 201 with the object.
func (s *Server) createApplication(q *call) {
	var body applicationBody
	if ok := q.graphBody("application", applicationProperties, &body); !ok {
		return
	}
	// Validate on a draft first: nothing is created when the body is refused.
	// (api://<appId> cannot be set yet: the app id does not exist.)
	draft := &application{signInAudience: "AzureADMyOrg", identifierURIs: []string{}, tags: []string{}}
	if !s.applyApplication(q, draft, &body, true) {
		return
	}
	a := s.tenant.addApplication(draft.displayName, "", q.c.name(), s.clock())
	draft.objectID, draft.appID, draft.createdAt, draft.createdBy = a.objectID, a.appID, a.createdAt, a.createdBy
	*a = *draft
	q.w.Header().Set("Location", s.url+"/v1.0/applications/"+a.objectID)
	q.writeGraph(http.StatusCreated, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#applications/$entity"}}, s.applicationObject(a, false)...))
}

// applicationSelectable are the properties $select may name on applications.
var applicationSelectable = []string{"id", "deletedDateTime", "appId", "applicationTemplateId", "createdDateTime",
	"description", "displayName", "identifierUris", "notes", "publisherDomain", "signInAudience", "tags",
	"keyCredentials", "passwordCredentials", "requiredResourceAccess"}

// listApplications is GET /applications with $filter (appId, displayName,
// id, startswith(displayName), tags/any, identifierUris/any), $select, $top.
func (s *Server) listApplications(q *call) {
	filter, ok := q.directoryFilter([]string{"appId", "displayName", "id", "publisherDomain"}, []string{"displayName"}, []string{"tags", "identifierUris"})
	if !ok {
		return
	}
	selected, ok := q.graphSelect(applicationSelectable, "application")
	if !ok {
		return
	}
	objects := []jsonObject{}
	for _, a := range s.tenant.apps {
		if !filter.matches(map[string]any{"appId": a.appID, "displayName": a.displayName, "id": a.objectID,
			"publisherDomain": s.seed.Domains[0], "tags": a.tags, "identifierUris": a.identifierURIs}) {
			continue
		}
		// A key credential's key is returned only on a single object's $select (WIRE §I10).
		objects = append(objects, selectObject(s.applicationObject(a, false), selected))
	}
	context := s.selectContext("applications", selected, false)
	q.writeGraphPage(context, objects)
}

// getApplication is GET /applications/{id}.
func (s *Server) getApplication(q *call) {
	a := q.pathApp()
	if a == nil {
		return
	}
	selected, ok := q.graphSelect(applicationSelectable, "application")
	if !ok {
		return
	}
	context := s.selectContext("applications", selected, true)
	q.writeGraph(http.StatusOK, append(jsonObject{{"@odata.context", context}},
		selectObject(s.applicationObject(a, slices.Contains(selected, "keyCredentials")), selected)...))
}

// updateApplication is PATCH /applications/{id}: 204. keyCredentials
// replaces the whole list (WIRE §I10).
func (s *Server) updateApplication(q *call) {
	a := q.pathApp()
	if a == nil {
		return
	}
	var body applicationBody
	if ok := q.graphBody("application", applicationProperties, &body); !ok {
		return
	}
	if !s.applyApplication(q, a, &body, false) {
		return
	}
	q.graphNoContent()
}

// deleteApplication is DELETE /applications/{id}: 204; its service principal
// goes with it (WIRE §I11 ⚠). Deleted items are not modelled.
func (s *Server) deleteApplication(q *call) {
	a := q.pathApp()
	if a == nil {
		return
	}
	s.tenant.deleteApplication(a)
	q.graphNoContent()
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
func (s *Server) addPassword(q *call) {
	a := q.pathApp()
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
	data, _ := readBody(q.r)
	if len(bytes.TrimSpace(data)) > 0 {
		if ok := q.graphBody("application.addPassword", []string{"passwordCredential"}, &body); !ok {
			return
		}
	}
	start, end := s.clock(), time.Time{}
	if p := body.PasswordCredential; p != nil {
		if isoTimes([]*string{p.StartDateTime, p.EndDateTime}, []*time.Time{&start, &end}) != nil {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", "startDateTime and endDateTime must be ISO 8601 times.")
			return
		}
		if !end.IsZero() && !end.After(start) {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", "endDateTime must be after startDateTime.")
			return
		}
	}
	name := ""
	if body.PasswordCredential != nil {
		name = body.PasswordCredential.DisplayName
	}
	p := s.tenant.addPassword(a, name, newSecretText(), "", start, end)
	q.writeGraph(http.StatusOK, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#microsoft.graph.passwordCredential"}}, passwordObject(p, true)...))
}

// removePassword is POST /applications/{id}/removePassword: 204; an unknown
// keyId is 404 (⚠), so a retried removal can tell it is done.
func (s *Server) removePassword(q *call) {
	a := q.pathApp()
	if a == nil {
		return
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if ok := q.graphBody("application.removePassword", []string{"keyId"}, &body); !ok {
		return
	}
	n := len(a.passwords)
	a.passwords = slices.DeleteFunc(a.passwords, func(p *passwordCredential) bool { return strings.EqualFold(p.keyID, body.KeyID) })
	if n == len(a.passwords) {
		q.graphError(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("No password credential with keyId '%s' exists on the application.", body.KeyID))
		return
	}
	q.graphNoContent()
}
