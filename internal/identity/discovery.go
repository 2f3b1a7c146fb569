package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// discoveryCache is the transport under every azidentity credential of a Provider. MSAL keeps
// its authority metadata per client, and azidentity makes one client per credential, so
// without it every account signing in costs two discovery GETs before its token request:
// the authority's OpenID configuration (WIRE.md §A4) and home realm discovery (§A5). Both
// answers are the same for every account of a tenant, so they are shared here for the life
// of the Provider (one provider process):
//
//   - GET …/.well-known/openid-configuration: per URL (the authority's host and tenant);
//   - GET /common/UserRealm/<user>: per host and UPN domain (home realm discovery is decided
//     by the domain: Managed or Federated, with the domain's federation metadata).
//
// Only 200 responses are kept; an error or a failed request is never cached, so the next
// caller tries again. Concurrent first callers of one key wait for one request.
type discoveryCache struct {
	next policy.Transporter

	mu      sync.Mutex
	entries map[string]*discoveryEntry
}

type discoveryEntry struct {
	done   chan struct{} // closed when the first request finished
	ok     bool
	status string
	header http.Header
	body   []byte
}

const maxDiscoveryBody = 1 << 20

func newDiscoveryCache(next policy.Transporter) *discoveryCache {
	return &discoveryCache{next: next, entries: map[string]*discoveryEntry{}}
}

// discoveryKey returns the cache key of a discovery request, or "" for any other request.
func discoveryKey(req *http.Request) string {
	if req.Method != http.MethodGet || req.URL == nil {
		return ""
	}
	p := req.URL.Path
	origin := strings.ToLower(req.URL.Scheme + "://" + req.URL.Host)
	switch {
	case strings.HasSuffix(p, "/.well-known/openid-configuration"):
		return "oidc " + origin + strings.ToLower(p) + "?" + req.URL.RawQuery
	case len(p) > len("/common/userrealm/") && strings.EqualFold(p[:len("/common/userrealm/")], "/common/userrealm/"):
		user := p[len("/common/userrealm/"):]
		at := strings.LastIndexByte(user, '@')
		if at < 0 || at == len(user)-1 || strings.Contains(user, "/") {
			return ""
		}
		return "realm " + origin + " " + strings.ToLower(user[at+1:]) + "?" + req.URL.RawQuery
	}
	return ""
}

// Do implements policy.Transporter.
func (c *discoveryCache) Do(req *http.Request) (*http.Response, error) {
	key := discoveryKey(req)
	if key == "" {
		if isTokenRequest(req) {
			resp, err := checkedToken(c.next.Do(req))
			if n, ok := req.Context().Value(tokenNoteKey{}).(*tokenNote); ok && err != nil {
				n.set(err)
			}
			return resp, err
		}
		return c.next.Do(req)
	}
	for {
		c.mu.Lock()
		e, found := c.entries[key]
		if !found {
			e = &discoveryEntry{done: make(chan struct{})}
			c.entries[key] = e
			c.mu.Unlock()
			resp, err := c.fetch(key, e, req)
			if n, ok := req.Context().Value(tokenNoteKey{}).(*tokenNote); ok && err != nil {
				// MSAL reduces a failed discovery to text too ("unable to resolve an
				// endpoint"): the note keeps the network failure that makes it retryable.
				n.set(err)
			}
			return resp, err
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		if e.ok {
			return e.response(req), nil
		}
		// The first request failed and its entry is gone: try again (possibly as the first).
	}
}

// fetch makes the request for a new entry and publishes the result.
func (c *discoveryCache) fetch(key string, e *discoveryEntry, req *http.Request) (resp *http.Response, err error) {
	defer func() {
		if !e.ok {
			c.mu.Lock()
			delete(c.entries, key)
			c.mu.Unlock()
		}
		close(e.done)
	}()
	resp, err = c.next.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody+1))
	_ = resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	if len(body) <= maxDiscoveryBody {
		e.ok, e.status, e.header, e.body = true, resp.Status, resp.Header.Clone(), body
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (e *discoveryEntry) response(req *http.Request) *http.Response {
	return &http.Response{
		Status: e.status, StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: e.header.Clone(), Body: io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)), Request: req,
	}
}

// isTokenRequest reports whether req asks the token endpoint (POST …/oauth2/v2.0/token).
func isTokenRequest(req *http.Request) bool {
	return req.Method == http.MethodPost && req.URL != nil && strings.HasSuffix(strings.ToLower(req.URL.Path), "/oauth2/v2.0/token")
}

// tokenNote carries the transport failure of a sign-in's requests (the token request and
// the discovery before it) past MSAL, which keeps only its text: the caller puts one into
// the request's context (noteToken) to classify the failure.
type tokenNote struct {
	mu  sync.Mutex
	err error
}

type tokenNoteKey struct{}

func (n *tokenNote) set(err error) {
	n.mu.Lock()
	n.err = err
	n.mu.Unlock()
}

func (n *tokenNote) get() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// noteToken returns ctx carrying a new note of its token requests' transport failures.
func noteToken(ctx context.Context) (context.Context, *tokenNote) {
	n := &tokenNote{}
	return context.WithValue(ctx, tokenNoteKey{}, n), n
}

// maxTokenBody bounds what is read of a token answer (a token is a few kilobytes).
const maxTokenBody = 1 << 20

// checkedToken passes a token answer on, unless it is a 200 without what the identity
// platform always sends with one (WIRE.md §A6): a JSON object with access_token and
// expires_in. An empty, cut or HTML answer (a proxy's page) is then a
// *transport.MalformedAnswerError, which sign-in retries, instead of whatever MSAL would
// make of it.
func checkedToken(resp *http.Response, err error) (*http.Response, error) {
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	_ = resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	var tok struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	problem := transport.DecodeJSON(&transport.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, &tok)
	switch {
	case problem != "":
	case tok.AccessToken == "":
		problem = "no access_token"
	case !validExpiresIn(tok.ExpiresIn):
		problem = "no expires_in"
	}
	if problem != "" {
		return nil, &transport.MalformedAnswerError{Service: "login", Op: "POST " + resp.Request.URL.Path, Status: resp.StatusCode, Problem: problem}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// validExpiresIn accepts expires_in as a positive number or a numeric string (both occur).
func validExpiresIn(raw json.RawMessage) bool {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false
		}
		n = json.Number(strings.TrimSpace(s))
	}
	f, err := n.Float64()
	return err == nil && f > 0
}
