package connection

import (
	"context"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The EWS side of the admin-account connection: its verification by impersonating its own
// mailbox, the wait for a new role to take effect, and the diagnosis of a tenant where the
// seed's model cannot work (DESIGN.md §7.4, WIRE.md §K): ApplicationImpersonation retired,
// or EWS closed by one of its switches. Every diagnosis starts from an answer the
// connection's own checks already got (EWS denied impersonation, or answered 403), so a
// healthy tenant's drift check makes no request for it (BENCHMARKS.md: three per
// connection).

// verify impersonates the account's own mailbox, which proves EWS access and impersonation
// in one call. When impersonation is denied, it opens the own mailbox too, so an account EWS
// cannot serve (no mailbox) fails before any role is assigned.
func (s *session) verify(ctx context.Context) (bool, error) {
	_, err := s.ews().GetFolder(ctx, s.who.Name)
	if ews.IsImpersonationDenied(err) {
		if _, err := s.ews().GetFolder(ctx, ""); err != nil {
			return false, s.ewsRefused(ctx, err)
		}
		return false, nil
	}
	if err != nil {
		return false, s.ewsRefused(ctx, err)
	}
	return true, nil
}

// probe tries EWS impersonation once. A denial while ApplicationImpersonation is listed
// means a new assignment has not taken effect yet; a 403 is diagnosed (ewsRefused).
func (s *session) probe(ctx context.Context) (bool, error) {
	_, err := s.ews().GetFolder(ctx, s.who.Name)
	switch {
	case err == nil:
		return true, nil
	case ews.IsImpersonationDenied(err):
		return false, nil
	}
	return false, s.ewsRefused(ctx, err)
}

// waitUntilEffective polls the principal's access until it works: Exchange takes a while
// before a new assignment (ApplicationImpersonation for a user) is effective. The wait is
// bounded by ctx (the resource's create or update timeout).
func (e *Env) waitUntilEffective(ctx context.Context, conn *session, res *Result) error {
	delay := time.Second
	for {
		ok, err := conn.probe(ctx)
		if ok {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return notYetEffective(conn, res, ctx.Err())
			}
			return err
		}
		if e.Log != nil {
			e.Log(ctx, "access not effective yet; waiting", map[string]any{"wait": delay.String()})
		}
		if err := e.sleep(ctx, delay); err != nil {
			return notYetEffective(conn, res, err)
		}
		if delay *= 2; delay > 15*time.Second {
			delay = 15 * time.Second
		}
	}
}

// retiredIfDenied is the diagnosis after EWS denied the account impersonation while it does
// not hold ApplicationImpersonation: either the role is merely missing (it can be assigned),
// or the tenant has retired it. Get-ManagementRole answers not-found for a retired role
// (§K1); one request, made only on this path. An error reading it is no diagnosis: the
// caller goes on as before.
func (s *session) retiredIfDenied(ctx context.Context) error {
	if rs, err := s.exchange().GetManagementRoles(ctx, roles.Impersonation().Name); err == nil && len(rs) == 0 {
		return impersonationRetired(s)
	}
	return nil
}

func impersonationRetired(s *session) *Error {
	role := roles.Impersonation().Name
	return s.fail(ProblemImpersonationRetired, role+" no longer exists in this tenant",
		"Exchange Online retired the "+role+" role: new assignments were blocked from September 2024 and the role was removed from February 2025. "+
			"The tenant answers that the role does not exist, so "+s.who.Name+" cannot be given the right to open other mailboxes through EWS impersonation, and no role assignment can change that. "+
			"Mailbox access now goes through an Entra application instead: Microsoft Graph application permissions, scoped to the migrated mailboxes with Exchange RBAC for Applications.", nil)
}

// ewsClosed is the diagnosis after EWS answered 403: the switch that closed EWS for the
// account's own mailbox, with the command that reopens it (ews_switches.go).
func (s *session) ewsClosed(ctx context.Context, cause error) error {
	c := s.closedEWS(ctx, s.who.Name, "")
	e := s.fail(ProblemEWSClosed, c.Summary(), c.Detail(), cause)
	e.Switch = c.Switch
	return e
}

// ewsRefused is the error of a failed EWS call of the account: a 403 is diagnosed, anything
// else explained as before.
func (s *session) ewsRefused(ctx context.Context, err error) error {
	if ews.IsClosed(err) {
		return s.ewsClosed(ctx, err)
	}
	return ewsError(s, err)
}

// Diagnose is the plan-time check of a connection that does not exist yet (DESIGN.md §7.4):
// sign in, and try EWS impersonation of the account's own mailbox once. It changes nothing.
// It returns nil when apply can go ahead (impersonation works, or is only denied because
// the role is not assigned yet), the sign-in error, or the diagnosis: role retired, EWS
// closed (and which switch). Two requests when the account already holds its roles.
func (e *Env) Diagnose(ctx context.Context, spec Spec) error {
	conn, err := e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil {
		return err
	}
	if _, err := conn.signIn(ctx); err != nil {
		return err
	}
	_, err = conn.ews().GetFolder(ctx, conn.who.Name)
	switch {
	case err == nil:
		return nil
	case ews.IsImpersonationDenied(err):
		return conn.retiredIfDenied(ctx)
	}
	return conn.ewsRefused(ctx, err)
}
