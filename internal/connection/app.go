package connection

import (
	"context"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The application connection (DESIGN.md §7.3): an Entra application signing in with client
// credentials, whose access to the target mailboxes is verified by probing each of them
// (Graph mailFolders/inbox, WIRE.md §I12; for graph_import the mailbox id, one folder and an
// import session of Graph's mailbox import and export API, §M5.2; or EWS GetFolder with
// ExchangeImpersonation, §I13). It holds application permissions (the token's roles, §I4) and possibly Exchange
// application roles (RBAC for Applications, §J), and it is given nothing: what is missing is
// reported with the command an administrator would run. CheckApp is the read-only check of
// every plan, EnsureApp the same check at apply, refusing with every fix when something
// does not work.

// AppSpec is what the configuration asks of an application connection.
type AppSpec struct {
	Cloud     cloud.Cloud
	Principal Principal // App(...)
	Protocol  roles.Protocol
	// Mailboxes are the addresses the migration writes to; each must be reachable.
	Mailboxes []string
	// New: the connection is being created, possibly right after its application or
	// credential was registered, which Entra replicates for a short while (AADSTS700016,
	// 7000215, 700027 meanwhile, WIRE.md §I5): EnsureApp then retries those for up to
	// replicationWait.
	New bool
	// Reader, when set, reads the application's Exchange application roles
	// (Test-ServicePrincipalAuthorization, WIRE.md §J6) when the application itself may not
	// (it lacks Exchange.ManageAsApp): the provider's management identity, used read-only.
	Reader *Principal
}

// replicationWait bounds the retries of a new connection's sign-in while Entra replicates a
// new application or credential (§I5: "a short time").
const replicationWait = 30 * time.Second

// Mailbox problems (why a mailbox is unreachable).
type MailboxProblem int

const (
	// MailboxDenied: the mailbox exists but the application may not open it (no consent and
	// no Exchange application role covering it).
	MailboxDenied MailboxProblem = iota + 1
	// MailboxOutOfScope: the application holds an Exchange application role, but its scope
	// does not contain the mailbox (Test-ServicePrincipalAuthorization said so).
	MailboxOutOfScope
	// MailboxMissing: no user or no Exchange Online mailbox at the address.
	MailboxMissing
	// MailboxEWSClosed: EWS refused the request by policy (the EWS status says which switch).
	MailboxEWSClosed
	// MailboxNotYetEffective: an Exchange application role covers the mailbox
	// (Test-ServicePrincipalAuthorization says so at once), but Exchange has not applied it
	// to Graph and EWS yet (30 minutes to 2 hours, WIRE.md §J).
	MailboxNotYetEffective
)

// Unreachable is one mailbox the application could not open, with why and the fix.
type Unreachable struct {
	Mailbox string
	Problem MailboxProblem
	Detail  string
	// Missing is the permission in AppStatus.Missing (its grant string) for want of which
	// the mailbox was refused, "" when the refusal has another cause (a scope, no mailbox,
	// EWS closed): granting the missing permissions then reaches the mailbox again.
	Missing string
	// refused is the need whose call the mailbox refused; nil for the protocol's mailbox
	// need (graph_import probes three needs, app_probe.go).
	refused *roles.Need
}

// need is what the mailbox refused: u.refused, else the protocol's mailbox need.
func (u *Unreachable) need(p roles.Protocol) roles.Need {
	if u.refused != nil {
		return *u.refused
	}
	return roles.MailboxNeed(p)
}

// AppStatus is what a check of an application connection found.
type AppStatus struct {
	TenantID string
	// Granted and Missing are permission strings ("Microsoft Graph/Mail.ReadWrite",
	// "Exchange/Application Mail.ReadWrite"), sorted.
	Granted, Missing []string
	// MissingFixes are, per missing permission, what an administrator would run.
	MissingFixes map[string]string
	// Unconfirmed are the Exchange application roles the application evidently holds (its
	// mailboxes open without the Entra permission) but may not read (it lacks
	// Exchange.ManageAsApp): neither granted nor missing.
	Unconfirmed []string
	// Unreachable are the mailboxes that could not be opened, sorted by address.
	Unreachable []Unreachable
	// Pending are the mailboxes an Exchange application role covers
	// (Test-ServicePrincipalAuthorization says so) that Graph or EWS does not open yet:
	// Exchange applies RBAC changes within 30 minutes to 2 hours (WIRE.md §J). Not a failure.
	Pending []string
	// EWSStatus is one of the EWS* values for protocol ews, "" for graph; EWSDetail says
	// what closed it and the command that would open it.
	EWSStatus, EWSDetail string
	// ExchangeRolesUnread says why the Exchange application roles could not be read ("" when
	// they were read or were not needed).
	ExchangeRolesUnread string
	// CredentialExpiresAt is the certificate's end of validity (zero for a secret: its
	// entry is not readable with the migration's own permissions).
	CredentialExpiresAt time.Time
	// ScopeBypassed are the tenant-wide consents that defeat the scope of the application's
	// Exchange application roles; found only when those roles were read anyway (no request
	// is made for them).
	ScopeBypassed []ScopeBypass
}

// UnreachableMailboxes lists the addresses of Unreachable, sorted.
func (st *AppStatus) UnreachableMailboxes() []string {
	out := make([]string, 0, len(st.Unreachable))
	for _, u := range st.Unreachable {
		out = append(out, u.Mailbox)
	}
	return out
}

// UnreachableForMissing reports whether every unreachable mailbox (at least one) was refused
// for want of a permission in Missing: granting what is missing is then the whole fix, and
// the mailboxes say nothing the missing permissions do not.
func (st *AppStatus) UnreachableForMissing() bool {
	for _, u := range st.Unreachable {
		if u.Missing == "" {
			return false
		}
	}
	return len(st.Unreachable) > 0
}

// Healthy reports whether everything the migration needs works.
func (st *AppStatus) Healthy() bool {
	return len(st.Missing) == 0 && len(st.Unreachable) == 0 && (st.EWSStatus == "" || st.EWSStatus == EWSEnabled)
}

// CheckApp is the drift check of every plan: sign in, probe every mailbox, read what the
// application holds. It changes nothing. With everything working it costs one request per
// mailbox plus the tokens (one per audience per process, cached by MSAL), and for an
// application whose token does not carry all its permissions (RBAC for Applications) one
// Test-ServicePrincipalAuthorization; diagnosing a failure costs at most three Exchange
// calls more.
func (e *Env) CheckApp(ctx context.Context, spec AppSpec) (*AppStatus, error) {
	s, err := e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil {
		return nil, err
	}
	c := &appCheck{s: s, spec: spec, st: &AppStatus{MissingFixes: map[string]string{}}}
	if cert := spec.Principal.Credential.Certificate(); cert != nil {
		c.st.CredentialExpiresAt = cert.NotAfter
	}
	if err := c.run(ctx); err != nil {
		return nil, err
	}
	return c.st, nil
}

// EnsureApp is create and update: the check, then a refusal naming every fix when the
// connection does not work. The status is returned even with the error.
func (e *Env) EnsureApp(ctx context.Context, spec AppSpec) (*AppStatus, error) {
	st, err := e.CheckApp(ctx, spec)
	for wait, waited := 2*time.Second, time.Duration(0); spec.New && err != nil && replicating(err) && waited+wait <= replicationWait; wait *= 2 {
		if e.Log != nil {
			e.Log(ctx, "application not signed in yet; Entra may still be replicating it", map[string]any{"wait": wait.String()})
		}
		if e.sleep(ctx, wait) != nil {
			break
		}
		waited += wait
		st, err = e.CheckApp(ctx, spec)
	}
	if err != nil {
		return nil, err
	}
	if err := appProblems(spec, st); err != nil {
		return st, err
	}
	return st, nil
}

// replicating reports the sign-in failures that a just-registered application or credential
// gives until Entra has replicated it (§I5).
func replicating(err error) bool {
	return identity.IsApplicationNotFound(err) || identity.IsInvalidClientSecret(err) || identity.IsInvalidClientAssertion(err)
}
