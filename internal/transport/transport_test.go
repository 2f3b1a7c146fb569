package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"
)

// recorder is a Sleep seam that records the waits instead of waiting.
type recorder struct{ waits []time.Duration }

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

var errTransient = errors.New("transient")

func TestDo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRetries int
		outcomes   []time.Duration // per attempt: server wait; -1 = success; -2 = final error
		wantCalls  int
		wantWaits  []time.Duration
		wantErr    bool
	}{
		{name: "success first", maxRetries: 5, outcomes: []time.Duration{-1}, wantCalls: 1},
		{name: "server wait honoured", maxRetries: 5, outcomes: []time.Duration{2128 * time.Millisecond, 297749 * time.Millisecond, -1}, wantCalls: 3,
			wantWaits: []time.Duration{2128 * time.Millisecond, 297749 * time.Millisecond}},
		{name: "backoff doubles, full jitter at 0.5", maxRetries: 5, outcomes: []time.Duration{0, 0, 0, -1}, wantCalls: 4,
			wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{name: "retries exhausted", maxRetries: 2, outcomes: []time.Duration{0, 0, 0, 0}, wantCalls: 3, wantErr: true,
			wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "final error not retried", maxRetries: 5, outcomes: []time.Duration{-2}, wantCalls: 1, wantErr: true},
		{name: "zero retries", maxRetries: 0, outcomes: []time.Duration{0}, wantCalls: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			p := Policy{MaxRetries: tc.maxRetries, Sleep: rec.sleep, Rand: func() float64 { return 0.5 }}
			calls := 0
			err := p.Do(context.Background(), func(ctx context.Context) (time.Duration, bool, error) {
				if Attempt(ctx) != calls+1 {
					t.Errorf("Attempt = %d, want %d", Attempt(ctx), calls+1)
				}
				o := tc.outcomes[calls]
				calls++
				switch o {
				case -1:
					return 0, false, nil
				case -2:
					return 0, false, errors.New("final")
				}
				return o, true, errTransient
			})
			if (err != nil) != tc.wantErr || calls != tc.wantCalls {
				t.Fatalf("err=%v calls=%d", err, calls)
			}
			if fmt.Sprint(rec.waits) != fmt.Sprint(tc.wantWaits) && (len(rec.waits) != 0 || len(tc.wantWaits) != 0) {
				t.Fatalf("waits = %v, want %v", rec.waits, tc.wantWaits)
			}
		})
	}
}

func TestDoBackoffCappedAtMaxDelay(t *testing.T) {
	p := Policy{BaseDelay: time.Second, MaxDelay: 4 * time.Second, Rand: func() float64 { return 0.999999 }}
	if d := p.backoff(10); d > 4*time.Second || d < 3*time.Second {
		t.Fatalf("backoff(10) = %s", d)
	}
}

func TestDoStopsWhenServerWaitExceedsDeadline(t *testing.T) {
	rec := &recorder{}
	p := Policy{MaxRetries: 5, Sleep: rec.sleep}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.Do(ctx, func(context.Context) (time.Duration, bool, error) { return 5 * time.Minute, true, errTransient })
	if !errors.Is(err, ErrWaitExceedsDeadline) || !errors.Is(err, errTransient) {
		t.Fatalf("err = %v", err)
	}
	if len(rec.waits) != 0 {
		t.Fatal("should not have waited")
	}
}

func TestDoStopsPromptlyOnCancel(t *testing.T) {
	p := Policy{MaxRetries: 5} // real timer sleep
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	err := p.Do(ctx, func(context.Context) (time.Duration, bool, error) { return time.Hour, true, errTransient })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errTransient) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("did not stop promptly")
	}
}

func TestDoLogs(t *testing.T) {
	var lines []map[string]any
	p := Policy{MaxRetries: 1, Sleep: (&recorder{}).sleep, Log: func(_ context.Context, _ string, f map[string]any) { lines = append(lines, f) }}
	_ = p.Do(context.Background(), func(context.Context) (time.Duration, bool, error) { return time.Millisecond, true, errTransient })
	if len(lines) != 1 || lines[0]["attempt"] != 1 {
		t.Fatalf("lines = %v", lines)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10", 10 * time.Second, true},
		{"2.128", 2128 * time.Millisecond, true},
		{" 0 ", 0, true},
		{"Wed, 30 Sep 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 30 Sep 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"NaN", 0, false},
		{"1e300", 0, false},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClassifiers(t *testing.T) {
	for code, want := range map[int]bool{429: true, 503: true, 504: true, 408: true, 400: false, 401: false, 403: false, 404: false, 409: false, 500: false, 200: false} {
		if RetryableStatus(code) != want {
			t.Errorf("RetryableStatus(%d) != %v", code, want)
		}
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("x: %w", io.EOF), true},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("x509: certificate signed by unknown authority"), false},
		{nil, false},
	} {
		if IsTransientNetError(tc.err) != tc.want {
			t.Errorf("IsTransientNetError(%v) != %v", tc.err, tc.want)
		}
	}
	if !NotSent(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}) || NotSent(&net.OpError{Op: "read", Err: syscall.ECONNRESET}) {
		t.Error("NotSent wrong")
	}
}

func TestNewHTTPClientTrustsOnlyGivenCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()

	plain, err := NewHTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil {
		t.Fatal("untrusted server accepted")
	} else if IsTransientNetError(err) {
		t.Errorf("a certificate error must not be retried: %v", err)
	}

	pem := certPEM(srv.Certificate().Raw)
	c, err := NewHTTPClient(pem)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.Transport)
	}
	if tr.TLSClientConfig.InsecureSkipVerify || tr.TLSClientConfig.MinVersion < tls.VersionTLS12 || tr.MaxIdleConnsPerHost < 8 {
		t.Fatalf("transport settings: %+v", tr.TLSClientConfig)
	}
	if _, err := NewHTTPClient([]byte("not a pem")); err == nil {
		t.Fatal("garbage CA accepted")
	}
}
