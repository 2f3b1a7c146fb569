package main

import (
	"errors"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

const demoSeed = "../../examples/demo/tenant.json"

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
			seed, err := emulator.LoadSeed(cfg.seedFile)
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
