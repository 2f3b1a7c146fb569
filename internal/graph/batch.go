package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// MaxBatch is Graph's limit of requests in one $batch (WIRE.md §C7).
const MaxBatch = 20

// BatchRequest is one request of a $batch. URL is relative to the version ("/users/x"),
// without "/v1.0".
type BatchRequest struct {
	ID        string
	Method    string
	URL       string
	DependsOn []string
	Body      any
}

// BatchResponse is one inner response. Status is its own: the outer 200 says nothing about it.
type BatchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// Err returns the inner response's failure as an *Error, or nil for a 2xx.
func (r BatchResponse) Err() error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	e := parseError(r.Status, h, r.Body)
	e.Path = "$batch#" + r.ID
	return e
}

type batchWire struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	DependsOn []string          `json:"dependsOn,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      any               `json:"body,omitempty"`
}

// errInnerThrottled marks an attempt whose inner requests were throttled.
var errInnerThrottled = errors.New("graph: $batch requests throttled")

// Batch sends up to 20 requests in one $batch (WIRE.md §C7) and returns the responses by id
// (ids are case-insensitive on the wire; the map uses the caller's ids). Inner 429s carry
// their own Retry-After: those requests, and the ones that failed with 424 only because they
// depended on them, are sent again after the longest requested wait, as long as the retry
// policy allows. Responses still throttled when retries run out are returned as they are (429),
// with a nil error; check each response's Status or Err.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) (map[string]BatchResponse, error) {
	if len(reqs) == 0 {
		return map[string]BatchResponse{}, nil
	}
	if len(reqs) > MaxBatch {
		return nil, fmt.Errorf("graph: $batch takes at most %d requests, got %d", MaxBatch, len(reqs))
	}
	byID := map[string]BatchRequest{}
	safe := true
	for _, r := range reqs {
		k := strings.ToLower(r.ID)
		if r.ID == "" || byID[k].ID != "" {
			return nil, fmt.Errorf("graph: $batch request ids must be unique and non-empty (%q)", r.ID)
		}
		byID[k] = r
		if m := strings.ToUpper(r.Method); m != http.MethodGet && m != http.MethodHead {
			safe = false
		}
	}
	results := map[string]BatchResponse{}
	pending := reqs
	err := c.retry.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		var out struct {
			Responses []BatchResponse `json:"responses"`
		}
		r := c.once(ctx, http.MethodPost, "/$batch", map[string]any{"requests": toWire(pending)}, &out)
		if r.err != nil {
			if r.ambiguous && !safe {
				return 0, false, r.err
			}
			return r.wait, r.retry, r.err
		}
		var wait time.Duration
		throttled := map[string]bool{}
		for _, resp := range out.Responses {
			req, ok := byID[strings.ToLower(resp.ID)]
			if !ok {
				continue // not ours; ignore rather than fail the whole batch
			}
			resp.ID = req.ID
			results[req.ID] = resp
			if resp.Status == http.StatusTooManyRequests {
				throttled[strings.ToLower(req.ID)] = true
				if d, ok := transport.ParseRetryAfter(header(resp.Headers, "Retry-After"), time.Now()); ok && d > wait {
					wait = d
				}
			}
		}
		if len(throttled) == 0 {
			return 0, false, nil
		}
		pending = resend(pending, results, throttled)
		return wait, true, errInnerThrottled
	})
	if err == errInnerThrottled { //nolint:errorlint // exactly "retries exhausted", not a wrapped ctx or deadline error
		err = nil // the 429s are in results
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// resend picks the throttled requests and, transitively, those that got 424 because a
// throttled one failed; dependsOn keeps only ids that are sent again (the others succeeded).
func resend(prev []BatchRequest, results map[string]BatchResponse, throttled map[string]bool) []BatchRequest {
	again := map[string]bool{}
	for k := range throttled {
		again[k] = true
	}
	for changed := true; changed; {
		changed = false
		for _, r := range prev {
			k := strings.ToLower(r.ID)
			if again[k] || results[r.ID].Status != http.StatusFailedDependency {
				continue
			}
			for _, d := range r.DependsOn {
				if again[strings.ToLower(d)] {
					again[k], changed = true, true
					break
				}
			}
		}
	}
	var out []BatchRequest
	for _, r := range prev {
		if !again[strings.ToLower(r.ID)] {
			continue
		}
		var deps []string
		for _, d := range r.DependsOn {
			if again[strings.ToLower(d)] {
				deps = append(deps, d)
			}
		}
		r.DependsOn = deps
		out = append(out, r)
	}
	return out
}

func toWire(reqs []BatchRequest) []batchWire {
	out := make([]batchWire, len(reqs))
	for i, r := range reqs {
		w := batchWire{ID: r.ID, Method: strings.ToUpper(r.Method), URL: r.URL, DependsOn: r.DependsOn, Body: r.Body}
		if r.Body != nil {
			// Graph requires headers with Content-Type whenever body is present (§C7).
			w.Headers = map[string]string{"Content-Type": "application/json"}
		}
		out[i] = w
	}
	return out
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
