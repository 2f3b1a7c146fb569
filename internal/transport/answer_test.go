package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const secretInBody = "s3cr3t-value-from-the-body"

func jsonAnswer(ct, body string) *Response {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return &Response{Status: 200, Header: h, Body: []byte(body)}
}

func TestCheckJSON(t *testing.T) {
	const odata = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	good := `{"value":[{"id":"` + secretInBody + `"}]}`
	for _, tc := range []struct {
		name, ct, body, want string
	}{
		{"plain", "application/json", good, ""},
		{"odata parameters", odata, good, ""},
		{"upper case", "Application/JSON; charset=UTF-8", good, ""},
		{"+json type", "application/problem+json", good, ""},
		{"empty", "application/json", "", "empty body"},
		{"blank", odata, " \r\n ", "empty body"},
		{"empty without type", "", "", "empty body"},
		{"truncated", odata, good[:len(good)-7], "truncated JSON"},
		{"html", "text/html; charset=utf-8", "<html><body>" + secretInBody + "</body></html>", "Content-Type text/html, expected application/json"},
		{"no type", "", good, "no Content-Type, expected application/json"},
		{"unreadable type", "application/json; =;", good, "unreadable Content-Type, expected application/json"},
		{"sniffed text", "text/plain; charset=utf-8", good, "Content-Type text/plain, expected application/json"},
		{"garbage", "application/json", `{"value":` + secretInBody + `}`, "invalid JSON at byte 10"},
		{"two documents", "application/json", `{}{}`, "invalid JSON at byte 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckJSON(jsonAnswer(tc.ct, tc.body)); got != tc.want {
				t.Fatalf("CheckJSON = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	type page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"good", `{"value":[{"id":"a"}]}`, ""},
		{"array for an object", `[{"id":"a"}]`, "a JSON array, expected an object"},
		{"member of another type", `{"value":{"id":"a"}}`, "`value` is a JSON object"},
		{"truncated", `{"value":[{"id":"a"}`, "truncated JSON"},
		{"empty", ``, "empty body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if got := DecodeJSON(jsonAnswer("application/json", tc.body), &p); got != tc.want {
				t.Fatalf("DecodeJSON = %q, want %q", got, tc.want)
			}
		})
	}
	var p page
	if DecodeJSON(jsonAnswer("text/html", `{"value":[{"id":"a"}]}`), &p) == "" || p.Value != nil {
		t.Fatal("an answer of the wrong media type was decoded")
	}
}

func TestCheckXML(t *testing.T) {
	const env = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x>` + secretInBody + `</x></s:Body></s:Envelope>`
	for _, tc := range []struct {
		name, ct, body, want string
	}{
		{"text/xml", "text/xml; charset=utf-8", env, ""},
		{"soap+xml", "application/soap+xml; charset=utf-8", env, ""},
		{"trailing blank", "text/xml", env + "\r\n", ""},
		{"other charset declared", "text/xml", strings.Replace(env, "utf-8", "us-ascii", 1), ""},
		{"empty", "text/xml", "", "empty body"},
		{"truncated in a tag", "text/xml", env[:len(env)-5], "truncated XML"},
		{"truncated between elements", "text/xml", env[:strings.Index(env, "</s:Body>")], "truncated XML"},
		{"html", "text/html", "<html><body>" + secretInBody + "</body></html>", "Content-Type text/html, expected text/xml or application/soap+xml"},
		{"json", "application/json", `{"a":1}`, "Content-Type application/json, expected text/xml or application/soap+xml"},
		{"mismatched end tag", "text/xml", `<a><b></a></b>`, "invalid XML at line 1"},
		{"text only", "text/xml", "just text", "no XML element"},
		{"two roots", "text/xml", `<a/><b/>`, "more than one XML root element"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Response{Status: 200, Header: http.Header{"Content-Type": {tc.ct}}, Body: []byte(tc.body)}
			if got := CheckXML(r, MediaXML, MediaSOAPXML); got != tc.want {
				t.Fatalf("CheckXML = %q, want %q", got, tc.want)
			}
		})
	}
	if got := CheckXML(&Response{Status: 200, Header: http.Header{"Content-Type": {"application/xml"}}, Body: []byte("<a/>")}); got != "Content-Type application/xml, expected text/xml" {
		t.Fatalf("default media type: %q", got)
	}
}

func TestMalformedAnswerError(t *testing.T) {
	e := &MalformedAnswerError{Service: "graph", Op: "GET /v1.0/users/x", Status: 200, Problem: "empty body"}
	if got := e.Error(); got != "graph GET /v1.0/users/x: HTTP 200 OK with a malformed answer (empty body): not trusted as a result" {
		t.Fatalf("Error() = %s", got)
	}
	if e.ErrorCode() != "MalformedAnswer: empty body" || logError(fmt.Errorf("wrapped: %w", e)) != "MalformedAnswer: empty body" {
		t.Fatalf("ErrorCode() = %s", e.ErrorCode())
	}
	if !IsMalformedAnswer(fmt.Errorf("x: %w", e)) || IsMalformedAnswer(errors.New("x")) {
		t.Fatal("IsMalformedAnswer")
	}

	o := Malformed(context.Background(), e)
	if o.Err != e || !o.Retry || !o.Ambiguous {
		t.Fatalf("outcome = %+v", o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o = Malformed(ctx, e)
	if !errors.Is(o.Err, context.Canceled) || !IsMalformedAnswer(o.Err) || o.Retry || !o.Ambiguous {
		t.Fatalf("outcome after the context's end = %+v", o)
	}
}

// Through the pipeline: a read that gets malformed answers is asked again and succeeds on
// a good one, or fails with the malformed error when none comes; a write goes through its
// recovery instead of being sent again.
func TestMalformedThroughPipeline(t *testing.T) {
	var hits atomic.Int32
	bad := 2
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1))
		if n <= bad {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>proxy</html>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	p := &Pipeline{Service: "test", HTTP: srv.Client(), MaxBody: 1 << 20,
		Token:  func(context.Context) (string, error) { return "t", nil },
		Policy: Policy{MaxRetries: 3, Sleep: func(context.Context, time.Duration) error { return nil }}}
	do := func(req Request) error {
		return p.Do(context.Background(), req, func(r *Response) Outcome {
			var v struct{ OK bool }
			if pr := DecodeJSON(r, &v); pr != "" {
				return Malformed(context.Background(), &MalformedAnswerError{Service: "test", Op: req.Op, Status: r.Status, Problem: pr})
			}
			return Outcome{}
		})
	}
	read := Request{Method: "GET", URL: srv.URL + "/x", Op: "GET /x", Idempotent: true}

	if err := do(read); err != nil || hits.Load() != 3 {
		t.Fatalf("read: err=%v after %d requests", err, hits.Load())
	}

	hits.Store(0)
	bad = 100
	err := do(read)
	if !IsMalformedAnswer(err) || hits.Load() != 4 || strings.Contains(err.Error(), "proxy") {
		t.Fatalf("read never answered well: err=%v after %d requests", err, hits.Load())
	}

	hits.Store(0)
	recovered := 0
	write := Request{Method: "POST", URL: srv.URL + "/x", Op: "POST /x", Recover: func(context.Context) (bool, error) {
		recovered++
		return true, nil
	}}
	if err := do(write); err != nil || hits.Load() != 1 || recovered != 1 {
		t.Fatalf("write with recovery: err=%v, %d requests, %d recoveries", err, hits.Load(), recovered)
	}

	hits.Store(0)
	write.Recover = nil
	err = do(write)
	if _, ok := errors.AsType[*AmbiguousError](err); !ok || !IsMalformedAnswer(err) || hits.Load() != 1 {
		t.Fatalf("write without recovery: err=%v after %d requests", err, hits.Load())
	}
}
