// Package emuctl is the client side of a running o365-emulator process, shared by the
// project's commands (o365-emulator's wait/info/ctl subcommands, o365-bench): the info file
// the emulator writes once it listens, and a client of its control API (the emulator's own
// JSON API under /_emulator/, not Microsoft's; see internal/emulator/control.go).
package emuctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Info is the content of the file o365-emulator -info-file writes once it listens.
type Info struct {
	URL          string `json:"url"`
	CAFile       string `json:"ca_file"`
	ControlToken string `json:"control_token"`
	TenantID     string `json:"tenant_id"` // the first tenant's (the first -seed)
	// Tenants are every tenant the emulator serves at URL, in the order of its -seed flags.
	Tenants []Tenant `json:"tenants,omitempty"`
	PID     int      `json:"pid"`
}

// Tenant names one tenant of a running emulator.
type Tenant struct {
	TenantID      string `json:"tenant_id"`
	InitialDomain string `json:"initial_domain"`
}

// WriteInfo writes the info file atomically (a temporary file renamed into place), so
// that a reader polling for the file never sees it half written.
func WriteInfo(path string, info Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// CreateTemp's 0600 is kept: the file holds the control token.
	return os.Rename(f.Name(), path)
}

// ReadInfo reads an info file.
func ReadInfo(path string) (Info, error) {
	var info Info
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	if info.URL == "" || info.CAFile == "" {
		return info, fmt.Errorf("%s: no url or ca_file", path)
	}
	return info, nil
}

// Client calls the control API of one emulator: its first tenant's, or the
// tenant ForTenant names.
type Client struct {
	Info   Info
	hc     *http.Client
	tenant string
}

// New returns a client trusting the emulator's CA certificate.
func New(info Info) (*Client, error) {
	ca, err := os.ReadFile(info.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New(info.CAFile + ": no PEM certificate")
	}
	return &Client{Info: info, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}, nil
}

// Open reads the info file and returns a client for the emulator it describes.
func Open(infoFile string) (*Client, error) {
	info, err := ReadInfo(infoFile)
	if err != nil {
		return nil, err
	}
	return New(info)
}

// ForTenant returns a client whose calls address one tenant of the emulator
// (its tenant id or one of its domains) instead of the first.
func (c *Client) ForTenant(tenant string) *Client {
	tc := *c
	tc.tenant = tenant
	return &tc
}

// TenantPath is the control path of one tenant: /_emulator/tenants/{tenant}/…
// for /_emulator/…. An empty tenant, and a path that already names one, stay
// as they are (/_emulator/… is the first tenant's).
func TenantPath(tenant, path string) string {
	rest, ok := strings.CutPrefix(path, "/_emulator/")
	if tenant == "" || !ok || rest == "tenants" || strings.HasPrefix(rest, "tenants/") {
		return path
	}
	return "/_emulator/tenants/" + url.PathEscape(tenant) + "/" + rest
}

// StatusError is a control API answer outside 2xx.
type StatusError struct {
	Method, Path string
	Status       string
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do calls the control API (path starts with /_emulator/; see TenantPath) with an optional
// JSON body and returns the response body; an answer outside 2xx is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path, body string) ([]byte, error) {
	path = TenantPath(c.tenant, path)
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Info.URL, "/")+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Info.ControlToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Method: method, Path: path, Status: resp.Status, Body: strings.TrimSpace(string(b))}
	}
	return b, nil
}

// Wait returns once the info file exists and the emulator it names answers its control
// API, or fails at the deadline. With pid > 0 it fails as soon as that process is gone
// (an emulator that could not start), instead of waiting out the deadline. A file left
// by an emulator that died without removing it is not mistaken for a ready one: the
// server must answer.
func Wait(ctx context.Context, infoFile string, pid int) (*Client, error) {
	var last error
	for {
		c, err := Open(infoFile)
		if err == nil {
			probe, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err = c.Do(probe, http.MethodGet, "/_emulator/counters", "")
			cancel()
			if err == nil {
				return c, nil
			}
		}
		last = err
		if pid > 0 && !alive(pid) {
			return nil, fmt.Errorf("the emulator (pid %d) exited before it was ready", pid)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the emulator was not ready in time: %w", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// alive reports whether the process is running. A child that exited but was not yet reaped
// by the shell that started it (a zombie) is not: Linux shows it as state Z in /proc.
func alive(pid int) bool {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// "pid (comm) S ...": the state follows the last parenthesis (comm may hold spaces).
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
			return b[i+2] != 'Z'
		}
		return true
	}
	err := syscall.Kill(pid, 0) // no /proc: signal 0 checks existence without signalling
	return err == nil || errors.Is(err, syscall.EPERM)
}
