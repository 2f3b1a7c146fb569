package provider

// Fault-injection acceptance suite (RELIABILITY.md): the emulated tenant fails a
// fraction of the requests on every route (429 with fractional Retry-After, 503, 504,
// connection resets, slow answers, EWS ErrorServerBusy) and the provider must converge with
// Terraform state equal to the tenant's, no duplicate and no lost assignment; a failure or a
// timeout half-way must leave state recording exactly what was done.
//
//   scripts/testacc.sh terraform -run 'TestAccReliability' ./internal/provider/
//   scripts/testacc.sh tofu      -run 'TestAccReliability' ./internal/provider/

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// faultLog counts the emulator's answers by status through its request log: 0 is a
// connection reset, 500 on EWS is ErrorServerBusy here.
type faultLog struct {
	mu       sync.Mutex
	byStatus map[int]int
	byRoute  map[string]int // route of every non-2xx answer
}

var logLine = regexp.MustCompile(`route=(\S*) user=\S* status=(\d+)`)

func (l *faultLog) logf(format string, args ...any) {
	m := logLine.FindStringSubmatch(fmt.Sprintf(format, args...))
	if m == nil {
		return
	}
	st, _ := strconv.Atoi(m[2])
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == 0 || st >= 429 {
		l.byStatus[st]++
		l.byRoute[m[1]]++
	}
}

func (l *faultLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for st, n := range l.byStatus {
		name := strconv.Itoa(st)
		if st == 0 {
			name = "reset"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (l *faultLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.byStatus {
		n += v
	}
	return n
}

// startReliabilityTenant starts the tenant with a log of its failed answers.
func startReliabilityTenant(t *testing.T, opts emulator.Options) (*emulator.Server, *faultLog) {
	t.Helper()
	fl := &faultLog{byStatus: map[int]int{}, byRoute: map[string]int{}}
	opts.Logf = fl.logf
	return startTenant(t, opts), fl
}

func relResource(i int, extra string) string {
	return fmt.Sprintf(`
resource "o365_target_connection" "c%02d" {
  name                 = "Reliability %02d"
  admin_email          = %q
  password             = %q
  user_management_role = %t
%s}
`, i, i, relUPN(i), relPassword(i), relUserMgmt(i), extra)
}

// injectChaos makes a fraction of every Microsoft route fail. Faults are checked in this
// order and the first that fires applies, so the overall rate is about 25% of requests on
// every route (more on EWS).
func injectChaos(s *emulator.Server) {
	for _, f := range []emulator.Fault{
		{Route: "*", Status: 429, RetryAfter: "0.2", Probability: 0.06},  // Graph/EXO throttling, fractional Retry-After
		{Route: "*", Status: 429, RetryAfter: "0.05", Probability: 0.03}, // …a smaller fractional one
		{Route: "*", Status: 503, Probability: 0.05},                     // transient, no Retry-After: backoff with jitter
		{Route: "*", Status: 504, RetryAfter: "0.1", Probability: 0.02},  // gateway timeout with Retry-After
		{Route: "*", Reset: true, Probability: 0.04},                     // connection reset, no response
		{Route: "*", Delay: 300 * time.Millisecond, Probability: 0.05},   // slow answer (then served)
		{Route: "ews.GetFolder", EWSBusy: true, BackOffMilliseconds: 150, Probability: 0.10},
	} {
		s.InjectFault(f)
	}
}

// stateMatchesTenant checks, for every connection in state: managed_role_assignments equals
// the assignments the tenant shows created for that admin (Exchange assignments by name,
// directory assignments by id); missing_roles is empty; and the tenant holds exactly one
// direct assignment per required role (no duplicate, none lost).
func stateMatchesTenant(s *emulator.Server, conns ...int) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		var problems []string
		for _, i := range conns {
			name := fmt.Sprintf("o365_target_connection.c%02d", i)
			rs, ok := st.RootModule().Resources[name]
			if !ok || rs.Primary == nil {
				problems = append(problems, name+": not in state")
				continue
			}
			a := rs.Primary.Attributes
			if a["missing_roles.#"] != "0" {
				problems = append(problems, fmt.Sprintf("%s: missing_roles.# = %s", name, a["missing_roles.#"]))
			}
			var inState []string
			count, _ := strconv.Atoi(a["managed_role_assignments.#"])
			for k := 0; k < count; k++ {
				inState = append(inState, a[fmt.Sprintf("managed_role_assignments.%d.role", k)]+"="+a[fmt.Sprintf("managed_role_assignments.%d.id", k)])
			}
			var inTenant []string
			perRole := map[string]int{}
			for _, x := range assignmentsOf(s, relUPN(i)) {
				perRole[x.role]++
				if x.createdBy != "" {
					inTenant = append(inTenant, x.role+"="+x.id)
				}
			}
			sort.Strings(inState)
			sort.Strings(inTenant)
			if strings.Join(inState, "|") != strings.Join(inTenant, "|") {
				problems = append(problems, fmt.Sprintf("%s: state manages %q, tenant shows created %q", name, inState, inTenant))
			}
			want := append([]string(nil), defaultRequired...)
			if relUserMgmt(i) {
				want = append(want, "User Administrator")
			}
			for _, r := range want {
				if perRole[r] != 1 {
					problems = append(problems, fmt.Sprintf("%s: tenant has %d direct assignments of %q, want exactly 1", name, perRole[r], r))
				}
			}
			if len(inTenant) != len(want) {
				problems = append(problems, fmt.Sprintf("%s: %d assignments created, want %d", name, len(inTenant), len(want)))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("state and tenant disagree:\n  %s", strings.Join(problems, "\n  "))
		}
		return nil
	}
}

// TestAccReliability_tenConnectionsUnderFaults applies ten connections while about a
// quarter of the requests on every route fail. The first apply may fail (a call that
// exhausts max_retries); a second apply must finish the job. Either way state equals the
// tenant, nothing is doubled or lost, and the next plan (still under faults) is empty.
func TestAccReliability_tenConnectionsUnderFaults(t *testing.T) {
	runTenUnderFaults(t, "tenConnectionsUnderFaults", nil, false)
}

// TestAccReliability_tenConnectionsUnderFaultsWithPartialFailures adds, before the random
// faults, two deterministic non-retryable failures in the first apply: rel03's first role
// assignment fails (nothing done, no state) and rel07's third one fails after two succeeded
// (tainted, two recorded). The first apply must fail, the second (still under random
// faults) must converge.
func TestAccReliability_tenConnectionsUnderFaultsWithPartialFailures(t *testing.T) {
	runTenUnderFaults(t, "tenConnectionsUnderFaultsWithPartialFailures", func(s *emulator.Server) {
		const route = "exo.New-ManagementRoleAssignment"
		s.InjectFault(emulator.Fault{Route: route, User: relUPN(3), Status: 400, Count: 1})
		s.InjectFault(emulator.Fault{Route: route, User: relUPN(7), Delay: time.Millisecond, Count: 2})
		s.InjectFault(emulator.Fault{Route: route, User: relUPN(7), Status: 400, Count: 1})
	}, true)
}

func runTenUnderFaults(t *testing.T, label string, before func(*emulator.Server), wantFirstFailure bool) {
	s, fl := startReliabilityTenant(t, emulator.Options{})
	cfg := providerBlock(s, 6)
	var all []int
	for i := 1; i <= relAdmins; i++ {
		cfg += relResource(i, "")
		all = append(all, i)
	}
	var (
		step       int
		firstError error
		started    time.Time // set when the test really starts (after t.Parallel)
	)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Factories,
		// Only the first apply may fail; the one after it must converge.
		ErrorCheck: func(err error) error {
			if step == 1 && firstError == nil {
				firstError = err
				return nil
			}
			return err
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					step, started = 1, time.Now()
					if before != nil {
						before(s)
					}
					injectChaos(s)
				},
				Config: cfg,
			},
			{
				PreConfig: func() { step = 2 },
				Config:    cfg, // a no-op when the first apply converged; otherwise it finishes the job
				Check:     stateMatchesTenant(s, all...),
			},
			{
				PreConfig: func() { step = 3 },
				Config:    cfg,
				PlanOnly:  true, // the next plan, refreshed under the same faults, is empty
			},
		},
	})
	applies := 1
	if firstError != nil {
		applies = 2
		t.Logf("first apply failed (tolerated once): %v", firstError)
	}
	if wantFirstFailure && firstError == nil {
		t.Error("the first apply should have failed on the injected non-retryable faults")
	}
	c := s.Counters()
	t.Logf("RELIABILITY %s: converged after %d apply(s); %d requests, %d failed answers (%s); duplicates 0, lost 0, final plan empty; duration %s",
		label, applies, c.Total, fl.total(), fl, time.Since(started).Round(100*time.Millisecond))
	if !t.Failed() && fl.total() == 0 {
		t.Error("no fault was injected: the suite proves nothing")
	}
}

// TestAccReliability_failureAfterTwoOfFiveAssignments: New-ManagementRoleAssignment
// succeeds twice, then fails non-retryably. The apply errors; state (tainted) records the
// two assignments really made; the next apply makes the other three, none twice.
func TestAccReliability_failureAfterTwoOfFiveAssignments(t *testing.T) {
	s, _ := startReliabilityTenant(t, emulator.Options{})
	const upn = "rel01@contoso.onmicrosoft.com"
	name := "o365_target_connection.c01"
	cfg := providerBlock(s, 2) + relResource(1, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Factories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					// The first two creations pass (a 1 ms delay is the fault that fires for
					// them), every later one gets a non-retryable 400.
					s.InjectFault(emulator.Fault{Route: "exo.New-ManagementRoleAssignment", Delay: time.Millisecond, Count: 2})
					s.InjectFault(emulator.Fault{Route: "exo.New-ManagementRoleAssignment", Status: 400})
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`Cannot assign role`),
			},
			{
				PreConfig: func() {
					s.ClearFaults()
					if got := exchangeRolesOf(s, upn); len(got) != 2 {
						t.Fatalf("after the failed apply the tenant has %q, want 2 assignments", got)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // tainted: the plan replaces it
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(name, "managed_role_assignments.#", "2"),
					checkTenant(func() error {
						if n := assignmentsCreatedBy(s, upn); n != 2 {
							return fmt.Errorf("tenant shows %d assignments created, want 2", n)
						}
						return nil
					}),
				),
			},
			{
				PreConfig: s.ResetCounters,
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					stateMatchesTenant(s, 1),
					checkTenant(func() error {
						if n := s.Counters().ByRoute["exo.New-ManagementRoleAssignment"]; n != 3 {
							return fmt.Errorf("the finishing apply made %d assignments, want the 3 missing", n)
						}
						return nil
					}),
				),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// TestAccReliability_timeoutStopsPromptly: after two assignments, New-ManagementRoleAssignment
// hangs for 60 s; timeouts.create is 3 s. The apply must fail promptly (well before the
// hang ends), state records the two assignments made, and the next apply finishes.
func TestAccReliability_timeoutStopsPromptly(t *testing.T) {
	s, _ := startReliabilityTenant(t, emulator.Options{})
	const upn = "rel02@contoso.onmicrosoft.com"
	name := "o365_target_connection.c02"
	cfg := func(timeout string) string {
		return providerBlock(s, 3) + relResource(2, fmt.Sprintf("  timeouts {\n    create = %q\n  }\n", timeout))
	}
	var began time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Factories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					s.InjectFault(emulator.Fault{Route: "exo.New-ManagementRoleAssignment", Delay: time.Millisecond, Count: 2})
					s.InjectFault(emulator.Fault{Route: "exo.New-ManagementRoleAssignment", Delay: 60 * time.Second})
					began = time.Now()
				},
				Config:      cfg("3s"),
				ExpectError: regexp.MustCompile(`(?s)Cannot assign role.*deadline exceeded`),
			},
			{
				PreConfig: func() {
					took := time.Since(began)
					t.Logf("RELIABILITY timeoutStopsPromptly: apply with timeouts.create=3s against a 60s hang failed after %s", took.Round(100*time.Millisecond))
					if took > 20*time.Second {
						t.Fatalf("the apply took %s; the 3s create timeout should stop it promptly", took)
					}
					s.ClearFaults()
					if got := exchangeRolesOf(s, upn); len(got) != 2 {
						t.Fatalf("after the timed-out apply the tenant has %q, want 2 assignments", got)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check:              resource.TestCheckResourceAttr(name, "managed_role_assignments.#", "2"),
			},
			{
				Config: cfg("2m"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: checkTenant(func() error {
					if n := assignmentsCreatedBy(s, upn); n != 5 {
						return fmt.Errorf("tenant shows %d assignments created, want 5", n)
					}
					return equalStrings(exchangeRolesOf(s, upn), defaultRequired)
				}),
			},
		},
	})
}
