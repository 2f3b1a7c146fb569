package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The calls of Microsoft Graph's mailbox import and export API that prove an application may
// import into a mailbox without changing it (WIRE.md §M2, §M5.2): the mailbox id, one folder,
// and an import session whose upload URL is discarded. Errors are classified by status only
// (§M2.10: the bodies are undocumented): Status(err) is 403 for a refusal, 404 for a user or
// mailbox that does not exist.

// GetPrimaryMailboxID reads the Exchange Online mailbox id of a user
// (GET /users/{id}/settings/exchange → primaryMailboxId, §M2.1; User.Read.All). The id is
// opaque ("MBX:…@…").
func (c *Client) GetPrimaryMailboxID(ctx context.Context, idOrUPN string) (string, error) {
	s, err := get[exchangeSettings](ctx, c, "/users/"+escapeSegment(idOrUPN)+"/settings/exchange")
	if err != nil {
		return "", err
	}
	return s.PrimaryMailboxID, nil
}

type exchangeSettings struct {
	PrimaryMailboxID string `json:"primaryMailboxId"`
}

func (s *exchangeSettings) malformed() string { return need("primaryMailboxId", s.PrimaryMailboxID) }

// ProbeMailboxFolders lists at most one folder of the mailbox, its id only
// (GET /admin/exchange/mailboxes/{id}/folders?$top=1&$select=id, §M2.2;
// MailboxFolder.Read.All or .ReadWrite.All, or an RBAC role whose scope holds the mailbox).
func (c *Client) ProbeMailboxFolders(ctx context.Context, mailboxID string) error {
	var page listPage
	return c.call(ctx, http.MethodGet, "/admin/exchange/mailboxes/"+escapeSegment(mailboxID)+"/folders?$top=1&$select=id", &page)
}

// ImportSession is what the provider keeps of a mailbox import session: that it was created,
// and when it expires. The upload URL itself is not kept (ImportURL).
type ImportSession struct {
	ExpiresAt time.Time
}

// CreateImportSession creates an import session for the mailbox
// (POST /admin/exchange/mailboxes/{id}/createImportSession, no body, 200 or 201, §M2.5;
// MailboxItem.ImportExport.All, or the role Application MailboxItem.ImportExport whose scope
// holds the mailbox). It proves the application may import into the mailbox; Microsoft
// documents no change to the mailbox from it (§M5.1). The answer's importUrl is a
// pre-authenticated upload URL, a live credential until it expires: it is decoded into an
// ImportURL, never posted to, and dropped here.
func (c *Client) CreateImportSession(ctx context.Context, mailboxID string) (*ImportSession, error) {
	var a importSessionAnswer
	// A second session after a lost answer changes nothing either (the first one only
	// expires), so the POST may be sent again: Recover says the first did not count.
	again := func(context.Context) (bool, error) { return false, nil }
	if err := c.send(ctx, http.MethodPost, "/admin/exchange/mailboxes/"+escapeSegment(mailboxID)+"/createImportSession", nil, &a, again); err != nil {
		return nil, err
	}
	s := &ImportSession{ExpiresAt: a.ExpirationDateTime}
	a.ImportURL = ImportURL{}
	return s, nil
}

type importSessionAnswer struct {
	ImportURL          ImportURL `json:"importUrl"`
	ExpirationDateTime time.Time `json:"expirationDateTime"`
}

func (a *importSessionAnswer) malformed() string {
	if p := need("importUrl", a.ImportURL.url); p != "" {
		return p
	}
	if a.ExpirationDateTime.IsZero() {
		return "no `expirationDateTime`"
	}
	return ""
}

// ImportURL is the pre-authenticated upload URL of an import session (its authtoken query
// parameter is a bearer credential, WIRE.md §M2.5, §M5.1). It reads itself from JSON and
// shows itself nowhere: every way of printing or encoding it gives "[redacted importUrl]".
type ImportURL struct{ url string }

const redactedImportURL = "[redacted importUrl]"

// UnmarshalJSON reads the URL from its JSON string.
func (u *ImportURL) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	u.url = s
	return nil
}

func (u ImportURL) String() string               { return redactedImportURL }
func (u ImportURL) GoString() string             { return redactedImportURL }
func (u ImportURL) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redactedImportURL)) }
func (u ImportURL) MarshalJSON() ([]byte, error) { return json.Marshal(redactedImportURL) }
func (u ImportURL) MarshalText() ([]byte, error) { return []byte(redactedImportURL), nil }
