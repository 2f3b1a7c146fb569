package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/cmd/internal/emuctl"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// The fault scenario of a managed-services state (scenario outage): several benchmark tenants
// in one configuration, served by one emulator; one of them holds N connections and the others
// `healthy` each. scripts/bench.sh times a fault-free no-change plan, then the same plan while
// that tenant's token endpoint answers every request with 503, with the provider's default
// retries. What must hold: the plan still ends as a no-change plan (a drift check of a tenant
// that cannot be reached warns and keeps the state), every connection of the healthy tenants
// is checked, and the time stays bounded whatever N: one call retries the failing tenant's
// sign-in, the others share its verdict instead of each running its own back-off.
const (
	outageTenantCount    = 3
	outageDownTenant     = 2 // the benchmark tenant that holds the N connections and whose sign-in fails
	outageDefaultHealthy = 10
	// outageTargetS is the bound on the wall time of the plan with one tenant down.
	outageTargetS = 45.0
	// outageDefaultRetries is the provider's default max_retries (provider.DefaultMaxRetries),
	// which the outage configuration leaves unset.
	outageDefaultRetries = 5
)

// outageLayout is the connections in each benchmark tenant (index k-1 for tenant k).
func outageLayout(n, healthy int) []int {
	l := make([]int, outageTenantCount)
	for k := range l {
		l[k] = healthy
	}
	l[outageDownTenant-1] = n
	return l
}

// renderOutageConfig is the configuration of scenario outage: n target connections in the
// tenant whose sign-in the bench breaks, `healthy` in each of the others, max_retries unset.
func renderOutageConfig(n, healthy int, url, ca string) (string, error) {
	if n < 1 || healthy < 1 {
		return "", fmt.Errorf("config: -scenario %s needs -n and -healthy of at least 1", scenarioOutage)
	}
	var b strings.Builder
	_, down, _ := benchTenant(outageDownTenant)
	writeProviderHeader(&b, scenarioOutage, n, fmt.Sprintf("%d target connections in %s (the tenant whose sign-in the bench breaks) and %d in each of the other %d benchmark tenants, max_retries unset (the provider's default)",
		n, down, healthy, outageTenantCount-1), url, ca)
	writeTargetConnections(&b, outageLayout(n, healthy))
	return b.String(), nil
}

// outageWorstBackoff is the longest the provider's default retries can wait in all: the sum
// of the full-jitter back-off ceilings (transport.Policy.backoff) over the default retries.
func outageWorstBackoff() time.Duration {
	var d time.Duration
	for n := range outageDefaultRetries {
		d += min(transport.DefaultMaxDelay, transport.DefaultBaseDelay<<n)
	}
	return d
}

// tenantRun is what one command did in one tenant of scenario outage.
type tenantRun struct {
	Domain      string `json:"domain"`
	Connections int    `json:"connections"`
	// Down: its token endpoint answered 503 to every request during the command.
	Down     bool              `json:"down,omitempty"`
	Counters emulator.Counters `json:"counters"`
	// Verified: connections whose whole drift check reached the tenant (the admin's roles
	// read and its EWS access checked).
	Verified int `json:"verified"`
	// Warned: connections the CLI printed a warning about.
	Warned int `json:"warned"`
}

func (t tenantRun) tokens() int { return t.Counters.ByRoute["token"] }

// outageTenantRuns sorts one command's counters (one per tenant, in layout order) and the
// CLI's output into what happened in each tenant.
func outageTenantRuns(layout []int, down int, ctrs []emulator.Counters, output []byte) []tenantRun {
	warned := warnedConnections(output)
	var out []tenantRun
	for k, n := range layout {
		_, domain, _ := benchTenant(k + 1)
		t := tenantRun{Domain: domain, Connections: n, Down: k+1 == down, Counters: ctrs[k]}
		for i := 1; i <= n; i++ {
			upn, _ := benchUserOf(k+1, i)
			if t.Counters.ByRouteUser["exo.Get-ManagementRoleAssignment"][upn] > 0 && t.Counters.ByRouteUser["ews.GetFolder"][upn] > 0 {
				t.Verified++
			}
			if warned[upn] {
				t.Warned++
			}
		}
		out = append(out, t)
	}
	return out
}

// warnedConnections are the admin accounts (lower case) of the target connections that the
// CLI's output (-no-color, without -compact-warnings) warns about: each diagnostic starts with
// a "Warning: …" or "Error: …" line, and one about a resource names it on a later line,
// `  with o365_target_connection.bench["<admin>"],`.
func warnedConnections(output []byte) map[string]bool {
	const with = `with o365_target_connection.bench["`
	w := map[string]bool{}
	warning := false
	for _, line := range strings.Split(string(output), "\n") {
		// Without -no-color the CLIs frame each diagnostic with box-drawing characters.
		t := strings.TrimLeft(strings.TrimSpace(line), "│╷╵ ")
		switch {
		case strings.HasPrefix(t, "Warning: "):
			warning = true
		case strings.HasPrefix(t, "Error: "):
			warning = false
		case strings.HasPrefix(t, with):
			if rest := t[len(with):]; warning && strings.IndexByte(rest, '"') > 0 {
				w[strings.ToLower(rest[:strings.IndexByte(rest, '"')])] = true
			}
			warning = false // the diagnostic's resource is named once
		}
	}
	return w
}

// checkOutage is what must hold whatever the time: every connection of a healthy tenant was
// verified, and each connection of the down tenant was warned about (its state kept, the
// plan unchanged). The error names every tenant where it did not hold.
func checkOutage(runs []tenantRun) error {
	var miss []string
	for _, t := range runs {
		if !t.Down && t.Verified != t.Connections {
			miss = append(miss, fmt.Sprintf("%s: %d of %d connections verified", t.Domain, t.Verified, t.Connections))
		}
		if t.Down && t.Warned != t.Connections {
			miss = append(miss, fmt.Sprintf("%s (down): %d of %d connections warned about", t.Domain, t.Warned, t.Connections))
		}
	}
	if len(miss) > 0 {
		return errors.New(strings.Join(miss, "; "))
	}
	return nil
}

// outageMeasure is measure's part for scenario outage: every tenant's counters, and the CLI's
// output to count the warned connections.
type outageMeasure struct {
	layout  []int
	down    int
	clients []*emuctl.Client // one per tenant, in layout order
	output  bytes.Buffer
}

func newOutageMeasure(c *emuctl.Client, n, healthy, down int) (*outageMeasure, error) {
	if down < 0 || down > outageTenantCount {
		return nil, fmt.Errorf("measure: -down-tenant %d: scenario %s has tenants 1…%d (0: none)", down, scenarioOutage, outageTenantCount)
	}
	o := &outageMeasure{layout: outageLayout(n, healthy), down: down}
	for k := range o.layout {
		_, domain, _ := benchTenant(k + 1)
		o.clients = append(o.clients, c.ForTenant(domain))
	}
	return o, nil
}

// outageFault is the down tenant's fault: its token endpoint answers every request with 503.
const outageFault = `{"route":"token","status":503}`

// reset clears every tenant's counters before the command and breaks the down tenant's
// sign-in (-down-tenant).
func (o *outageMeasure) reset(ctx context.Context) error {
	for _, c := range o.clients {
		if _, err := c.Do(ctx, http.MethodDelete, "/_emulator/counters", ""); err != nil {
			return err
		}
	}
	if o.down > 0 {
		if _, err := o.clients[o.down-1].Do(ctx, http.MethodPost, "/_emulator/faults", outageFault); err != nil {
			return err
		}
	}
	return nil
}

// finish reads every tenant's counters after the command, then lifts the down tenant's fault:
// what happened in each tenant, and their sum (the command's requests).
func (o *outageMeasure) finish(ctx context.Context) ([]tenantRun, emulator.Counters, error) {
	var ctrs []emulator.Counters
	for k, c := range o.clients {
		body, err := c.Do(ctx, http.MethodGet, "/_emulator/counters", "")
		if err != nil {
			return nil, emulator.Counters{}, err
		}
		var ctr emulator.Counters
		if err := json.Unmarshal(body, &ctr); err != nil {
			_, domain, _ := benchTenant(k + 1)
			return nil, emulator.Counters{}, fmt.Errorf("counters of %s: %w", domain, err)
		}
		ctrs = append(ctrs, ctr)
	}
	if o.down > 0 {
		if _, err := o.clients[o.down-1].Do(ctx, http.MethodDelete, "/_emulator/faults", ""); err != nil {
			return nil, emulator.Counters{}, err
		}
	}
	return outageTenantRuns(o.layout, o.down, ctrs, o.output.Bytes()), sumCounters(ctrs), nil
}

// sumCounters adds up several tenants' counters (their callers are distinct accounts).
func sumCounters(cs []emulator.Counters) emulator.Counters {
	s := emulator.Counters{ByRoute: map[string]int{}, ByUser: map[string]int{}, ByRouteUser: map[string]map[string]int{}}
	for _, c := range cs {
		s.Total += c.Total
		for k, v := range c.ByRoute {
			s.ByRoute[k] += v
		}
		for k, v := range c.ByUser {
			s.ByUser[k] += v
		}
		for r, users := range c.ByRouteUser {
			if s.ByRouteUser[r] == nil {
				s.ByRouteUser[r] = map[string]int{}
			}
			for k, v := range users {
				s.ByRouteUser[r][k] += v
			}
		}
	}
	return s
}
