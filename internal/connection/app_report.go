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
	for i := range c.st.Unreachable {
		u := &c.st.Unreachable[i]
		need := u.need(c.spec.Protocol)
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
		case MailboxEWSClosed:
			u.Detail = "EWS refused the request by policy (HTTP 403); the EWS status says which switch closed it."
		default:
			u.Missing = c.missingFor(need)
			if need.Exchange == nil {
				// A directory read: an Entra permission on every protocol (RBAC for
				// Applications has no directory roles, WIRE.md §M3.3).
				g := roles.Grant{Kind: roles.ApplicationPermission, Permission: need.Entra}
				u.Detail = fmt.Sprintf("The application may not read %s's mailbox id: it lacks the application permission %s (%s), which stays a tenant-wide Entra consent even when mailbox access is scoped. Grant it with admin consent: %s",
					u.Mailbox, need.Entra.String(), need.Purpose, g.GrantCommand(c.spec.Principal.Name, ""))
				break
			}
			mailPerm, mailRole := need.Entra.String(), need.Exchange.Name
			if c.opts().Scoped {
				// The application's mailbox access comes from Exchange application roles: the
				// fix is the role, inside the scope its other roles use, never a tenant-wide consent.
				g := roles.Grant{Kind: roles.ExchangeApplicationRole, Role: need.Exchange}
				u.Detail = fmt.Sprintf("The application may not open %s: none of its Exchange application roles grants %s. Assign it: %s",
					u.Mailbox, mailRole, g.GrantCommand(c.spec.Principal.Name, c.scope()))
				break
			}
			u.Detail = fmt.Sprintf("The application may not open %s: it holds neither the application permission %s (tenant-wide) nor an Exchange application role %s whose scope contains the mailbox. "+
				"Grant the permission with admin consent, or assign the role with New-ManagementRoleAssignment -App '%s' -Role '%s' -CustomResourceScope '<scope>'.",
				u.Mailbox, mailPerm, mailRole, c.spec.Principal.Name, mailRole)
			if c.st.ExchangeRolesUnread != "" && !c.exoRolesRead && c.mayManage() {
				u.Detail += " (" + c.st.ExchangeRolesUnread + ")"
			}
		}
	}
	// A mailbox a role covers that Exchange has not applied yet is pending, not unreachable.
	kept := c.st.Unreachable[:0]
	for _, u := range c.st.Unreachable {
		if u.Problem == MailboxNotYetEffective {
			c.st.Pending = append(c.st.Pending, u.Mailbox)
			continue
		}
		kept = append(kept, u)
	}
	c.st.Unreachable = kept
	sort.Strings(c.st.Pending)
	sort.Slice(c.st.Unreachable, func(i, j int) bool { return c.st.Unreachable[i].Mailbox < c.st.Unreachable[j].Mailbox })
}

// missingFor is the permission of st.Missing that need stands for (its Entra permission, or
// its Exchange application role for a scoped application), "" when need is not missing.
func (c *appCheck) missingFor(need roles.Need) string {
	for _, m := range c.st.Missing {
		if strings.EqualFold(m, need.Entra.String()) || (need.Exchange != nil && strings.EqualFold(m, need.Exchange.String())) {
			return m
		}
	}
	return ""
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
		parts = append(parts, MissingSummary(st)+" missing")
		b.WriteString(MissingPermissionsText(st))
	}
	if len(st.Unreachable) > 0 {
		parts = append(parts, Count(len(st.Unreachable), "mailbox", "mailboxes")+" unreachable")
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

// MissingSummary counts what is missing by what grants it: "1 Exchange application role",
// "2 permissions", or both.
func MissingSummary(st *AppStatus) string {
	exo := 0
	for _, m := range st.Missing {
		if strings.HasPrefix(m, roles.ExchangeRBAC+"/") {
			exo++
		}
	}
	var parts []string
	if n := len(st.Missing) - exo; n > 0 {
		parts = append(parts, Count(n, "permission", "permissions"))
	}
	if exo > 0 {
		parts = append(parts, Count(exo, "Exchange application role", "Exchange application roles"))
	}
	return strings.Join(parts, " and ")
}

// MissingPermissionsText lists the missing permissions with what grants each: admin
// consent for an application permission, the role assignment for an Exchange role.
func MissingPermissionsText(st *AppStatus) string {
	var b strings.Builder
	b.WriteString("Missing (run what follows each):\n")
	for _, m := range st.Missing {
		n, _ := roles.LookupGrant(m)
		fmt.Fprintf(&b, "\n  %s (%s):\n    %s\n", m, n.Purpose, st.MissingFixes[m])
	}
	return b.String()
}

// PendingText says which mailboxes wait for Exchange to apply an RBAC change.
func PendingText(st *AppStatus) string {
	return "Test-ServicePrincipalAuthorization shows an Exchange application role of the application covering " + strings.Join(st.Pending, ", ") +
		", but Microsoft Graph and EWS do not open " + map[bool]string{true: "it", false: "them"}[len(st.Pending) == 1] +
		" yet: the role assignment or its scope is not effective yet — Exchange applies RBAC changes within 30 minutes to 2 hours; plan again later."
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

// ScopeBypass is a tenant-wide Entra consent that defeats an application's mailbox scope
// (roles.ScopeBypasses), with the command that removes it.
type ScopeBypass struct {
	// Permission is the grant string ("Microsoft Graph/Mail.ReadWrite").
	Permission string
	// Revoke is the command an administrator would run to remove the consent.
	Revoke string
}

// scopeBypasses lists h's consents that open mailbox data in every mailbox although the
// application's mailbox access is meant to be scoped.
func scopeBypasses(h roles.Held, clientID string) []ScopeBypass {
	var out []ScopeBypass
	for _, p := range roles.ScopeBypasses(h) {
		out = append(out, ScopeBypass{Permission: p.String(), Revoke: p.RevokeCommand(clientID)})
	}
	return out
}

// ScopeBypassText says what the consents do to the scope and how to remove them. The
// provider never removes a consent itself: it may have been given on purpose, by someone
// else, for another use of the application.
func ScopeBypassText(b []ScopeBypass) string {
	var sb strings.Builder
	sb.WriteString("Exchange grants an application the union of its tenant-wide consents and its scoped Exchange application roles, " +
		"so with these consents the application reaches every mailbox of the tenant for that data, whatever its management scope says:")
	for _, x := range b {
		sb.WriteString("\n  - " + x.Permission + ": remove the consent (Microsoft Entra admin center, Enterprise applications, the application, Permissions; or Microsoft Graph PowerShell):\n      " + x.Revoke)
	}
	sb.WriteString("\nThe scoped roles keep the access the migration needs. Exchange applies the change within 30 minutes to 2 hours.")
	return sb.String()
}
