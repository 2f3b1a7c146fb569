// Package emulator is an emulated Microsoft 365 tenant (or several): one
// HTTPS server on loopback that speaks the identity platform, Microsoft Graph,
// the Exchange Online admin API and EWS exactly as design/WIRE.md describes
// them, plus a control API for tests (faults, latency, out-of-band changes,
// counters), each tenant with its own.
package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options tune a Server; the zero value is usable.
type Options struct {
	Addr             string        // default "127.0.0.1:0"
	CAFile           string        // where to write the CA PEM; "" = a temp file (see CAFile())
	ControlToken     string        // "" = random
	Latency          time.Duration // added to every Microsoft request
	PropagationDelay time.Duration // overrides the seed's propagation_delay when > 0
	RBACDelay        time.Duration // overrides the seed's rbac_delay when > 0 (WIRE §J7.2)
	Clock            func() time.Time
	Logf             func(format string, args ...any) // request log; never given secrets
}

// Counters count requests per route and per caller (lower-case UPN).
// Control API calls are counted under ByRoute["control"] only, not in Total.
type Counters struct {
	ByRoute     map[string]int            `json:"by_route"`
	ByUser      map[string]int            `json:"by_user"`
	ByRouteUser map[string]map[string]int `json:"by_route_user"`
	Total       int                       `json:"total"`
}

func newCounters() Counters {
	return Counters{ByRoute: map[string]int{}, ByUser: map[string]int{}, ByRouteUser: map[string]map[string]int{}}
}

// Server is one running emulated tenant: its state, tokens, counters, faults,
// delays and control API. It sits behind a Cluster (one listener, one CA, one
// URL), alone when started by Start or with others when started by StartTenants.
type Server struct {
	seed         *Seed
	opts         Options
	clock        func() time.Time
	cluster      *Cluster
	url          string // the cluster's
	controlToken string // the cluster's
	logName      string // " tenant=<initial domain>" in the request log of a cluster of several
	mux          *http.ServeMux
	routeOf      map[string]string // mux pattern → route name
	control      *http.ServeMux

	// Page sizes; tests in this package lower them to exercise paging.
	graphPageSize    int
	exchangePageSize int

	mu               sync.Mutex // guards everything below
	tenant           *tenant
	accessTokens     map[string]*accessToken
	refreshTokens    map[string]*refreshToken
	faults           []*activeFault
	faultSequence    int
	latency          time.Duration
	propagationDelay time.Duration
	rbacDelay        time.Duration // RBAC for Applications cache (WIRE §J7.2)
	counters         Counters
}

// Start validates the seed, generates the TLS certificates, writes the CA PEM
// and starts serving one tenant: a Cluster of one (see StartTenants). The
// server is listening when Start returns.
func Start(seed *Seed, opts Options) (*Server, error) {
	if seed == nil {
		return nil, errors.New("emulator: nil seed")
	}
	c, err := StartTenants([]*Seed{seed}, opts)
	if err != nil {
		return nil, err
	}
	return c.tenants[0], nil
}

// newServer makes the tenant of a validated private seed behind cluster c.
func newServer(seed *Seed, opts Options, c *Cluster) *Server {
	s := &Server{seed: seed, opts: opts, clock: opts.Clock, cluster: c, url: c.url, controlToken: c.controlToken,
		graphPageSize: 100, exchangePageSize: 1000,
		accessTokens: map[string]*accessToken{}, refreshTokens: map[string]*refreshToken{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.resetLocked()
	s.routes()
	return s
}

// URL is the base URL of every surface, e.g. "https://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// CAFile is the path of the PEM file holding the emulator's CA certificate.
func (s *Server) CAFile() string { return s.cluster.CAFile() }

// CAPEM is the emulator's CA certificate in PEM form.
func (s *Server) CAPEM() []byte { return s.cluster.CAPEM() }

// ControlToken is the bearer token of the control API.
func (s *Server) ControlToken() string { return s.controlToken }

// TenantID is the tenant GUID.
func (s *Server) TenantID() string { return s.seed.TenantID }

// InitialDomain is the tenant's initial (*.onmicrosoft.*) domain, the seed's first.
func (s *Server) InitialDomain() string { return s.seed.Domains[0] }

// Close stops the server (with every tenant of its cluster) and removes a
// temporary CA file.
func (s *Server) Close() error { return s.cluster.Close() }

// Reset returns to the seed: state, latency, propagation delay, counters and
// faults. Issued tokens stay valid (they are checked against the state anyway).
func (s *Server) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	return nil
}

func (s *Server) resetLocked() {
	s.tenant = newTenant(s.seed, s.clock())
	s.latency = s.opts.Latency
	s.propagationDelay = s.seed.PropagationDelay
	if s.opts.PropagationDelay > 0 {
		s.propagationDelay = s.opts.PropagationDelay
	}
	s.rbacDelay = s.seed.RBACDelay
	if s.opts.RBACDelay > 0 {
		s.rbacDelay = s.opts.RBACDelay
	}
	s.faults = nil
	s.counters = newCounters()
}

// ServeHTTP runs every request through the same steps: classify the route,
// identify the caller, add latency, count, apply injected faults, then the
// operation's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	handler, route := http.Handler(s.mux), "control"
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		handler = http.HandlerFunc(s.serveControl)
	} else {
		s.rewriteAlternateKey(r)
		_, pattern := s.mux.Handler(r)
		route = s.routeOf[pattern]
		if route == exchangeRoutePrefix {
			route = exchangeRoute(r)
		}
	}
	caller := s.callerOf(r, route)
	if route != "" && route != "control" {
		s.mu.Lock()
		latency := s.latency
		s.mu.Unlock()
		if latency > 0 && !sleepContext(r, latency) {
			return
		}
	}
	s.count(route, caller)
	switch f := s.nextFault(route, caller); {
	case f != nil && f.DropResponse:
		dropResponse(sw, r, handler, f)
	case f != nil && slices.Contains(answers, f.Answer):
		brokenAnswer(sw, r, handler, f)
	case f == nil || !s.applyFault(sw, r, route, f):
		handler.ServeHTTP(sw, r)
	}
	if s.opts.Logf != nil {
		s.opts.Logf("%s %s%s route=%s user=%s status=%d %s", r.Method, r.URL.Path, s.logName, route, caller, sw.status, time.Since(started).Round(time.Millisecond))
	}
}

func (s *Server) count(route, caller string) {
	if route == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters.ByRoute[route]++
	if route == "control" {
		return
	}
	s.counters.Total++
	if caller != "" {
		s.counters.ByUser[caller]++
		if s.counters.ByRouteUser[route] == nil {
			s.counters.ByRouteUser[route] = map[string]int{}
		}
		s.counters.ByRouteUser[route][caller]++
	}
}

// callerOf names the caller (lower-case UPN) from the token request, a bearer
// token or Basic credentials; "" when unknown.
func (s *Server) callerOf(r *http.Request, route string) string {
	if route == "token" {
		if err := r.ParseForm(); err != nil {
			return ""
		}
		if r.PostForm.Get("grant_type") == "refresh_token" {
			s.mu.Lock()
			defer s.mu.Unlock()
			if rt := s.refreshTokens[r.PostForm.Get("refresh_token")]; rt != nil {
				return rt.upn
			}
			return ""
		}
		if r.PostForm.Get("grant_type") == "client_credentials" {
			id := r.PostForm.Get("client_id")
			if basicID, _, ok := clientBasicAuth(r); ok && id == "" {
				id = basicID
			}
			return strings.ToLower(id)
		}
		return strings.ToLower(r.PostForm.Get("username"))
	}
	switch route {
	case "control":
		return ""
	case importRoute:
		return s.importCaller(r.URL.Query().Get("authtoken"))
	}
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		s.mu.Lock()
		defer s.mu.Unlock()
		if t := s.accessTokens[strings.TrimSpace(value)]; t != nil {
			if t.appOnly {
				return t.appID
			}
			return t.upn
		}
	case "basic":
		if user, _, ok := r.BasicAuth(); ok {
			return strings.ToLower(user)
		}
	}
	return ""
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the Hijacker.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jsonObject is a JSON object that keeps its keys in order, so bodies read
// like Microsoft's (annotations next to their property).
type jsonObject []jsonField

type jsonField struct {
	key   string
	value any
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	writeJSONType(w, status, "application/json; charset=utf-8", body)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// readBody reads at most 4 MiB and leaves the body readable again.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data, err
}

// logWriter sends net/http's own messages (TLS handshake errors…) to
// Options.Logf, or nowhere.
type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	if w.logf != nil {
		w.logf("%s", bytes.TrimSpace(p))
	}
	return len(p), nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
