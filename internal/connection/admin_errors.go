package connection

import (
	"errors"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The errors of the admin-account connection.

// ewsError explains a failed EWS check.
func ewsError(s *session, err error) error {
	e := s.fail(ProblemEWS, "Exchange Web Services refused "+s.who.Name, "", err)
	switch {
	case errors.Is(err, ews.ErrUnauthorized):
		e.Detail = "EWS answered 401 Unauthorized: the token or credentials were rejected. Microsoft turned off Basic authentication for EWS in Exchange Online in 2022."
	case errors.Is(err, ews.ErrForbidden):
		e.Detail = "EWS answered 403 Forbidden: a policy closed EWS for this organization or account (its EwsEnabled switches, the EwsAllowedAppIDs allow list, or the end of EWS in Exchange Online)."
	case ews.IsNoMailbox(err):
		e.Detail = "The account has no Exchange Online mailbox. Assign it an Exchange Online licence, or use an admin account that has a mailbox."
	default:
		e.Problem = ProblemOther
		e.Detail = err.Error()
	}
	return e
}

func missingRolesError(s *session, missing []roles.Role) error {
	upn := s.who.Name
	var b strings.Builder
	b.WriteString("The account lacks these roles. An administrator can assign them with:\n")
	for _, r := range missing {
		fmt.Fprintf(&b, "\n  %s (%s):\n    %s\n", r.Name, r.Purpose, r.GrantCommand(upn))
	}
	e := s.fail(ProblemMissingRoles, Count(len(missing), "required role", "required roles")+" missing for "+upn, b.String(), nil)
	e.Roles = missing
	return e
}

func cannotAssignError(assigner *session, missing []roles.Role, err error) error {
	e := assigner.fail(ProblemCannotAssign, "Cannot assign missing roles",
		fmt.Sprintf("%s may not assign the roles %s (%v).", assigner.who.Name, strings.Join(roles.Names(missing), ", "), err), err)
	e.Roles = missing
	return e
}

func cannotRevokeError(assigner *session, m Managed, err error) error {
	e := assigner.fail(ProblemCannotRevoke, "Cannot remove role "+m.Role,
		fmt.Sprintf("%s may not remove the assignment %q (%v).", assigner.who.Name, m.ID, err), err)
	e.Assignment = &m
	return e
}

func notYetEffective(s *session, res *Result, cause error) error {
	what := "The account holds " + roles.Impersonation().Name
	if len(res.Assigned) > 0 {
		what = "Assigned " + strings.Join(res.Assigned, ", ") + "; these assignments are recorded"
	}
	return s.fail(ProblemNotYetEffective, "Roles not effective yet for "+s.who.Name,
		what+", but EWS impersonation still fails: Exchange Online can take a while (up to an hour) before a new role assignment takes effect.", cause)
}
