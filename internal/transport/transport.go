// Package transport holds what every Microsoft API client of the provider shares: the one
// request pipeline (pipeline.go), the retry policy for throttled and transient calls,
// Retry-After parsing, and the HTTP client that trusts the configured CA.
//
// Microsoft's services tell clients how long to back off in different ways: Graph and the
// Exchange admin API send 429 with a Retry-After header (seconds, possibly fractional like
// "2.128", WIRE.md §C0), while EWS answers a SOAP fault ErrorServerBusy whose
// BackOffMilliseconds says how long to wait (WIRE.md §D5). Clients translate those into the
// retryAfter of an attempt; Policy decides whether and when to try again.
package transport

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Logger receives one structured line. The provider bridges it to tflog. Callers never pass
// secrets, tokens, Authorization headers or bodies that may carry credentials.
type Logger func(ctx context.Context, msg string, fields map[string]any)

// Defaults of Policy.
const (
	DefaultMaxRetries = 5
	DefaultBaseDelay  = 500 * time.Millisecond
	DefaultMaxDelay   = 30 * time.Second
)

// ErrWaitExceedsDeadline is wrapped by the error Do returns when the server asked for a wait
// longer than what is left of the context's deadline: waiting would only fail later.
var ErrWaitExceedsDeadline = errors.New("the server's requested wait exceeds the operation's deadline")

// Policy retries an operation while its outcome is transient. The zero value is usable:
// MaxRetries 0 means a single attempt; set MaxRetries explicitly (the provider's max_retries).
type Policy struct {
	MaxRetries          int           // retries after the first attempt
	BaseDelay, MaxDelay time.Duration // exponential backoff with full jitter; defaults 500ms, 30s
	// Sleep waits d or until ctx is done. Tests replace it; the default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for jitter. Tests replace it.
	Rand func() float64
	Log  Logger
	// Health, when set, shares the outages of Tenant's services (the tenant the calls go to:
	// its id or a domain) among the calls of one process: one call retries, the others wait
	// for its outcome (Health). The pipeline uses it; Do alone does not.
	Health *Health
	Tenant string
}

type attemptKey struct{}

// Attempt returns the 1-based number of the attempt running under ctx (0 outside Do), so
// clients can put it into their log lines.
func Attempt(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// Do runs attempt until it succeeds, says the outcome is final (retry=false), or the retries
// are used up; it returns the last attempt's error. A retryAfter > 0 is the server's requested
// wait and is honoured as is (not capped by MaxDelay: asking again sooner only gets throttled
// again). Without it, the wait is a full-jitter exponential backoff. Do stops early, with an
// error wrapping the last attempt's error, when ctx is done or when the wait would end after
// ctx's deadline (wrapping ErrWaitExceedsDeadline).
func (p Policy) Do(ctx context.Context, attempt func(ctx context.Context) (retryAfter time.Duration, retry bool, err error)) error {
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, retry, err := attempt(context.WithValue(ctx, attemptKey{}, n+1))
		if err == nil || !retry {
			return err
		}
		if n >= p.MaxRetries {
			return err
		}
		if wait <= 0 {
			wait = p.backoff(n)
		}
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); wait > left {
				return fmt.Errorf("%w (asked to wait %s, %s left): %w", ErrWaitExceedsDeadline, round(wait), round(left), err)
			}
		}
		if p.Log != nil {
			p.Log(ctx, "retrying transient failure", map[string]any{"attempt": n + 1, "wait": wait.String(), "error": err.Error()})
		}
		sleep := p.Sleep
		if sleep == nil {
			sleep = Sleep
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("gave up waiting to retry (%w): %w", serr, err)
		}
	}
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Millisecond)
	}
	return d
}

// backoff is "full jitter": a uniformly random wait in [0, min(MaxDelay, BaseDelay·2^n)].
func (p Policy) backoff(n int) time.Duration {
	base, maxd := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxd <= 0 {
		maxd = DefaultMaxDelay
	}
	ceil := float64(base) * math.Pow(2, float64(min(n, 30)))
	if ceil > float64(maxd) {
		ceil = float64(maxd)
	}
	r := p.Rand
	if r == nil {
		r = rand.Float64
	}
	return time.Duration(r() * ceil)
}

// Sleep waits d or until ctx is done, whichever comes first: the one timer-based wait of
// the provider (retries here; the wait for new roles to take effect in internal/connection).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RetryAfter is the wait a response's Retry-After header asks for; 0 when it asks for none
// or the value is unusable.
func RetryAfter(h http.Header) time.Duration {
	d, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
	return d
}

// ParseRetryAfter reads a Retry-After header: delay-seconds, possibly fractional as Graph
// documents ("2.128", WIRE.md §C0), or an HTTP-date. It reports false when h is empty or
// unusable; a date in the past gives (0, true).
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(h, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 366*24*3600 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	for _, layout := range []string{timeFormatHTTP, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, h); err == nil {
			d := t.Sub(now)
			if d < 0 {
				d = 0
			}
			return d, true
		}
	}
	return 0, false
}

const timeFormatHTTP = "Mon, 02 Jan 2006 15:04:05 GMT"
