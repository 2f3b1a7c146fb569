package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

const (
	demoSeed      = "../../examples/demo/tenant.json"
	northwindSeed = "../../internal/emulator/testdata/northwind.json"
	tailspinSeed  = "../../internal/emulator/testdata/tailspin.json"
)

// TestServeFlagsReachTheTenant: the delays of the command line are the
// running tenant's (as its state reports them), 0 keeping the seed's.
func TestServeFlagsReachTheTenant(t *testing.T) {
	for _, tc := range []struct {
		name              string
		args              []string
		rbac, propagation time.Duration
	}{
		{"overrides", []string{"-rbac-delay", "30m", "-propagation-delay", "5s"}, 30 * time.Minute, 5 * time.Second},
		{"seed's values", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe(append([]string{"-seed", demoSeed, "-latency", "1ms"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			seed, err := emulator.LoadSeed(cfg.seedFiles[0])
			if err != nil {
				t.Fatal(err)
			}
			if seed.RBACDelay != 0 || seed.PropagationDelay != 0 {
				t.Fatalf("the demo seed has delays %v, %v: the test needs 0", seed.RBACDelay, seed.PropagationDelay)
			}
			srv, err := emulator.Start(seed, cfg.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			st := srv.Snapshot().Tenant
			if st.RBACDelay != tc.rbac || st.PropagationDelay != tc.propagation || st.Latency != time.Millisecond {
				t.Errorf("tenant delays: rbac %v, propagation %v, latency %v", st.RBACDelay, st.PropagationDelay, st.Latency)
			}
		})
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-rbac-delay", "-1m"},
		{"-propagation-delay", "-1s"},
		{"-latency", "-1ms"},
		{"stray"},
	} {
		_, err := parseServe(append([]string{"-seed", demoSeed}, args...))
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// TestServeSeveralSeeds: each -seed is a tenant behind the one URL, the info
// file lists them in the order of the flags, and the delays reach each.
func TestServeSeveralSeeds(t *testing.T) {
	cfg, err := parseServe([]string{"-seed", demoSeed, "-seed", northwindSeed, "-seed", tailspinSeed, "-rbac-delay", "30m"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := infoOf(c)
	if in.URL != c.URL() || in.TenantID != "7d3b5e8a-2c41-4f6e-9a0b-6c1d2e3f4a5b" || len(in.Tenants) != 3 {
		t.Fatalf("info %+v", in)
	}
	if got := infoFields["tenant_domains"](in); got != "contoso.onmicrosoft.com northwind.onmicrosoft.com tailspin.onmicrosoft.com" {
		t.Errorf("tenant_domains %q", got)
	}
	if got := infoFields["tenant_ids"](in); got != "7d3b5e8a-2c41-4f6e-9a0b-6c1d2e3f4a5b 5a1e9c3d-7b2f-4d8e-b6a4-1c0d9e8f7a6b 9e4b2d6f-1a3c-4b5d-8e7f-6a5b4c3d2e1f" {
		t.Errorf("tenant_ids %q", got)
	}
	for _, tenant := range c.Tenants() {
		if d := tenant.Snapshot().Tenant.RBACDelay; d != 30*time.Minute {
			t.Errorf("%s: rbac delay %v", tenant.InitialDomain(), d)
		}
	}
	// The same seed twice is two tenants with one id: refused, naming it.
	cfg, err = parseServe([]string{"-seed", demoSeed, "-seed", demoSeed})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := start(cfg); err == nil || !strings.Contains(err.Error(), "7d3b5e8a-2c41-4f6e-9a0b-6c1d2e3f4a5b") {
		if c != nil {
			c.Close()
		}
		t.Errorf("the same seed twice: %v", err)
	}
}
