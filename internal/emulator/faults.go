package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests fail (or slow down) before their handler runs.
// JSON (control API): snake_case keys, delay as a Go duration string ("250ms").
type Fault struct {
	Route       string  `json:"route"`          // a route name, or "*" for every Microsoft route
	User        string  `json:"user,omitempty"` // only requests by this UPN
	Status      int     `json:"status,omitempty"`
	RetryAfter  string  `json:"retry_after,omitempty"`
	Count       int     `json:"count,omitempty"`     // apply to the next N matching requests (0 = unlimited)
	EveryNth    int     `json:"every_nth,omitempty"` // apply to every Nth matching request
	Probability float64 `json:"probability,omitempty"`
	// EWSBusy answers with the ErrorServerBusy SOAP fault (WIRE §D5).
	EWSBusy             bool `json:"ews_busy,omitempty"`
	BackOffMilliseconds int  `json:"back_off_milliseconds,omitempty"`
	Reset               bool `json:"reset,omitempty"` // close the connection without a response
	// DropResponse lets the handler do its work, then closes the connection
	// without the answer: a lost response, which a retrying client must not
	// turn into a second object.
	DropResponse bool `json:"drop_response,omitempty"`
	// Answer is a broken success, which Microsoft never sends (its success
	// answers always carry their body) but a client can still receive:
	// "empty" and "truncated" run the handler (its effect happens: a write
	// lands) and send its answer with no body, or with the first half of its
	// body, Content-Length matching; the status is the handler's when it is
	// a success, else 200. "html" is a proxy's page, 200 text/html, and the
	// handler does not run.
	Answer string        `json:"answer,omitempty"`
	Delay  time.Duration `json:"-"`
}

// The values of Fault.Answer.
const (
	AnswerEmpty     = "empty"
	AnswerTruncated = "truncated"
	AnswerHTML      = "html"
)

var answers = []string{AnswerEmpty, AnswerTruncated, AnswerHTML}

type faultJSON Fault

// UnmarshalJSON reads delay as a duration string.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var aux struct {
		*faultJSON
		Delay string `json:"delay"`
	}
	aux.faultJSON = (*faultJSON)(f)
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	if aux.Delay != "" {
		d, err := time.ParseDuration(aux.Delay)
		if err != nil {
			return fmt.Errorf("delay: %w", err)
		}
		f.Delay = d
	}
	return nil
}

// MarshalJSON writes delay as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		faultJSON
		Delay string `json:"delay,omitempty"`
	}{faultJSON(f), durationText(f.Delay)})
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// routeNames are the names faults and counters use: the route table's
// (route.go), the admin API's one per cmdlet, EWS's and the control API's.
var routeNames = slices.Concat([]string{
	"instance-discovery", "openid-configuration", "userrealm", "token",
	"graph.user", "graph.memberOf", "graph.organization", "graph.roleDefinitions",
	"graph.roleAssignments.list", "graph.roleAssignments.create", "graph.roleAssignments.delete",
	"graph.mailFolders", "graph.messages",
	"graph.exchangeSettings", "graph.mailboxFolders", "graph.createImportSession", importRoute,
	"graph.applications.create", "graph.applications.list", "graph.applications.get", "graph.applications.update",
	"graph.applications.delete", "graph.applications.addPassword", "graph.applications.removePassword",
	"graph.servicePrincipals.create", "graph.servicePrincipals.list", "graph.servicePrincipals.get", "graph.servicePrincipals.delete",
	"graph.appRoleAssignedTo.create", "graph.appRoleAssignedTo.list", "graph.appRoleAssignedTo.delete", "graph.appRoleAssignments.list",
}, cmdletRouteNames(), []string{"ews.GetFolder", "control"})

// validate is the control API's check of a fault.
func (f Fault) validate() error {
	if f.Route != "*" && !slices.Contains(routeNames, f.Route) {
		return fmt.Errorf("unknown route %q (one of %s, or *)", f.Route, strings.Join(routeNames, ", "))
	}
	if err := f.validateEffect(); err != nil {
		return err
	}
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d is not an error status", f.Status)
	case f.Count < 0 || f.EveryNth < 0 || f.Probability < 0 || f.Probability > 1 || f.Delay < 0:
		return errors.New("count, every_nth, delay must be >= 0 and probability within [0, 1]")
	}
	return nil
}

// validateEffect: a fault does something, and drop_response and answer
// (which let the handler run) do it alone.
func (f Fault) validateEffect() error {
	failure := f.Status != 0 || f.EWSBusy || f.Reset
	switch {
	case !failure && !f.DropResponse && f.Answer == "" && f.Delay <= 0:
		return errors.New("a fault needs status, ews_busy, reset, drop_response, answer or delay")
	case f.DropResponse && failure:
		return errors.New("drop_response runs the handler: it excludes status, ews_busy and reset")
	case f.Answer != "" && !slices.Contains(answers, f.Answer):
		return fmt.Errorf("unknown answer %q (one of %s)", f.Answer, strings.Join(answers, ", "))
	case f.Answer != "" && (failure || f.DropResponse):
		return errors.New("answer is a success: it excludes status, ews_busy, reset and drop_response")
	}
	return nil
}

type activeFault struct {
	Fault
	id      string
	seen    int // matching requests so far
	applied int
	rng     *rand.Rand // deterministic per fault, for Probability
}

func (f *activeFault) matches(route, upn string) bool {
	if f.Route != route && (f.Route != "*" || route == "control") {
		return false
	}
	return f.User == "" || strings.EqualFold(f.User, upn)
}

// nextFault returns the first injected fault that fires for this request, and
// retires faults whose Count is used up. Faults are checked in injection order.
func (s *Server) nextFault(route, upn string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(route, upn) {
			continue
		}
		f.seen++
		fire := true
		switch {
		case f.Probability > 0:
			fire = f.rng.Float64() < f.Probability
		case f.EveryNth > 1:
			fire = f.seen%f.EveryNth == 0
		}
		if !fire {
			continue
		}
		f.applied++
		if f.Count > 0 && f.applied >= f.Count {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		applied := f.Fault
		return &applied
	}
	return nil
}

// applyFault carries out f. It reports whether the response has been written
// (false for a pure delay).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, route string, f *Fault) bool {
	if f.Delay > 0 && !sleepContext(r, f.Delay) {
		return true
	}
	switch {
	case f.Reset:
		resetConnection(w)
		return true
	case f.EWSBusy:
		writeEWSServerBusy(w, f.BackOffMilliseconds)
		return true
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		s.writeRouteError(w, r, route, f.Status)
		return true
	}
	return false
}

// writeRouteError answers with the error body the route's Microsoft service
// uses for that status.
func (s *Server) writeRouteError(w http.ResponseWriter, r *http.Request, route string, status int) {
	switch family, _, _ := strings.Cut(route, "."); family {
	case "graph", "outlook": // the import host answers in Graph's envelope (⚠ WIRE §M2.10)
		s.writeGraphStatusError(w, r, status)
	case "exo":
		s.writeExchangeStatusError(w, status)
	case "ews":
		writeEWSStatusError(w, status)
	case "control":
		writeJSON(w, status, map[string]string{"error": "injected fault"})
	default:
		s.writeIdentityStatusError(w, r, status)
	}
}

// resetConnection closes the TCP connection with an RST and no response.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "connection reset not possible", http.StatusInternalServerError)
		return
	}
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		if tcp, ok := tc.NetConn().(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
	}
	_ = conn.Close()
}

func sleepContext(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropResponse runs the handler with its answer discarded, then resets the
// connection: the work is done, the client never hears of it.
func dropResponse(w http.ResponseWriter, r *http.Request, handler http.Handler, f *Fault) {
	if f.Delay > 0 && !sleepContext(r, f.Delay) {
		return
	}
	handler.ServeHTTP(newRecorder(), r)
	resetConnection(w)
}

// proxyPage is what a web proxy in the way answers instead of the service.
const proxyPage = `<!DOCTYPE html>
<html><head><title>Network notice</title></head>
<body><h1>Network notice</h1>
<p>Your request was intercepted by the network's web proxy. Sign in to the proxy to continue.</p>
</body></html>
`

// brokenAnswer carries out Fault.Answer: a success status whose body is
// empty, cut in half or a proxy's HTML page. HTTP framing stays intact
// (Content-Length is the length sent), so only the body is wrong.
func brokenAnswer(w http.ResponseWriter, r *http.Request, handler http.Handler, f *Fault) {
	if f.Delay > 0 && !sleepContext(r, f.Delay) {
		return
	}
	status, body := http.StatusOK, []byte(proxyPage)
	if f.Answer == AnswerHTML {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		rec := newRecorder()
		handler.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.status >= 200 && rec.status <= 299 {
			status = rec.status
		}
		body = rec.body.Bytes()
		body = body[:len(body)/2]
		if f.Answer == AnswerEmpty {
			body = nil
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// recorder is a ResponseWriter that keeps the answer instead of sending it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (d *recorder) Header() http.Header { return d.header }

func (d *recorder) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return d.body.Write(b)
}

func (d *recorder) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}
