package transport

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultCooldown is how long a service that kept failing is not asked again: calls for it
// fail at once with the failure that was seen, then one call tries again.
const DefaultCooldown = 30 * time.Second

// Health is what one provider process knows of each tenant's services, shared by every
// call for that tenant. A managed-services state holds many connections of several
// tenants; when one tenant's sign-in or service is down, each of its calls running its own
// back-off would stall the whole run for (connections × retries), and the healthy tenants'
// calls would wait behind them. Health keeps that to one call's retries per tenant and
// service:
//
//   - a call whose attempt fails transiently (throttled, 5xx, a lost connection, a broken
//     answer) becomes the service's prober and retries under its Policy; the calls of the
//     same tenant and service that start or fail meanwhile wait for its next attempt
//     instead of running their own back-off: a blip costs them one wait;
//   - when that next attempt fails too, the service is failing: a check (a context marked
//     with Checking: a drift check, which loses nothing by reporting the tenant unavailable
//     now) fails at once with the failure seen so far (*UnavailableError), so the checks of
//     a down tenant do not keep the caller's slots (Terraform runs ten operations at a
//     time) from the other tenants' for the length of the retries; any other call (a
//     change, which needs the real outcome) waits for the prober's;
//   - when the prober gives up, the service is down: every call for Cooldown fails at once
//     with its diagnosis (the tenant, the endpoint and what it answered); then one call
//     tries again with a single attempt, whose success ends the outage and whose failure
//     starts another Cooldown. A prober's success ends it at any time.
//
// Tenants and services are independent: no call ever waits for another tenant's. The zero
// value is ready to use; a nil *Health keeps no state (every call runs on its own).
type Health struct {
	// Cooldown is how long a down service is not asked again (DefaultCooldown when 0).
	Cooldown time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu sync.Mutex
	m  map[HealthKey]*serviceHealth
}

// HealthKey names one service of one tenant.
type HealthKey struct {
	// Tenant as the requests name it: a domain or the tenant id (compared case-insensitively).
	Tenant string
	// Service: "login", "graph", "exchange", "ews".
	Service string
}

type serviceHealth struct {
	// probing is closed when the prober's call ends; nil while no call is retrying.
	probing chan struct{}
	// failing is closed when the prober's attempts have failed twice in a row; failed is
	// the diagnosis so far then.
	failing chan struct{}
	failed  *UnavailableError
	// failures counts the prober's transient failures in a row.
	failures int
	// down is the verdict of the last prober that gave up; nil while the service works.
	down *UnavailableError
}

// UnavailableError is a tenant's service that kept failing after one call's retries. Every
// call of that tenant and service during the cool-down gets the same diagnosis.
type UnavailableError struct {
	Tenant, Service string
	// Endpoint is the URL that failed, without its query.
	Endpoint string
	// Err is what the last attempt got (Microsoft's answer or the network failure).
	Err error
	// Since is when the service was first found failing; Until when a call tries it again
	// (zero while a call is still retrying).
	Since, Until time.Time
	// Shared: this call did not ask the service; it reports the prober's diagnosis.
	Shared bool
}

func (e *UnavailableError) Error() string {
	next := "another call is still retrying"
	if !e.Until.IsZero() {
		next = fmt.Sprintf("calls for this tenant's %s are not retried before %s", e.Service, e.Until.UTC().Format(time.TimeOnly))
	}
	return fmt.Sprintf("%s of tenant %s is unavailable (%s kept failing since %s: %v); %s",
		serviceName(e.Service), e.Tenant, e.Endpoint, e.Since.UTC().Format(time.TimeOnly), e.Err, next)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// IsUnavailable reports whether err is a tenant's service found down (by this call or
// another one).
func IsUnavailable(err error) bool {
	_, ok := errors.AsType[*UnavailableError](err)
	return ok
}

func serviceName(s string) string {
	switch s {
	case "login":
		return "The sign-in service (token endpoint)"
	case "graph":
		return "Microsoft Graph"
	case "exchange":
		return "The Exchange Online admin API"
	case "ews":
		return "Exchange Web Services"
	}
	return s
}

type checkingKey struct{}

// Checking marks ctx as a read-only check (a drift check): while a tenant's service is
// failing, its calls report it at once instead of waiting for the end of another call's
// retries.
func Checking(ctx context.Context) context.Context {
	return context.WithValue(ctx, checkingKey{}, true)
}

func checking(ctx context.Context) bool {
	b, _ := ctx.Value(checkingKey{}).(bool)
	return b
}

// AttemptFunc is one try of an operation under Policy.Do.
type AttemptFunc func(ctx context.Context) (retryAfter time.Duration, retry bool, err error)

// Do runs attempt under p as Policy.Do does, sharing the outcome with the other calls for
// key (see Health). endpoint names the URL in the diagnosis. A call made while the service
// is down fails at once with the shared *UnavailableError.
func (h *Health) Do(ctx context.Context, key HealthKey, endpoint string, p Policy, attempt AttemptFunc) error {
	if h == nil || key.Tenant == "" {
		return p.Do(ctx, attempt)
	}
	key.Tenant = strings.ToLower(key.Tenant)
	if within(ctx, key) {
		// A call made inside one for the same service (a write's recovery reading back what
		// it did) is part of it: gating it would wait for itself.
		return p.Do(ctx, attempt)
	}
	ctx = context.WithValue(ctx, healthCallKey{}, &healthCall{key: key, outer: outerCall(ctx)})
	probing, err := h.admit(ctx, key)
	if err != nil {
		return err
	}
	if probing {
		p.MaxRetries = 0 // after the cool-down: one attempt says whether the service is back
	}
	var transient bool
	err = p.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		wait, retry, err := attempt(ctx)
		transient = err != nil && retry
		switch {
		case !transient:
			return wait, retry, err
		case probing:
			h.failed(key, endpoint, err)
			return wait, retry, err
		}
		became, verdict := h.join(ctx, key)
		switch {
		case became:
			probing = true
			h.failed(key, endpoint, err)
			return wait, retry, err
		case verdict != nil:
			transient = false
			return 0, false, verdict
		}
		return 0, true, err // the prober got through: try again now
	})
	if !probing {
		return err
	}
	return h.settle(ctx, key, endpoint, err, transient)
}

// failed records a transient failure of the prober's attempt; the second in a row releases
// the waiting calls with the diagnosis so far.
func (h *Health) failed(key HealthKey, endpoint string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(key)
	if st.probing == nil {
		return
	}
	st.failures++
	if st.failures < 2 || st.failed != nil {
		return
	}
	since := h.now()
	if st.down != nil {
		since = st.down.Since
	}
	st.failed = &UnavailableError{Tenant: key.Tenant, Service: key.Service, Endpoint: endpoint, Err: err, Since: since}
	close(st.failing)
}

// admit lets a call start: at once while the service works, after the prober's outcome
// while one is retrying, never while it is down (the verdict is returned). probing reports
// that the cool-down has passed and this call is the one to try again.
func (h *Health) admit(ctx context.Context, key HealthKey) (probing bool, err error) {
	for {
		h.mu.Lock()
		st := h.state(key)
		switch {
		case st.probing != nil && st.failed != nil && checking(ctx):
			v := st.failed.shared()
			h.mu.Unlock()
			return false, v
		case st.probing != nil:
			probe, failing := st.probing, st.failingFor(ctx)
			h.mu.Unlock()
			if err := wait(ctx, probe, failing); err != nil {
				return false, err
			}
			continue
		case st.down == nil:
			h.mu.Unlock()
			return false, nil
		case h.now().Before(st.down.Until):
			v := st.down.shared()
			h.mu.Unlock()
			return false, v
		}
		st.startProbe()
		h.mu.Unlock()
		return true, nil
	}
}

// join is called by a call whose attempt failed transiently. It becomes the prober when
// there is none (became); otherwise it waits for the prober: its verdict when the prober
// gave up, neither when it got through (the call tries again).
func (h *Health) join(ctx context.Context, key HealthKey) (became bool, verdict error) {
	h.mu.Lock()
	st := h.state(key)
	switch {
	case st.probing == nil && st.down != nil && h.now().Before(st.down.Until):
		v := st.down.shared()
		h.mu.Unlock()
		return false, v
	case st.probing == nil:
		st.startProbe()
		h.mu.Unlock()
		return true, nil
	case st.failed != nil && checking(ctx):
		v := st.failed.shared()
		h.mu.Unlock()
		return false, v
	}
	probe, failing := st.probing, st.failingFor(ctx)
	h.mu.Unlock()
	if err := wait(ctx, probe, failing); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case st.probing != nil && st.failed != nil && checking(ctx):
		return false, st.failed.shared()
	case st.probing == nil && st.down != nil && h.now().Before(st.down.Until):
		return false, st.down.shared()
	}
	return false, nil
}

// failingFor is the channel that releases ctx's call when the service is failing: a
// check's; nil (never) for any other call, which waits for the prober's outcome.
func (st *serviceHealth) failingFor(ctx context.Context) chan struct{} {
	if checking(ctx) {
		return st.failing
	}
	return nil
}

func (st *serviceHealth) startProbe() {
	st.probing, st.failing, st.failed, st.failures = make(chan struct{}), make(chan struct{}), nil, 0
}

// settle records the prober's outcome and wakes the calls waiting for it. A transient
// failure after the retries puts the service down for the cool-down; a success, or an
// answer that is no outage (a refusal, a not-found), ends it. A call that ended with its
// own context says nothing of the service.
func (h *Health) settle(ctx context.Context, key HealthKey, endpoint string, err error, transient bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(key)
	defer func() {
		if st.probing != nil {
			close(st.probing)
			st.probing, st.failing, st.failed, st.failures = nil, nil, nil, 0
		}
	}()
	switch {
	case ctx.Err() != nil && err != nil && !errors.Is(err, ErrWaitExceedsDeadline):
		return err
	case err == nil || !transient:
		st.down = nil
		return err
	}
	now := h.now()
	since := now
	switch {
	case st.down != nil:
		since = st.down.Since
	case st.failed != nil:
		since = st.failed.Since
	}
	cooldown := h.Cooldown
	if cooldown <= 0 {
		cooldown = DefaultCooldown
	}
	st.down = &UnavailableError{Tenant: key.Tenant, Service: key.Service, Endpoint: endpoint, Err: err, Since: since, Until: now.Add(cooldown)}
	v := *st.down
	return &v
}

func (h *Health) state(key HealthKey) *serviceHealth {
	if h.m == nil {
		h.m = map[HealthKey]*serviceHealth{}
	}
	st, ok := h.m[key]
	if !ok {
		st = &serviceHealth{}
		h.m[key] = st
	}
	return st
}

func (h *Health) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// healthCall marks a context as inside a call for key (and its enclosing calls).
type healthCall struct {
	key   HealthKey
	outer *healthCall
}

type healthCallKey struct{}

func outerCall(ctx context.Context) *healthCall {
	c, _ := ctx.Value(healthCallKey{}).(*healthCall)
	return c
}

// within reports whether ctx is inside a call for key.
func within(ctx context.Context, key HealthKey) bool {
	for c := outerCall(ctx); c != nil; c = c.outer {
		if c.key == key {
			return true
		}
	}
	return false
}

func (e *UnavailableError) shared() *UnavailableError {
	v := *e
	v.Shared = true
	return &v
}

// wait waits until the prober's call ends, failing is closed (its attempts failed twice in
// a row; nil: never) or ctx ends.
func wait(ctx context.Context, probe, failing <-chan struct{}) error {
	select {
	case <-probe:
		return nil
	case <-failing:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Endpoint is what a diagnosis says of a request URL: scheme, host and path, no query
// (skip tokens and filters say nothing useful and can be long).
func Endpoint(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Clip(rawURL, 200)
	}
	return u.Scheme + "://" + u.Host + u.Path
}
