package connection

import (
	"strings"
	"testing"
)

// No two problems share a value or a name (the provider's tables key on them), and every
// problem and reason has its name.
func TestProblemsAreDistinct(t *testing.T) {
	seen, names := map[Problem]bool{}, map[string]bool{}
	for _, p := range []Problem{ProblemOther, ProblemCredentials, ProblemAccountGone, ProblemTenant, ProblemClient, ProblemEWS,
		ProblemMissingRoles, ProblemCannotAssign, ProblemCannotRevoke, ProblemNotYetEffective, ProblemServiceUnavailable,
		ProblemMissingPermissions, ProblemUnreachable, ProblemImpersonationRetired, ProblemEWSClosed, ProblemManagementDenied, ProblemResourceMissing, ProblemScopeRefused} {
		if seen[p] || names[p.String()] {
			t.Fatalf("problem %d (%s) is used twice", int(p), p)
		}
		if p.String() == "" || strings.HasPrefix(p.String(), "Problem(") {
			t.Fatalf("problem %d has no name", int(p))
		}
		seen[p], names[p.String()] = true, true
	}
	if got := Problem(len(problemNames)).String(); got != "Problem(18)" {
		t.Fatalf("an unknown problem reads %q", got)
	}
	for r := ReasonNone; r <= ReasonBadCredential; r++ {
		if strings.HasPrefix(r.String(), "Reason(") || r.String() == "" {
			t.Fatalf("reason %d has no name", int(r))
		}
	}
}
