package connection

import (
	"fmt"
	"sort"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// What an application connection's check found, in words: each unreachable mailbox with
// why and its fix, and the refusal of an apply.

// explainUnreachable writes, for each unreachable mailbox, why and what fixes it.
func (c *appCheck) explainUnreachable() {
	need := roles.MailboxNeed(c.spec.Protocol)
	mailPerm, mailRole := need.Entra.String(), need.Exchange.Name
	for i := range c.st.Unreachable {
		u := &c.st.Unreachable[i]
		switch u.Problem {
		case MailboxMissing:
			u.Detail = u.Mailbox + " has no Exchange Online mailbox (no such user, no licence, or still being provisioned). Assign it an Exchange Online licence, or remove it from the mailboxes to verify."
		case MailboxOutOfScope:
			var scopes []string
			for r, ss := range c.scopes {
				scopes = append(scopes, r+" (scope "+strings.Join(ss, ", ")+")")
			}
			sort.Strings(scopes)
			u.Detail = fmt.Sprintf("%s is outside the management scope of the application's Exchange roles: %s. Widen the scope's recipient filter "+
				"(Set-ManagementScope -Identity '<scope>' -RecipientRestrictionFilter \"…\") or set the mailbox's properties so the filter matches it. "+
				"Exchange takes 30 minutes to 2 hours to apply a changed scope.", u.Mailbox, strings.Join(scopes, "; "))
		case MailboxNotYetEffective:
			u.Detail = fmt.Sprintf("An Exchange application role of the application covers %s, but Exchange has not applied it yet: a new or changed "+
				"role assignment or scope takes 30 minutes to 2 hours to reach Microsoft Graph and EWS. Run apply again later.", u.Mailbox)
		case MailboxEWSClosed:
			u.Detail = "EWS refused the request by policy (HTTP 403); the EWS status says which switch closed it."
		default:
			u.Detail = fmt.Sprintf("The application may not open %s: it holds neither the application permission %s (tenant-wide) nor an Exchange application role %s whose scope contains the mailbox. "+
				"Grant the permission with admin consent, or assign the role with New-ManagementRoleAssignment -App '%s' -Role '%s' -CustomResourceScope '<scope>'.",
				u.Mailbox, mailPerm, mailRole, c.spec.Principal.Name, mailRole)
			if c.st.ExchangeRolesUnread != "" && !c.exoRolesRead && c.mayManage() {
				u.Detail += " (" + c.st.ExchangeRolesUnread + ")"
			}
		}
	}
	sort.Slice(c.st.Unreachable, func(i, j int) bool { return c.st.Unreachable[i].Mailbox < c.st.Unreachable[j].Mailbox })
}

// appProblems is the refusal of an apply whose check found something that does not work:
// every missing permission with its grant command, every unreachable mailbox with its fix,
// and the EWS switch that is closed.
func appProblems(spec AppSpec, st *AppStatus) error {
	if st.Healthy() {
		return nil
	}
	var b strings.Builder
	var parts []string
	if len(st.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d permission(s) missing", len(st.Missing)))
		b.WriteString(MissingPermissionsText(st))
	}
	if len(st.Unreachable) > 0 {
		parts = append(parts, fmt.Sprintf("%d mailbox(es) unreachable", len(st.Unreachable)))
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(UnreachableText(st))
	}
	if st.EWSStatus != "" && st.EWSStatus != EWSEnabled {
		parts = append(parts, "EWS "+st.EWSStatus)
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("EWS: " + st.EWSDetail + "\n")
	}
	problem := ProblemMissingPermissions
	switch {
	case len(st.Missing) > 0:
	case st.EWSStatus != "" && st.EWSStatus != EWSEnabled:
		problem = ProblemEWS
	default:
		problem = ProblemUnreachable
	}
	return &Error{Problem: problem, Account: ConnectionAccount, Who: spec.Principal.Name, Credential: spec.Principal.Credential.Kind(),
		Summary: "Application " + spec.Principal.Name + " cannot serve the migration: " + strings.Join(parts, ", "), Detail: b.String()}
}

// MissingPermissionsText lists the missing permissions with what grants each.
func MissingPermissionsText(st *AppStatus) string {
	var b strings.Builder
	b.WriteString("Missing permissions (grant each with admin consent, or run):\n")
	for _, m := range st.Missing {
		n, _ := roles.LookupGrant(m)
		fmt.Fprintf(&b, "\n  %s (%s):\n    %s\n", m, n.Purpose, st.MissingFixes[m])
	}
	return b.String()
}

// UnreachableText lists the unreachable mailboxes with why and the fix.
func UnreachableText(st *AppStatus) string {
	var b strings.Builder
	b.WriteString("Unreachable mailboxes:\n")
	for _, u := range st.Unreachable {
		fmt.Fprintf(&b, "\n  %s: %s\n", u.Mailbox, u.Detail)
	}
	return b.String()
}
