package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The upload route of Graph's import sessions (WIRE §M2.6), on the import
// host (outlook.office365.com; Cluster.serveImport): POST to the importUrl
// createImportSession gave, with no Authorization header, the authtoken in
// the query. Every POST is recorded (ImportUploads), so tests can prove a
// probe never posted. Statuses and bodies of refusals are ⚠ (§M2.10): the
// Graph error envelope, 401 for an unknown or expired authtoken, 403 for a
// URL whose mailbox is not the session's, 400 for a malformed body, 404 for
// a folder the mailbox does not have.

// importPathPrefix starts every path of the import host.
const importPathPrefix = "/api/gv1.0/"

// importRoute is the upload's route name (faults and counters).
const importRoute = "outlook.importItem"

// importItemPath is the upload path of a mailbox's sessions.
func importItemPath(mailboxID string) string {
	return importPathPrefix + "Mailboxes('" + mailboxID + "')/importItem"
}

// importMailboxOf is the mailbox id in an upload path; "" when the path is
// not one.
func importMailboxOf(path string) string {
	rest, ok := strings.CutPrefix(path, importPathPrefix+"Mailboxes('")
	if !ok {
		return ""
	}
	id, ok := strings.CutSuffix(rest, "')/importItem")
	if !ok {
		return ""
	}
	return id
}

// importItemRequest is an upload's body (WIRE §M2.6).
type importItemRequest struct {
	FolderID  string `json:"FolderId"`
	Mode      string `json:"Mode"`
	Data      string `json:"Data"`
	ItemID    string `json:"ItemId"`
	ChangeKey string `json:"ChangeKey"`
}

// importItem is POST /api/gv1.0/Mailboxes('{mailbox}')/importItem.
func (s *Server) importItem(q *call) {
	t := s.tenant
	upload := &importUpload{at: s.clock().UTC(), mailboxID: importMailboxOf(q.r.URL.Path)}
	t.importUploads = append(t.importUploads, upload)
	fail := func(status int, code, message string) {
		upload.status = status
		q.graphError(status, code, message)
	}
	session := t.importSessionByToken(q.r.URL.Query().Get("authtoken"))
	switch {
	case session == nil:
		fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "The authtoken of the import URL is not valid.")
		return
	case !s.clock().Before(session.expiresAt):
		upload.sessionID = session.id
		fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "The import session has expired.")
		return
	case !strings.EqualFold(session.mailboxID, upload.mailboxID):
		upload.sessionID = session.id
		fail(http.StatusForbidden, "ErrorAccessDenied", "Invalid import session. The target session is expected in mailbox "+session.mailboxID+".")
		return
	}
	upload.sessionID = session.id
	req, problem := parseImportItem(q.r)
	if problem != "" {
		fail(http.StatusBadRequest, "ErrorInvalidRequest", problem)
		return
	}
	upload.mode, upload.folderID = req.Mode, req.FolderID
	mailbox := t.mailboxByID(session.mailboxID)
	if mailbox == nil || !slices.ContainsFunc(mailboxFolders, func(f struct{ folder, wellKnownName string }) bool {
		return t.graphFolderID(mailbox, f.folder) == req.FolderID
	}) {
		fail(http.StatusNotFound, "ErrorItemNotFound", "The specified folder was not found in the store.")
		return
	}
	itemID := req.ItemID
	if req.Mode == "create" {
		raw := []byte(t.newID("imported-item", session.mailboxID))
		itemID = base64.URLEncoding.EncodeToString(raw[:24])
	}
	changeKey := base64.StdEncoding.EncodeToString([]byte(t.newID("change-key", itemID))[:18])
	upload.status, upload.itemID = http.StatusOK, itemID
	session.uploads++
	q.writeGraph(http.StatusOK, jsonObject{
		{"@odata.context", s.cluster.importURL + importPathPrefix + "$metadata#microsoft.graph.importMailboxItemResponse"},
		{"itemId", itemID}, {"changeKey", changeKey},
	})
}

// parseImportItem reads an upload's body: FolderId, Mode "create" (without
// ItemId and ChangeKey) or "update" (with both), Data in base64; the
// problem, "" when it is well formed.
func parseImportItem(r *http.Request) (importItemRequest, string) {
	var req importItemRequest
	data, _ := readBody(r)
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Sprintf("The request body is not a valid import request: %v.", err)
	}
	_, err := base64.StdEncoding.DecodeString(req.Data)
	switch {
	case req.FolderID == "":
		return req, "FolderId is required."
	case req.Data == "" || err != nil:
		return req, "Data must be the base64 FastTransfer stream of an exported item."
	case req.Mode == "create" && (req.ItemID != "" || req.ChangeKey != ""):
		return req, "ItemId and ChangeKey must not be given with Mode 'create'."
	case req.Mode == "update" && (req.ItemID == "" || req.ChangeKey == ""):
		return req, "ItemId and ChangeKey are required with Mode 'update'."
	case req.Mode != "create" && req.Mode != "update":
		return req, "Mode must be 'create' or 'update'."
	}
	return req, ""
}
