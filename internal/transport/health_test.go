package transport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	errDown  = errors.New("HTTP 503 Service Unavailable")
	errFinal = errors.New("HTTP 400 invalid_grant")
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// noSleep retries at once.
func noSleep(context.Context, time.Duration) error { return nil }

func policy(retries int) Policy { return Policy{MaxRetries: retries, Sleep: noSleep} }

var keyA = HealthKey{Tenant: "Contoso.onmicrosoft.com", Service: "login"}

func TestHealthOneCallRetriesOthersShareItsVerdict(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	h := &Health{Cooldown: time.Minute, Now: clock.Now}
	var attempts atomic.Int32
	const calls = 20
	// Every call's first attempt is held until all calls are in one, so all of them start
	// while the service looks fine and all see it fail.
	allIn := make(chan struct{})
	down := func(context.Context) (time.Duration, bool, error) {
		if n := attempts.Add(1); n == calls {
			close(allIn)
		} else if n < calls {
			<-allIn
		}
		return 0, true, errDown
	}
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			errs[i] = h.Do(context.Background(), keyA, "https://login.example/contoso/oauth2/v2.0/token", policy(3), down)
		})
	}
	wg.Wait()
	if got, want := attempts.Load(), int32(calls+3); got != want {
		t.Fatalf("attempts = %d, want %d (every call's first attempt, then only the prober's 3 retries)", got, want)
	}
	probers := 0
	for i, err := range errs {
		ue, ok := errors.AsType[*UnavailableError](err)
		if !ok {
			t.Fatalf("call %d: err = %v, want *UnavailableError", i, err)
		}
		if !ue.Shared {
			probers++
		}
		if !errors.Is(err, errDown) || ue.Tenant != "contoso.onmicrosoft.com" || ue.Endpoint != "https://login.example/contoso/oauth2/v2.0/token" {
			t.Fatalf("call %d: %+v does not name the tenant, endpoint and answer", i, ue)
		}
	}
	if probers != 1 {
		t.Fatalf("%d calls report their own verdict, want 1 (the prober)", probers)
	}

	// During the cool-down nothing is asked.
	before := attempts.Load()
	clock.Add(59 * time.Second)
	err := h.Do(context.Background(), keyA, "x", policy(3), down)
	if !IsUnavailable(err) || attempts.Load() != before {
		t.Fatalf("during the cool-down: err = %v, attempts %d → %d", err, before, attempts.Load())
	}
	// After it, one attempt (no retries) decides.
	clock.Add(2 * time.Second)
	if err := h.Do(context.Background(), keyA, "x", policy(3), down); !IsUnavailable(err) || attempts.Load() != before+1 {
		t.Fatalf("after the cool-down: err = %v, attempts %d → %d, want one attempt", err, before, attempts.Load())
	}
	ue, _ := errors.AsType[*UnavailableError](h.Do(context.Background(), keyA, "x", policy(3), down))
	if ue == nil || !ue.Since.Equal(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("the outage's start is kept across probes: %+v", ue)
	}
	// The service is back: the probe's success ends the outage.
	clock.Add(2 * time.Minute)
	ok := func(context.Context) (time.Duration, bool, error) { attempts.Add(1); return 0, false, nil }
	if err := h.Do(context.Background(), keyA, "x", policy(3), ok); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if err := h.Do(context.Background(), keyA, "x", policy(3), ok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestHealthTenantsAreIndependent(t *testing.T) {
	h := &Health{}
	probing := make(chan struct{})
	release := make(chan struct{})
	p := policy(1)
	p.Sleep = func(ctx context.Context, _ time.Duration) error {
		close(probing)
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() {
		done <- h.Do(context.Background(), keyA, "x", p, func(context.Context) (time.Duration, bool, error) { return 0, true, errDown })
	}()
	<-probing
	// Tenant A's prober is retrying; tenant B and A's other services are not held.
	for _, k := range []HealthKey{{Tenant: "fabrikam.onmicrosoft.com", Service: "login"}, {Tenant: keyA.Tenant, Service: "graph"}} {
		if err := h.Do(context.Background(), k, "x", policy(3), func(context.Context) (time.Duration, bool, error) { return 0, false, nil }); err != nil {
			t.Fatalf("%v: %v", k, err)
		}
	}
	close(release)
	if err := <-done; !IsUnavailable(err) {
		t.Fatalf("prober: %v", err)
	}
}

func TestHealthProberSuccessLetsWaitersThrough(t *testing.T) {
	h := &Health{}
	var n atomic.Int32
	probing := make(chan struct{})
	release := make(chan struct{})
	p := policy(2)
	var once sync.Once
	p.Sleep = func(ctx context.Context, _ time.Duration) error {
		once.Do(func() { close(probing) })
		<-release
		return nil
	}
	// The first attempt fails, every later one works: a blip.
	blip := func(context.Context) (time.Duration, bool, error) {
		if n.Add(1) == 1 {
			return time.Millisecond, true, errDown // the wait goes to p.Sleep
		}
		return 0, false, nil
	}
	first := make(chan error, 1)
	go func() { first <- h.Do(context.Background(), keyA, "x", p, blip) }()
	<-probing
	// A call started while the prober retries waits for it rather than asking.
	second := make(chan error, 1)
	go func() { second <- h.Do(context.Background(), keyA, "x", p, blip) }()
	select {
	case err := <-second:
		t.Fatalf("the call did not wait for the prober: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("prober: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if got := n.Load(); got != 3 {
		t.Fatalf("attempts = %d, want 3", got)
	}
}

func TestHealthFinalAnswerIsNoOutage(t *testing.T) {
	h := &Health{}
	var n atomic.Int32
	// A transient failure, then a refusal: the service answers, so it is not down.
	flaky := func(context.Context) (time.Duration, bool, error) {
		if n.Add(1) == 1 {
			return 0, true, errDown
		}
		return 0, false, errFinal
	}
	if err := h.Do(context.Background(), keyA, "x", policy(3), flaky); !errors.Is(err, errFinal) || IsUnavailable(err) {
		t.Fatalf("err = %v, want the refusal itself", err)
	}
	if err := h.Do(context.Background(), keyA, "x", policy(3), func(context.Context) (time.Duration, bool, error) { return 0, false, nil }); err != nil {
		t.Fatalf("next call: %v", err)
	}
}

func TestHealthCancelledProberGivesNoVerdict(t *testing.T) {
	h := &Health{}
	ctx, cancel := context.WithCancel(context.Background())
	p := policy(3)
	p.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }
	err := h.Do(ctx, keyA, "x", p, func(context.Context) (time.Duration, bool, error) { return 0, true, errDown })
	if err == nil || IsUnavailable(err) {
		t.Fatalf("cancelled prober: %v", err)
	}
	if err := h.Do(context.Background(), keyA, "x", policy(0), func(context.Context) (time.Duration, bool, error) { return 0, false, nil }); err != nil {
		t.Fatalf("a cancelled call put the service down: %v", err)
	}
}

func TestHealthNilKeepsNoState(t *testing.T) {
	var h *Health
	var n int
	for range 2 {
		_ = h.Do(context.Background(), keyA, "x", policy(2), func(context.Context) (time.Duration, bool, error) { n++; return 0, true, errDown })
	}
	if n != 6 {
		t.Fatalf("attempts = %d, want 6 (each call its own retries)", n)
	}
}

// A write's recovery reads back through the same service inside the call: it must not wait
// for the call it is part of.
func TestHealthNestedCallOfTheSameServiceIsNotGated(t *testing.T) {
	h := &Health{}
	var n atomic.Int32
	err := h.Do(context.Background(), keyA, "x", policy(2), func(ctx context.Context) (time.Duration, bool, error) {
		if n.Add(1) == 1 {
			return 0, true, errDown // this call is now the prober
		}
		done := make(chan error, 1)
		go func() {
			done <- h.Do(ctx, keyA, "x", policy(0), func(context.Context) (time.Duration, bool, error) { return 0, false, nil })
		}()
		select {
		case err := <-done:
			return 0, false, err
		case <-time.After(10 * time.Second):
			return 0, false, errors.New("the nested call waited for its own prober")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// While the prober goes on retrying a service that failed twice in a row, the tenant's
// checks do not wait for the end of its retries: they fail at once with what it saw, so
// they do not hold the caller's slots from the other tenants' calls. A change waits.
func TestHealthFailingServiceReleasesWaitersBeforeTheRetriesEnd(t *testing.T) {
	h := &Health{}
	var attempts atomic.Int32
	secondFailed := make(chan struct{})
	release := make(chan struct{})
	p := policy(5)
	p.Sleep = func(ctx context.Context, _ time.Duration) error {
		if attempts.Load() == 2 {
			close(secondFailed)
			<-release // the prober's retries go on, slowly
		}
		return nil
	}
	down := func(context.Context) (time.Duration, bool, error) { attempts.Add(1); return 0, true, errDown }
	prober := make(chan error, 1)
	go func() { prober <- h.Do(context.Background(), keyA, "https://x/token", p, down) }()
	<-secondFailed
	for i := range 5 {
		err := h.Do(Checking(context.Background()), keyA, "https://x/token", policy(5), down)
		ue, ok := errors.AsType[*UnavailableError](err)
		if !ok || !ue.Shared || !ue.Until.IsZero() || !errors.Is(err, errDown) {
			t.Fatalf("call %d while the prober retries: %v", i, err)
		}
	}
	if got := attempts.Load(); got != 2 {
		t.Fatalf("attempts = %d, want 2 (only the prober's)", got)
	}
	// A change needs the real outcome: it waits for the prober, and shares its verdict.
	change := make(chan error, 1)
	go func() { change <- h.Do(context.Background(), keyA, "https://x/token", policy(5), down) }()
	select {
	case err := <-change:
		t.Fatalf("a change did not wait for the prober: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if ue, ok := errors.AsType[*UnavailableError](<-change); !ok || ue.Until.IsZero() {
		t.Fatalf("the change's verdict: %+v", ue)
	}
	ue, ok := errors.AsType[*UnavailableError](<-prober)
	if !ok || ue.Shared || ue.Until.IsZero() {
		t.Fatalf("prober: %+v", ue)
	}
}

// A blip (one failed attempt, then success) costs the waiting calls one wait, not a failure.
func TestHealthBlipReleasesWaitersWithoutFailure(t *testing.T) {
	h := &Health{}
	var n atomic.Int32
	const calls = 8
	allIn := make(chan struct{})
	blip := func(context.Context) (time.Duration, bool, error) {
		switch k := n.Add(1); {
		case k < calls:
			<-allIn
			return 0, true, errDown
		case k == calls:
			close(allIn)
			return time.Millisecond, true, errDown
		}
		return 0, false, nil
	}
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { errs[i] = h.Do(context.Background(), keyA, "x", policy(3), blip) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
