package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Graph's mailbox import and export API (WIRE §M2): a user's mailbox id
// (settings/exchange), a mailbox's folders, and import sessions whose
// pre-authenticated upload URL lives on the import host (outlook_import.go).
// The API exists in the worldwide cloud only (§M1.4), for users' primary
// mailboxes (the emulator has no other kind, §M1.3).

// The application permissions of each route (WIRE §M1.2, §M3.2), granted in
// Entra (the token's roles) or, for the mailbox routes, by an Exchange
// application role in scope (§M4, the same rbacGrants as graph_mail.go).
var (
	exchangeSettingsPermissions  = []string{"User.Read.All", "User.ReadWrite.All"}
	mailboxFolderReadPermissions = []string{"MailboxFolder.Read.All", "MailboxFolder.ReadWrite.All"}
	mailboxImportPermissions     = []string{"MailboxItem.ImportExport.All"}
)

// importSessionLifetime is how long an importUrl stays valid, by the
// emulator's clock (⚠ WIRE §M2.5: Microsoft documents no lifetime).
const importSessionLifetime = 15 * time.Minute

// mailboxFolderProperties are a mailboxFolder's properties in the order of
// WIRE §M2.2 (what $select accepts).
var mailboxFolderProperties = []string{"id", "displayName", "parentFolderId", "parentMailboxUrl",
	"childFolderCount", "totalItemCount", "wellKnownName", "type"}

// mailboxFolders are the folders every emulated mailbox lists, children of
// the top of the information store, in the order they are listed: the
// well-known ones of WIRE §M2.2 first (wellKnownName set), then the others of
// a new Exchange Online mailbox (wellKnownName null ⚠: beta names them).
// Keys are ewsFolders', so ids agree with EWS and mailFolders.
var mailboxFolders = []struct{ folder, wellKnownName string }{
	{"inbox", "inbox"}, {"sentitems", "sentitems"}, {"drafts", "drafts"}, {"deleteditems", "deleteditems"},
	{"archiveroot", "archive"}, {"junkemail", ""}, {"outbox", ""}, {"conversationhistory", ""},
	{"calendar", ""}, {"contacts", ""}, {"tasks", ""}, {"notes", ""}, {"journal", ""}, {"syncissues", ""},
}

// mailboxFolderPageSize is the default page of the folders list (the sample
// of WIRE §M2.2 pages by $skip=10).
const mailboxFolderPageSize = 10

// mailboxID is a mailbox's id in this API, "MBX:{guid}@{tenant guid}" as in
// WIRE §M2 (⚠ opaque to clients); the GUID is the mailbox GUID EWS folder ids
// carry, so it is stable for a seed.
func (t *tenant) mailboxID(u *user) string {
	if !u.mailbox {
		return ""
	}
	return "MBX:" + uuid.NewSHA1(t.namespace, []byte("mailbox:"+u.oid)).String() + "@" + t.seed.TenantID
}

// mailboxByID finds the user whose mailbox has that id (case-insensitive).
// Only MBX ids are accepted: whether v1.0 takes an SMTP address in their
// place is ⚠ (WIRE §M2.1), so the emulator refuses it rather than let a
// client rely on it.
func (t *tenant) mailboxByID(id string) *user {
	for _, u := range t.users {
		if u.mailbox && strings.EqualFold(t.mailboxID(u), id) {
			return u
		}
	}
	return nil
}

// worldwideOnly answers what Graph answers in a national cloud for a path
// the API does not have there (WIRE §M1.4: the API is absent from the
// national clouds' metadata, so the segment is unknown); false when it has.
func (q *call) worldwideOnly(segment string) bool {
	if q.s.seed.Cloud == "worldwide" {
		return true
	}
	q.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segment))
	return false
}

// mayUseMailbox: an application may use mailbox when its token carries one
// of permissions (Entra, tenant-wide) or it holds an Exchange application
// role granting one of them whose scope contains the mailbox, once the RBAC
// delay has passed (WIRE §J7.1–2, §M4). Delegated callers get nothing here:
// the emulator's delegated tokens carry none of the Mailbox* scopes. Needs s.mu.
func (s *Server) mayUseMailbox(c *caller, mailbox *user, permissions []string) bool {
	if !c.appOnly() {
		return false
	}
	if c.hasRole(permissions...) {
		return true
	}
	now := s.clock()
	return slices.ContainsFunc(permissions, func(p string) bool {
		return s.tenant.rbacGrants(c.sp.id, p, mailbox, now, s.rbacDelay)
	})
}

// adminMailbox resolves {mailboxId} of /admin/exchange/mailboxes/… and checks
// the caller's permissions on it, writing the answer when it fails: 404 for
// an id no mailbox has, 403 without a permission or an RBAC grant in scope
// (⚠ WIRE §M2.10: codes and texts unconfirmed; clients key on the status).
// Needs s.mu.
func (s *Server) adminMailbox(q *call, permissions []string) *user {
	if !q.worldwideOnly("admin") {
		return nil
	}
	id := q.r.PathValue("mailbox")
	mailbox := s.tenant.mailboxByID(id)
	if mailbox == nil {
		q.graphError(http.StatusNotFound, "ErrorItemNotFound", fmt.Sprintf("The mailbox '%s' was not found.", id))
		return nil
	}
	if !s.mayUseMailbox(q.c, mailbox, permissions) {
		q.graphError(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return nil
	}
	return mailbox
}

// noQueryOptions refuses OData query options on a route that documents none
// (WIRE §M2.1); false when it has answered.
func (q *call) noQueryOptions() bool {
	for k := range q.r.URL.Query() {
		if strings.HasPrefix(k, "$") {
			q.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Query option '%s' is not allowed.", k))
			return false
		}
	}
	return true
}

// getExchangeSettings is GET /users/{id}/settings/exchange (WIRE §M2.1). A
// user without an Exchange Online mailbox is ⚠ unconfirmed; the emulator
// answers 404 ErrorMailboxNotFound (one of the candidates §M2.1 lists), so a
// client must treat any 4xx as "no mailbox id".
func (s *Server) getExchangeSettings(q *call) {
	if !q.worldwideOnly("exchange") || !q.noQueryOptions() {
		return
	}
	id := q.r.PathValue("id")
	u := s.tenant.resolveUser(id)
	switch {
	case u == nil:
		q.graphNotFound(id)
	case !u.mailbox:
		q.graphError(http.StatusNotFound, "ErrorMailboxNotFound", fmt.Sprintf("The user '%s' has no mailbox in Exchange Online.", id))
	default:
		q.writeGraph(http.StatusOK, jsonObject{
			{"@odata.context", s.url + "/v1.0/$metadata#users('" + odataKey(id) + "')/settings/exchange/$entity"},
			{"primaryMailboxId", s.tenant.mailboxID(u)},
		})
	}
}

// listMailboxFolders is GET /admin/exchange/mailboxes/{mailbox}/folders
// (WIRE §M2.2): $select, $filter (`prop eq 'v'` on type, displayName,
// wellKnownName), $top and $skip, pages linked by an @odata.nextLink
// carrying $skip.
func (s *Server) listMailboxFolders(q *call) {
	mailbox := s.adminMailbox(q, mailboxFolderReadPermissions)
	if mailbox == nil {
		return
	}
	query := q.r.URL.Query()
	for _, opt := range []string{"$orderby", "$count", "$expand", "$search", "$skiptoken"} {
		if query.Has(opt) {
			q.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Query option '%s' is not supported by the emulated tenant.", opt))
			return
		}
	}
	top, ok := q.queryInt("$top", mailboxFolderPageSize, 1, 1000)
	if !ok {
		return
	}
	skip, ok := q.queryInt("$skip", 0, 0, 1<<30)
	if !ok {
		return
	}
	selected, ok := q.graphSelect(mailboxFolderProperties, "mailboxFolder")
	if !ok {
		return
	}
	filter, ok := q.graphFilter("type", "displayName", "wellKnownName")
	if !ok {
		return
	}
	t := s.tenant
	mailboxURL := s.url + "/v1.0/admin/exchange/mailboxes/" + t.mailboxID(mailbox)
	var folders []jsonObject
	for _, f := range mailboxFolders {
		info := ewsFolders[f.folder]
		if !filter.matches(map[string]string{"type": info.class, "displayName": info.displayName, "wellKnownName": f.wellKnownName}) {
			continue
		}
		folder := jsonObject{{"@odata.type", "#microsoft.graph.mailboxFolder"},
			{"id", t.graphFolderID(mailbox, f.folder)}, {"displayName", info.displayName},
			{"parentFolderId", t.graphFolderID(mailbox, "msgfolderroot")}, {"parentMailboxUrl", mailboxURL},
			{"childFolderCount", 0}, {"totalItemCount", 0}, {"wellKnownName", nullIfEmpty(f.wellKnownName)},
			{"type", info.class}}
		if selected != nil {
			folder = selectObject(folder, append([]string{"@odata.type"}, selected...))
		}
		folders = append(folders, folder)
	}
	page, next := pageAt(folders, skip, top)
	context := s.url + "/v1.0/$metadata#admin/exchange/mailboxes/" + t.mailboxID(mailbox) + "/folders"
	if selected != nil {
		context += "(" + strings.Join(selected, ",") + ")"
	}
	body := jsonObject{{"@odata.context", context}, {"value", page}}
	if next != "" {
		query.Set("$skip", strconv.Itoa(skip+top))
		body = append(body, jsonField{"@odata.nextLink", s.url + q.r.URL.Path + "?" + query.Encode()})
	}
	q.writeGraph(http.StatusOK, body)
}

// queryInt reads an integer query option within [lo, hi]; def when absent.
// False when it has written the 400.
func (q *call) queryInt(name string, def, lo, hi int) (int, bool) {
	raw := q.r.URL.Query().Get(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		q.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The value '%s' of the query option '%s' is invalid.", raw, name))
		return 0, false
	}
	return n, true
}

// createImportSession is POST /admin/exchange/mailboxes/{mailbox}/createImportSession
// (WIRE §M2.5): no body; a pre-authenticated importUrl on the import host
// and its expiry. The session is recorded; nothing of the mailbox changes.
func (s *Server) createImportSession(q *call) {
	mailbox := s.adminMailbox(q, mailboxImportPermissions)
	if mailbox == nil {
		return
	}
	if body, _ := readBody(q.r); len(strings.TrimSpace(string(body))) > 0 {
		q.graphError(http.StatusBadRequest, "BadRequest", "The action 'createImportSession' does not take a request body.")
		return
	}
	t := s.tenant
	now := s.clock().UTC().Truncate(100 * time.Nanosecond) // the 7 digits of expirationDateTime
	session := &importSession{id: t.newID("import-session", mailbox.oid), mailboxID: t.mailboxID(mailbox),
		upn: mailbox.upn, token: randomToken(48), createdBy: q.c.name(), createdAt: now, expiresAt: now.Add(importSessionLifetime)}
	t.importSessions = append(t.importSessions, session)
	q.writeGraph(http.StatusOK, jsonObject{
		{"@odata.context", s.url + "/v1.0/$metadata#microsoft.graph.mailboxItemImportSession"},
		{"importUrl", s.cluster.importURL + importItemPath(session.mailboxID) + "?authtoken=" + url.QueryEscape(session.token)},
		{"expirationDateTime", session.expiresAt.Format("2006-01-02T15:04:05.0000000Z")},
	})
}
