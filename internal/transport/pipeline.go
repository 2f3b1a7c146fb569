package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TokenSource returns a bearer token for one resource (scope `<resource>/.default`, WIRE.md
// §A9). It is the pipeline's auth hook: every attempt asks it, so a cached token is reused
// and an expired one renewed.
type TokenSource func(ctx context.Context) (string, error)

// Request is one call of a Microsoft API.
type Request struct {
	Method string
	URL    string // absolute
	// Op names the call in log lines and errors: "GET /v1.0/users/x", a cmdlet, an EWS operation.
	Op     string
	Header http.Header // besides the pipeline's own
	Body   []byte
	// Idempotent requests (reads, deletes) may be sent again after a failure that may have
	// been applied; others may not, unless Recover says what the first attempt did.
	Idempotent bool
	// Recover makes a non-idempotent write safe to retry: after a failure that may have been
	// applied (the answer was lost, a gateway gave up), it runs before the request is sent
	// again and reports whether the earlier attempt did take effect; the call then ends in
	// success without sending it a second time.
	Recover func(ctx context.Context) (done bool, err error)
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Outcome is what one attempt came to, as the client's rules classify it.
type Outcome struct {
	Err       error         // nil: success
	Retry     bool          // transient: worth another attempt
	Wait      time.Duration // the server's requested wait (Retry-After, BackOffMilliseconds)
	Ambiguous bool          // a write may have been applied although it failed
}

// Failed is the outcome of an HTTP error response under the rules every Microsoft API here
// shares: 429, 408, 503 and 504 are retried, honouring the server's wait; a 5xx answer to a
// write may hide a write that was applied.
func Failed(err error, status int, wait time.Duration) Outcome {
	return Outcome{Err: err, Retry: RetryableStatus(status), Wait: wait, Ambiguous: AmbiguousStatus(status)}
}

// AmbiguousError wraps the failure of a non-idempotent request that may nevertheless have
// been applied; it was not retried. The caller decides what to do (read back, or report).
type AmbiguousError struct{ Err error }

func (e *AmbiguousError) Error() string { return e.Err.Error() }
func (e *AmbiguousError) Unwrap() error { return e.Err }

// Pipeline is the one request pipeline of every Microsoft API client: it builds the request,
// gets a token, sets the headers, sends, logs one line, unwraps *url.Error, classifies
// network failures, reads the answer, hands it to the client's handler and retries within
// the context's deadline under Policy. The clients keep only what differs: their error
// parser and their rules for "throttled" and "ambiguous" (the handler's Outcome).
type Pipeline struct {
	Service string // "graph", "exchange", "ews": names the service in logs and errors
	HTTP    *http.Client
	Token   TokenSource
	Policy  Policy
	Header  http.Header // sent with every request
	MaxBody int64       // bound on what is read of any answer
}

// Do runs req until handle reports success or a final failure. handle interprets one
// answer: the zero Outcome for success (after decoding what the caller needs), otherwise
// the classified failure.
func (p *Pipeline) Do(ctx context.Context, req Request, handle func(*Response) Outcome) error {
	recovering := false
	key := HealthKey{Tenant: p.Policy.Tenant, Service: p.Service}
	return p.Policy.Health.Do(ctx, key, Endpoint(req.URL), p.Policy, func(ctx context.Context) (time.Duration, bool, error) {
		if recovering {
			done, err := req.Recover(ctx)
			if err != nil {
				return 0, false, err
			}
			if done {
				return 0, false, nil
			}
		}
		o := p.once(ctx, req, handle)
		if o.Err != nil && o.Ambiguous && !req.Idempotent {
			if req.Recover == nil {
				return 0, false, &AmbiguousError{Err: o.Err}
			}
			recovering = true
			return o.Wait, true, o.Err
		}
		return o.Wait, o.Retry, o.Err
	})
}

func (p *Pipeline) once(ctx context.Context, req Request, handle func(*Response) Outcome) Outcome {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return Outcome{Err: fmt.Errorf("%s %s: %w", p.Service, req.Op, err)}
	}
	tok, err := p.Token(ctx)
	if err != nil {
		return Outcome{Err: err}
	}
	h := hr.Header
	for _, src := range []http.Header{p.Header, req.Header} {
		for k, v := range src {
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	h.Set("Authorization", "Bearer "+tok)
	h.Set("client-request-id", uuid.NewString())

	start := time.Now()
	resp, err := p.HTTP.Do(hr)
	if err != nil {
		p.log(ctx, req, hr.URL.Path, 0, start, "", err)
		if ctx.Err() != nil {
			return Outcome{Err: ctx.Err()}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL can be long (skip tokens) and says nothing Op doesn't.
			err = ue.Err
		}
		err = fmt.Errorf("%s %s: %w", p.Service, req.Op, err)
		if NotSent(err) {
			return Outcome{Err: err, Retry: true}
		}
		return Outcome{Err: err, Retry: IsTransientNetError(err), Ambiguous: true}
	}
	data, rerr := readBody(resp.Body, p.MaxBody)
	reqID := resp.Header.Get("request-id")
	if rerr != nil {
		p.log(ctx, req, hr.URL.Path, resp.StatusCode, start, reqID, rerr)
		if ctx.Err() != nil {
			return Outcome{Err: ctx.Err()}
		}
		return Outcome{Err: fmt.Errorf("%s %s: reading response: %w", p.Service, req.Op, rerr), Retry: true, Ambiguous: true}
	}
	o := handle(&Response{Status: resp.StatusCode, Header: resp.Header, Body: data})
	p.log(ctx, req, hr.URL.Path, resp.StatusCode, start, reqID, o.Err)
	return o
}

// log writes the one line every attempt logs. It carries only what helps support (service,
// operation, path, status, attempt, duration, Microsoft's request id, the error code), never
// headers, tokens or bodies.
func (p *Pipeline) log(ctx context.Context, req Request, path string, status int, start time.Time, requestID string, err error) {
	if p.Policy.Log == nil {
		return
	}
	f := map[string]any{
		"service":     p.Service,
		"operation":   req.Op,
		"method":      req.Method,
		"path":        path,
		"status":      status,
		"attempt":     Attempt(ctx),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if requestID != "" {
		f["request_id"] = requestID
	}
	if err != nil {
		f["error"] = logError(err)
	}
	p.Policy.Log(ctx, p.Service+" call", f)
}

// logError is what a log line says of a failure: Microsoft's error code when the error
// carries one (ErrorCode), else the message, clipped.
func logError(err error) string {
	if c, ok := errors.AsType[interface {
		error
		ErrorCode() string
	}](err); ok && c.ErrorCode() != "" {
		return c.ErrorCode()
	}
	return Clip(err.Error(), 300)
}

// Pages follows a paged result from first: page fetches one page and returns the next
// link, "" at the end. A link to another origin than first is refused, since the bearer
// token would go with it; more than maxPages pages is an error.
func (p *Pipeline) Pages(op, first string, maxPages int, page func(url string) (next string, err error)) error {
	for u, n := first, 0; u != ""; n++ {
		if n >= maxPages {
			return fmt.Errorf("%s %s: more than %d pages; giving up", p.Service, op, maxPages)
		}
		next, err := page(u)
		if err != nil {
			return err
		}
		if next != "" && !SameOrigin(next, first) {
			return fmt.Errorf("%s %s: nextLink points to another host", p.Service, op)
		}
		u = next
	}
	return nil
}

// SameOrigin reports whether two absolute URLs share scheme and host.
func SameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// Clip shortens s to at most n bytes (then marked with an ellipsis), never splitting a UTF-8
// sequence into invalid text.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
