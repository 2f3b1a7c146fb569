package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const pipelineToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.pipeline-token"

type codedErr struct{ code string }

func (e *codedErr) Error() string     { return "long message for " + e.code }
func (e *codedErr) ErrorCode() string { return e.code }

// testPipeline serves h over TLS and returns a pipeline that records its waits and logs.
func testPipeline(t *testing.T, h http.HandlerFunc) (*Pipeline, *recorder, *[]map[string]any, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	var mu sync.Mutex
	var lines []map[string]any
	p := &Pipeline{
		Service: "test", HTTP: srv.Client(), MaxBody: 1 << 20,
		Token:  func(context.Context) (string, error) { return pipelineToken, nil },
		Header: http.Header{"Accept": {"application/json"}, "x-static": {"s"}},
		Policy: Policy{MaxRetries: 3, Sleep: rec.sleep, Rand: func() float64 { return 0 }, Log: func(_ context.Context, _ string, f map[string]any) {
			mu.Lock()
			lines = append(lines, f)
			mu.Unlock()
		}},
	}
	return p, rec, &lines, srv.URL
}

// status answers with the HTTP status as the failure, 2xx as success.
func status(r *Response) Outcome {
	if r.Status >= 300 {
		return Failed(&codedErr{fmt.Sprint("E", r.Status)}, r.Status, 0)
	}
	return Outcome{}
}

func TestPipelineSetsHeadersAndLogsCode(t *testing.T) {
	p, _, lines, u := testPipeline(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+pipelineToken || r.Header.Get("X-Static") != "s" || r.Header.Get("X-Per-Request") != "r" ||
			r.Header.Get("Accept") != "application/json" || len(r.Header.Get("client-request-id")) != 36 {
			t.Errorf("headers = %v", r.Header)
		}
		w.Header().Set("request-id", "rid-7")
		w.WriteHeader(404)
	})
	err := p.Do(context.Background(), Request{Method: "GET", URL: u + "/x", Op: "GET /x", Idempotent: true, Header: http.Header{"x-per-request": {"r"}}}, status)
	if ce, ok := errors.AsType[*codedErr](err); !ok || ce.code != "E404" {
		t.Fatalf("err = %v", err)
	}
	if len(*lines) != 1 {
		t.Fatalf("lines = %v", *lines)
	}
	l := (*lines)[0]
	if l["error"] != "E404" || l["request_id"] != "rid-7" || l["status"] != 404 || l["operation"] != "GET /x" || l["attempt"] != 1 {
		t.Fatalf("log line = %v", l)
	}
	if strings.Contains(fmt.Sprint(l), pipelineToken) {
		t.Fatal("token logged")
	}
}

func TestPipelineRetriesThrottlingWithServerWait(t *testing.T) {
	n := 0
	p, rec, _, u := testPipeline(t, func(w http.ResponseWriter, r *http.Request) {
		if n++; n < 3 {
			w.WriteHeader(429)
			return
		}
		fmt.Fprint(w, "ok")
	})
	var body string
	err := p.Do(context.Background(), Request{Method: "GET", URL: u, Op: "GET /", Idempotent: true}, func(r *Response) Outcome {
		if r.Status == 429 {
			return Failed(errors.New("throttled"), r.Status, 1500*time.Millisecond)
		}
		body = string(r.Body)
		return Outcome{}
	})
	if err != nil || body != "ok" || n != 3 || fmt.Sprint(rec.waits) != "[1.5s 1.5s]" {
		t.Fatalf("err=%v body=%q calls=%d waits=%v", err, body, n, rec.waits)
	}
}

// A write whose answer is lost is not sent again blindly: without Recover it fails as
// ambiguous after one attempt; with Recover, the recovery runs before the next attempt and
// ends the call when the first attempt did land.
func TestPipelineAmbiguousWrites(t *testing.T) {
	for _, tc := range []struct {
		name       string
		recoverIt  bool
		found      bool
		wantPosts  int
		wantChecks int
		wantErr    bool
	}{
		{name: "no recover", wantPosts: 1, wantErr: true},
		{name: "recover finds it", recoverIt: true, found: true, wantPosts: 1, wantChecks: 1},
		{name: "recover finds nothing, sent again", recoverIt: true, wantPosts: 2, wantChecks: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			posts, checks := 0, 0
			p, _, _, u := testPipeline(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				posts++
				first := posts == 1
				mu.Unlock()
				if first {
					w.WriteHeader(502) // the gateway gave up: the write may have run
					return
				}
				w.WriteHeader(201)
			})
			req := Request{Method: "POST", URL: u, Op: "POST /"}
			if tc.recoverIt {
				req.Recover = func(context.Context) (bool, error) { checks++; return tc.found, nil }
			}
			err := p.Do(context.Background(), req, status)
			if (err != nil) != tc.wantErr || posts != tc.wantPosts || checks != tc.wantChecks {
				t.Fatalf("err=%v posts=%d checks=%d", err, posts, checks)
			}
			if tc.wantErr {
				if _, ok := errors.AsType[*AmbiguousError](err); !ok {
					t.Fatalf("err = %T %v, want *AmbiguousError", err, err)
				}
			}
		})
	}
}

func TestPipelineNetworkFailureUnwrapsURL(t *testing.T) {
	p, _, lines, u := testPipeline(t, func(w http.ResponseWriter, r *http.Request) {
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, _ := hj.Hijack()
			conn.Close()
		}
	})
	err := p.Do(context.Background(), Request{Method: "GET", URL: u + "/secret-skip-token", Op: "GET /list", Idempotent: true}, status)
	if err == nil || strings.Contains(err.Error(), "secret-skip-token") || !strings.HasPrefix(err.Error(), "test GET /list: ") {
		t.Fatalf("err = %v", err)
	}
	calls := 0
	for _, l := range *lines {
		if l["operation"] == "GET /list" {
			calls++
		}
	}
	if calls != 4 { // the first attempt and three retries of a transient failure
		t.Fatalf("%d attempts logged, want 4: %v", calls, *lines)
	}
}

func TestPipelineTokenFailureIsFinal(t *testing.T) {
	p, _, _, u := testPipeline(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent without a token") })
	p.Token = func(context.Context) (string, error) { return "", errors.New("sign-in failed") }
	if err := p.Do(context.Background(), Request{Method: "GET", URL: u, Op: "GET /", Idempotent: true}, status); err == nil || err.Error() != "sign-in failed" {
		t.Fatalf("err = %v", err)
	}
}

func TestPages(t *testing.T) {
	p := &Pipeline{Service: "test"}
	var seen []string
	err := p.Pages("list", "https://a.example/1", 10, func(u string) (string, error) {
		seen = append(seen, u)
		if u == "https://a.example/1" {
			return "https://A.example/2", nil
		}
		return "", nil
	})
	if err != nil || fmt.Sprint(seen) != "[https://a.example/1 https://A.example/2]" {
		t.Fatalf("err=%v seen=%v", err, seen)
	}
	if err := p.Pages("list", "https://a.example/1", 10, func(string) (string, error) { return "https://evil.example/2", nil }); err == nil {
		t.Fatal("followed a link to another host")
	}
	if err := p.Pages("list", "https://a.example/1", 3, func(u string) (string, error) { return u, nil }); err == nil {
		t.Fatal("endless paging not stopped")
	}
}

func TestClip(t *testing.T) {
	if Clip("short", 10) != "short" || Clip("abcdef", 3) != "abc…" || Clip("aé", 2) != "a…" {
		t.Fatalf("Clip: %q %q %q", Clip("short", 10), Clip("abcdef", 3), Clip("aé", 2))
	}
}
