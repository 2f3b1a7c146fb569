package emulator

import (
	"slices"
	"strings"
	"time"
)

// The import sessions of Graph's mailbox import API (WIRE §M2.5) and every
// upload posted to their URLs (§M2.6), as the tenant records them. Every
// access holds Server.mu; Reset forgets them with the rest of the tenant.

// importSession is one createImportSession: its upload token is a bearer
// credential (WIRE §M5.1), so the exported copy never shows it.
type importSession struct {
	id, mailboxID, upn, token, createdBy string
	createdAt, expiresAt                 time.Time
	uploads                              int
}

// importUpload is one POST to an import URL, whatever its fate.
type importUpload struct {
	at                     time.Time
	mailboxID, sessionID   string // sessionID "" when the authtoken matched no session
	status                 int
	mode, folderID, itemID string
}

// ImportSession is an import session as the control API shows it (no
// token): the mailbox, who created it, when, until when, and how many
// uploads were accepted on it.
type ImportSession struct {
	ID                string    `json:"id"`
	MailboxID         string    `json:"mailbox_id"`
	UserPrincipalName string    `json:"user_principal_name"`
	CreatedBy         string    `json:"created_by"` // the application's client id
	CreatedAt         time.Time `json:"created_at"`
	ExpiresAt         time.Time `json:"expires_at"`
	Uploads           int       `json:"uploads"`
}

// ImportUpload is one POST to an import URL: the mailbox of its path, the
// session its authtoken named ("" for none), the status answered and, for
// a well-formed body, its Mode and FolderId (the item id when accepted).
type ImportUpload struct {
	At        time.Time `json:"at"`
	MailboxID string    `json:"mailbox_id"`
	SessionID string    `json:"session_id"`
	Status    int       `json:"status"`
	Mode      string    `json:"mode,omitempty"`
	FolderID  string    `json:"folder_id,omitempty"`
	ItemID    string    `json:"item_id,omitempty"`
}

// importSessionByToken is the session whose authtoken is token, or nil.
func (t *tenant) importSessionByToken(token string) *importSession {
	if token == "" {
		return nil
	}
	i := slices.IndexFunc(t.importSessions, func(s *importSession) bool { return s.token == token })
	if i < 0 {
		return nil
	}
	return t.importSessions[i]
}

func (s *importSession) view() ImportSession {
	return ImportSession{ID: s.id, MailboxID: s.mailboxID, UserPrincipalName: s.upn, CreatedBy: s.createdBy,
		CreatedAt: s.createdAt, ExpiresAt: s.expiresAt, Uploads: s.uploads}
}

func (u *importUpload) view() ImportUpload {
	return ImportUpload{At: u.at, MailboxID: u.mailboxID, SessionID: u.sessionID, Status: u.status,
		Mode: u.mode, FolderID: u.folderID, ItemID: u.itemID}
}

// snapshotImports fills the state's import sessions and uploads.
func (t *tenant) snapshotImports(st *State) {
	st.ImportSessions, st.ImportUploads = []ImportSession{}, []ImportUpload{}
	for _, s := range t.importSessions {
		st.ImportSessions = append(st.ImportSessions, s.view())
	}
	for _, u := range t.importUploads {
		st.ImportUploads = append(st.ImportUploads, u.view())
	}
}

// hasImportToken reports whether this tenant issued the import authtoken.
func (s *Server) hasImportToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenant.importSessionByToken(token) != nil
}

// importCaller names the caller of an upload in counters and fault
// matching: the client id of the application that created the session.
func (s *Server) importCaller(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if session := s.tenant.importSessionByToken(token); session != nil {
		return strings.ToLower(session.createdBy)
	}
	return ""
}
