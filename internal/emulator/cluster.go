package emulator

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Cluster is one HTTPS server (one listener, one CA, one URL, one control
// token) in front of one or more emulated tenants, as Microsoft's endpoints
// serve every tenant at the same hosts. Each tenant is a *Server with its own
// state, tokens, counters, faults, delays and control API; a request goes to
// the tenant Microsoft would route it to (tenantFor).
type Cluster struct {
	url          string
	caPEM        []byte
	caFile       string
	removeCAFile bool
	controlToken string
	httpServer   *http.Server
	importURL    string       // the upload host of import sessions (outlook.office365.com, WIRE §M2.5)
	importServer *http.Server // its own listener, same CA
	tenants      []*Server
	byName       map[string]*Server // lower-case tenant GUID and verified domains
}

// StartTenants validates the seeds (no two may share a tenant id or a
// domain), generates the TLS certificates, writes the CA PEM and starts
// serving every tenant at one URL. Options apply to each tenant. The server
// is listening when StartTenants returns. The first seed's tenant answers
// what names no tenant (see tenantFor) and the control API's /_emulator/…
// paths; /_emulator/tenants/{tenant id or domain}/… address any tenant.
func StartTenants(seeds []*Seed, opts Options) (*Cluster, error) {
	own, err := privateSeeds(seeds)
	if err != nil {
		return nil, err
	}
	c := &Cluster{controlToken: opts.ControlToken, byName: map[string]*Server{}}
	if c.controlToken == "" {
		c.controlToken = randomToken(24)
	}
	leaf, caPEM, err := newCertificates(time.Now())
	if err != nil {
		return nil, fmt.Errorf("emulator: certificates: %w", err)
	}
	c.caPEM = caPEM
	if err := c.writeCAFile(opts.CAFile); err != nil {
		return nil, err
	}
	ln, addr, err := listen(opts.Addr)
	if err != nil {
		c.removeCA()
		return nil, err
	}
	c.url = "https://" + urlHost(addr)
	for _, seed := range own {
		s := newServer(seed, opts, c)
		if len(own) > 1 {
			s.logName = " tenant=" + seed.Domains[0]
		}
		c.tenants = append(c.tenants, s)
		c.byName[strings.ToLower(seed.TenantID)] = s
		for _, d := range seed.Domains {
			c.byName[d] = s
		}
	}
	c.httpServer = &http.Server{
		Handler:           c,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: a connection-reset fault needs http.Hijacker.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(logWriter{opts.Logf}, "", 0),
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	// The import sessions' upload URLs live on another host than Graph
	// (outlook.office365.com, WIRE §M2.5): a second listener on the same
	// address and a free port, under the same CA.
	importLn, importAddr, err := listen(net.JoinHostPort(addr.IP.String(), "0"))
	if err != nil {
		_ = ln.Close()
		c.removeCA()
		return nil, err
	}
	c.importURL = "https://" + urlHost(importAddr)
	c.importServer = &http.Server{
		Handler:           http.HandlerFunc(c.serveImport),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          log.New(logWriter{opts.Logf}, "", 0),
	}
	go func() { _ = c.httpServer.Serve(tls.NewListener(ln, tlsConfig)) }()
	go func() { _ = c.importServer.Serve(tls.NewListener(importLn, tlsConfig)) }()
	return c, nil
}

// privateSeeds validates private copies of the seeds (Validate fills
// defaults, and callers may share seeds) and lists every tenant id or domain
// that two seeds share.
func privateSeeds(seeds []*Seed) ([]*Seed, error) {
	if len(seeds) == 0 {
		return nil, errors.New("emulator: no seed")
	}
	own := make([]*Seed, len(seeds))
	owner := map[string]int{} // lower-case tenant id or domain → index of its seed
	var clashes []error
	for i, seed := range seeds {
		if seed == nil {
			return nil, fmt.Errorf("emulator: seeds[%d] is nil", i)
		}
		data, err := json.Marshal(seed)
		if err != nil {
			return nil, err
		}
		if own[i], err = ParseSeed(data); err != nil {
			if len(seeds) > 1 {
				err = fmt.Errorf("seeds[%d]: %w", i, err)
			}
			return nil, err
		}
		for _, name := range append([]string{strings.ToLower(own[i].TenantID)}, own[i].Domains...) {
			if j, taken := owner[name]; taken {
				clashes = append(clashes, fmt.Errorf("seeds[%d] (%s) and seeds[%d] (%s) both have %s",
					j, own[j].DisplayName, i, own[i].DisplayName, name))
				continue
			}
			owner[name] = i
		}
	}
	if len(clashes) > 0 {
		return nil, fmt.Errorf("emulator: tenants must not share a tenant id or a domain: %w", errors.Join(clashes...))
	}
	return own, nil
}

// listen opens the TCP listener (default 127.0.0.1, a free port).
func listen(addr string) (net.Listener, *net.TCPAddr, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: listen: %w", err)
	}
	tcpAddr, ok := ln.Addr().(*net.TCPAddr)
	if !ok { // a "tcp" listener has a TCP address; anything else is a bug
		_ = ln.Close()
		return nil, nil, fmt.Errorf("emulator: listen: %v is not a TCP address", ln.Addr())
	}
	return ln, tcpAddr, nil
}

// urlHost is host:port for the URL; an unspecified listen address is reached via 127.0.0.1.
func urlHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

func (c *Cluster) writeCAFile(path string) error {
	c.caFile = path
	if c.caFile == "" {
		f, err := os.CreateTemp("", "o365-emulator-ca-*.pem")
		if err != nil {
			return fmt.Errorf("emulator: CA file: %w", err)
		}
		c.caFile, c.removeCAFile = f.Name(), true
		_ = f.Close()
	}
	if err := os.WriteFile(c.caFile, c.caPEM, 0o644); err != nil {
		return fmt.Errorf("emulator: CA file: %w", err)
	}
	return nil
}

func (c *Cluster) removeCA() {
	if c.removeCAFile {
		_ = os.Remove(c.caFile)
	}
}

// URL is the base URL of every surface of every tenant.
func (c *Cluster) URL() string { return c.url }

// CAFile is the path of the PEM file holding the emulator's CA certificate.
func (c *Cluster) CAFile() string { return c.caFile }

// CAPEM is the emulator's CA certificate in PEM form.
func (c *Cluster) CAPEM() []byte { return bytes.Clone(c.caPEM) }

// ControlToken is the bearer token of the control API (every tenant's).
func (c *Cluster) ControlToken() string { return c.controlToken }

// Tenants are the tenants in the order of their seeds.
func (c *Cluster) Tenants() []*Server { return append([]*Server(nil), c.tenants...) }

// Tenant is the tenant with that GUID or verified domain (any case), or nil.
func (c *Cluster) Tenant(name string) *Server { return c.byName[strings.ToLower(name)] }

// ImportURL is the base URL of the import sessions' upload host (the
// outlook.office365.com of WIRE §M2.5), another listener than URL.
func (c *Cluster) ImportURL() string { return c.importURL }

// Close stops the servers and removes a temporary CA file.
func (c *Cluster) Close() error {
	err := errors.Join(c.httpServer.Close(), c.importServer.Close())
	c.removeCA()
	return err
}

// ServeHTTP hands each request to its tenant; the cluster itself answers only
// the control API's list of tenants and its unknown tenants.
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/_emulator/tenants"); ok && (rest == "" || rest[0] == '/') {
		c.serveTenantControl(w, r, strings.TrimPrefix(rest, "/"))
		return
	}
	if strings.HasPrefix(r.URL.Path, importPathPrefix) {
		// The upload route lives on the import host only.
		http.NotFound(w, r)
		return
	}
	c.tenantFor(r).ServeHTTP(w, r)
}

// serveImport is the import host: uploads to an importUrl go to the tenant
// of the mailbox in the path (its id ends in the tenant GUID), else to the
// tenant that issued the authtoken, else to the first; anything else is 404.
func (c *Cluster) serveImport(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, importPathPrefix) {
		http.NotFound(w, r)
		return
	}
	s := c.tenants[0]
	if _, tenantID, ok := strings.Cut(importMailboxOf(r.URL.Path), "@"); ok && c.Tenant(tenantID) != nil {
		s = c.Tenant(tenantID)
	} else {
		for _, t := range c.tenants {
			if t.hasImportToken(r.URL.Query().Get("authtoken")) {
				s = t
			}
		}
	}
	s.ServeHTTP(w, r)
}

// tenantFor picks the tenant Microsoft would route r to: the identity
// platform and the Exchange admin API by the tenant (GUID or domain) in the
// path, home realm discovery by the user's domain, Graph and EWS by the
// tenant that issued the bearer token, EWS Basic by the UPN's domain. The
// first tenant answers the rest, which gives Microsoft's answer for an
// unknown tenant or token (AADSTS90002, a 401).
func (c *Cluster) tenantFor(r *http.Request) *Server {
	p := r.URL.Path
	var s *Server
	switch {
	case strings.HasPrefix(p, "/_emulator/"), p == "/common/discovery/instance":
	case strings.HasPrefix(p, "/common/UserRealm/"):
		s = c.byUser(strings.TrimPrefix(p, "/common/UserRealm/"))
	case strings.HasPrefix(p, "/v1.0/"), strings.HasPrefix(p, "/EWS/"):
		s = c.byCredentials(r)
	case strings.HasPrefix(p, "/adminapi/beta/"):
		name, _, _ := strings.Cut(strings.TrimPrefix(p, "/adminapi/beta/"), "/")
		// A tenant no one knows: the token's issuer answers Exchange's 404.
		if s = c.Tenant(name); s == nil {
			s = c.byCredentials(r)
		}
	default:
		s = c.byIdentityPath(r, p)
	}
	if s == nil {
		return c.tenants[0]
	}
	return s
}

// byIdentityPath routes /{tenant}/…: a GUID or domain names its tenant; a
// token request to /organizations or /common goes to the user's home tenant
// (the username's domain, or the tenant that issued the refresh token).
func (c *Cluster) byIdentityPath(r *http.Request, p string) *Server {
	name, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if s := c.Tenant(name); s != nil {
		return s
	}
	if rest != "oauth2/v2.0/token" || r.Method != http.MethodPost || r.ParseForm() != nil {
		return nil
	}
	switch r.PostForm.Get("grant_type") {
	case "password":
		return c.byUser(r.PostForm.Get("username"))
	case "refresh_token":
		token := r.PostForm.Get("refresh_token")
		for _, s := range c.tenants {
			if s.issued(token, true) {
				return s
			}
		}
	}
	return nil
}

// byCredentials finds the tenant that issued a bearer token, or the one of a
// Basic user's domain.
func (c *Cluster) byCredentials(r *http.Request) *Server {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		token := strings.TrimSpace(value)
		for _, s := range c.tenants {
			if s.issued(token, false) {
				return s
			}
		}
	case "basic":
		if user, _, ok := r.BasicAuth(); ok {
			return c.byUser(user)
		}
	}
	return nil
}

// byUser is the tenant of a UPN's domain.
func (c *Cluster) byUser(upn string) *Server {
	at := strings.LastIndexByte(upn, '@')
	if at < 0 {
		return nil
	}
	return c.Tenant(upn[at+1:])
}

// issued reports whether this tenant issued the access (or refresh) token.
func (s *Server) issued(token string, refresh bool) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if refresh {
		return s.refreshTokens[token] != nil
	}
	return s.accessTokens[token] != nil
}

// serveTenantControl is /_emulator/tenants (the list) and
// /_emulator/tenants/{tenant}/… (that tenant's /_emulator/…).
func (c *Cluster) serveTenantControl(w http.ResponseWriter, r *http.Request, rest string) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(c.controlToken)) != 1 {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the control API needs Authorization: Bearer <control token>"})
		return
	}
	name, tail, _ := strings.Cut(rest, "/")
	switch s := c.Tenant(name); {
	case name == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string][]Tenant{"tenants": c.tenantList()})
	case name == "":
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET /_emulator/tenants lists the tenants"})
	case s == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("tenant %q: not found (a tenant id or one of its domains)", name)})
	default:
		prefix := "/_emulator/tenants/" + name
		r.URL.Path = "/_emulator/" + tail
		raw, found := strings.CutPrefix(r.URL.RawPath, prefix)
		r.URL.RawPath = ""
		if found {
			r.URL.RawPath = "/_emulator" + raw
		}
		s.ServeHTTP(w, r)
	}
}

func (c *Cluster) tenantList() []Tenant {
	list := make([]Tenant, 0, len(c.tenants))
	for _, s := range c.tenants {
		list = append(list, s.Snapshot().Tenant)
	}
	return list
}
