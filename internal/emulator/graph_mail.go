package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Mailbox access through Graph (WIRE §I12): the probe an app-only
// connection uses to verify that it reaches a mailbox.

// graphMailFolders are the well-known folder names Graph accepts, mapped to
// the emulator's folders (shared with EWS, so ids agree per mailbox).
var graphMailFolders = map[string]string{
	"msgfolderroot": "msgfolderroot", "inbox": "inbox", "drafts": "drafts", "sentitems": "sentitems",
	"deleteditems": "deleteditems", "junkemail": "junkemail", "outbox": "outbox", "archive": "archiveroot",
	"conversationhistory": "conversationhistory", "syncissues": "syncissues", "searchfolders": "searchfolders",
}

var (
	mailFolderProperties = []string{"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount",
		"totalItemCount", "sizeInBytes", "isHidden"}
	messageProperties = []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories",
		"receivedDateTime", "sentDateTime", "hasAttachments", "internetMessageId", "subject", "bodyPreview",
		"importance", "parentFolderId", "conversationId", "isRead", "isDraft", "webLink", "body", "sender",
		"from", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag"}
)

// mailReadPermissions open a mailbox for reading (WIRE §I12).
var mailReadPermissions = []string{"Mail.Read", "Mail.ReadWrite"}

// mailboxTarget resolves the mailbox of /me/… or /users/{id}/… and checks
// that the caller may read it, writing Graph's answer when not: 400 for /me
// with an app-only token, 404 ErrorInvalidUser for an unknown user, 404
// MailboxNotEnabledForRESTAPI or ResourceNotFound (alternately: both are seen
// for the same user) for a user without a mailbox, 403 ErrorAccessDenied
// without a mail permission in the token or an in-scope RBAC assignment
// (WIRE §J7.1). Needs s.mu.
func (s *Server) mailboxTarget(q *call) *user {
	t, c := s.tenant, q.c
	id := q.r.PathValue("id")
	target := c.user
	switch {
	case id == "" && c.appOnly():
		q.graphError(http.StatusBadRequest, "BadRequest", meAppOnly)
		return nil
	case id != "":
		if target = t.resolveUser(id); target == nil {
			q.graphError(http.StatusNotFound, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", id))
			return nil
		}
	}
	if !target.mailbox {
		t.noMailboxAnswers++
		if t.noMailboxAnswers%2 == 1 {
			q.graphError(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.")
		} else {
			q.graphError(http.StatusNotFound, "ResourceNotFound", "Resource could not be discovered.")
		}
		return nil
	}
	if !s.mayReadMail(c, target) {
		q.graphError(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return nil
	}
	return target
}

// mayReadMail: a user reads their own mailbox (delegate access is not
// modelled); an application needs Mail.Read or Mail.ReadWrite in its token
// (tenant-wide) or an Exchange application role covering the mailbox, once
// the RBAC delay has passed (mayUseMailbox). Needs s.mu.
func (s *Server) mayReadMail(c *caller, mailbox *user) bool {
	if !c.appOnly() {
		return c.user == mailbox
	}
	return s.mayUseMailbox(c, mailbox, mailReadPermissions)
}

// graphFolderID is the REST id of a mailbox folder: the EWS id's bytes in
// URL-safe base64, as Graph ids look (WIRE §I12 example).
func (t *tenant) graphFolderID(mailbox *user, folder string) string {
	ewsID, _ := t.folderID(mailbox, folder)
	raw, _ := base64.StdEncoding.DecodeString(ewsID)
	return base64.URLEncoding.EncodeToString(raw)
}

// getMailFolder is GET /users/{id}/mailFolders/{folder} and /me/mailFolders/{folder}.
func (s *Server) getMailFolder(q *call) {
	mailbox := s.mailboxTarget(q)
	if mailbox == nil {
		return
	}
	t := s.tenant
	name := strings.ToLower(q.r.PathValue("folder"))
	folder, ok := graphMailFolders[name]
	if !ok {
		for _, f := range graphMailFolders {
			if t.graphFolderID(mailbox, f) == q.r.PathValue("folder") {
				folder, ok = f, true
			}
		}
	}
	if !ok {
		q.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	selected, ok := q.graphSelect(mailFolderProperties, "mailFolder")
	if !ok {
		return
	}
	context := s.url + "/v1.0/$metadata#users('" + odataKey(mailbox.upn) + "')/mailFolders"
	if selected == nil {
		selected = mailFolderProperties
		context += "/$entity"
	} else {
		context += "(" + strings.Join(selected, ",") + ")/$entity"
	}
	parent := ""
	if folder != "msgfolderroot" {
		parent = t.graphFolderID(mailbox, "msgfolderroot")
	} else {
		parent = t.graphFolderID(mailbox, "root")
	}
	values := map[string]any{"id": t.graphFolderID(mailbox, folder), "displayName": ewsFolders[folder].displayName,
		"parentFolderId": parent, "childFolderCount": 0, "unreadItemCount": 0, "totalItemCount": 0,
		"sizeInBytes": 0, "isHidden": false}
	body := jsonObject{{"@odata.context", context}}
	for _, p := range selected {
		body = append(body, jsonField{p, values[p]})
	}
	q.writeGraph(http.StatusOK, body)
}

// listMessages is GET /users/{id}/messages (and /me/messages, and a
// folder's messages): the emulated mailboxes are empty, so value is [].
func (s *Server) listMessages(q *call) {
	mailbox := s.mailboxTarget(q)
	if mailbox == nil {
		return
	}
	if f := q.r.PathValue("folder"); f != "" {
		if _, ok := graphMailFolders[strings.ToLower(f)]; !ok {
			q.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
			return
		}
	}
	if top := q.r.URL.Query().Get("$top"); top != "" {
		if n, err := strconv.Atoi(top); err != nil || n < 1 || n > 1000 {
			q.graphError(http.StatusBadRequest, "ErrorInvalidUrlQuery", fmt.Sprintf("The value '%s' of the query option '$top' is invalid.", top))
			return
		}
	}
	selected, ok := q.graphSelect(messageProperties, "message")
	if !ok {
		return
	}
	context := s.url + "/v1.0/$metadata#users('" + odataKey(mailbox.upn) + "')/messages"
	if selected != nil {
		context += "(" + strings.Join(selected, ",") + ")"
	}
	q.writeGraph(http.StatusOK, jsonObject{{"@odata.context", context}, {"value", []jsonObject{}}})
}

// odataKey escapes a key inside an OData context URL as Graph does
// ("users('user1%40contoso.com')", WIRE §I12).
func odataKey(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "@", "%40")
}
