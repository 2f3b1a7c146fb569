package emulator

import "net/http"

// The control API's view of Graph's mailbox import API (WIRE §M2.5–§M2.6):
// the import sessions created and every POST to an import URL, so a test can
// assert what a probe did (a session per mailbox) and did not do (upload).

// ImportSessions are the import sessions created since the seed (or the
// last Reset), oldest first; never their authtoken.
func (s *Server) ImportSessions() []ImportSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ImportSession{}
	for _, session := range s.tenant.importSessions {
		out = append(out, session.view())
	}
	return out
}

// ImportUploads are every POST made to an import URL of this tenant,
// accepted or not, oldest first.
func (s *Server) ImportUploads() []ImportUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ImportUpload{}
	for _, u := range s.tenant.importUploads {
		out = append(out, u.view())
	}
	return out
}

// ImportURL is the base URL of the import host, where importUrls point (a
// listener of its own, like outlook.office365.com beside Graph's host).
func (s *Server) ImportURL() string { return s.cluster.importURL }

// getControlImportSessions is GET /_emulator/import-sessions:
// {"sessions":[…],"uploads":[…]}.
func (s *Server) getControlImportSessions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Sessions []ImportSession `json:"sessions"`
		Uploads  []ImportUpload  `json:"uploads"`
	}{s.ImportSessions(), s.ImportUploads()})
}
