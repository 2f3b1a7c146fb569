package connection

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The application kind (DESIGN.md §7.3): an Entra application signing in with client
// credentials, whose access to the target mailboxes is verified by probing each of them
// (Graph mailFolders/inbox, WIRE.md §I12, or EWS GetFolder with ExchangeImpersonation,
// §I13). It holds application permissions (the token's roles, §I4) and possibly Exchange
// application roles (RBAC for Applications, §J), and it assigns nothing of its own: what is
// missing is reported with the command an administrator would run. So it has a pipeline of
// two steps of its own, sharing the session, sign-in, clients and errors of the user kind:
// CheckApp (every plan, read-only) and EnsureApp (apply: the same check, refusing with the
// fixes when something does not work).

// App returns the principal of the application clientID signing in to tenant.
func App(tenant, clientID string, c Credential) Principal {
	return Principal{Kind: identity.Application, Name: clientID, Tenant: tenant, Credential: c}
}

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
	// EWSStatus is one of the EWS* values for protocol ews, "" for graph; EWSDetail says
	// what closed it and the command that would open it.
	EWSStatus, EWSDetail string
	// ExchangeRolesUnread says why the Exchange application roles could not be read ("" when
	// they were read or were not needed).
	ExchangeRolesUnread string
	// CredentialExpiresAt is the certificate's end of validity (zero for a secret: its
	// entry is not readable with the migration's own permissions).
	CredentialExpiresAt time.Time
}

// UnreachableMailboxes lists the addresses of Unreachable, sorted.
func (st *AppStatus) UnreachableMailboxes() []string {
	out := make([]string, 0, len(st.Unreachable))
	for _, u := range st.Unreachable {
		out = append(out, u.Mailbox)
	}
	return out
}

// Healthy reports whether everything the migration needs works.
func (st *AppStatus) Healthy() bool {
	return len(st.Missing) == 0 && len(st.Unreachable) == 0 && (st.EWSStatus == "" || st.EWSStatus == EWSEnabled)
}

// CertificateInfo is what a plan can tell of a client certificate without any API call.
type CertificateInfo struct {
	Subject    string
	NotAfter   time.Time
	Thumbprint string // SHA-1, upper-case hex
}

// DecodeCertificate reads a client certificate as configured: PEM text (certificate and
// unencrypted RSA key), or base64 of a PKCS#12 file.
func DecodeCertificate(value string) []byte {
	if strings.Contains(value, "-----BEGIN") {
		return []byte(value)
	}
	compact := strings.Join(strings.Fields(value), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(compact); err == nil {
			return b
		}
	}
	return []byte(value)
}

// ParseCertificate checks a client certificate the way signing in will read it (PEM or
// PKCS#12 with password, an RSA key matching a certificate). Errors never contain key
// material.
func ParseCertificate(value, password string) (*CertificateInfo, error) {
	c, err := identity.ParseCertificate(DecodeCertificate(value), password)
	if err != nil {
		return nil, err
	}
	return &CertificateInfo{Subject: c.Subject, NotAfter: c.NotAfter, Thumbprint: c.ThumbprintSHA1}, nil
}

// appKind is the strategy of an application principal. Its session is anchored at the
// organisation's system mailbox (WIRE.md §J1); the rest of its pipeline is CheckApp.
type appKind struct{}

func (appKind) anchor(s *session) string { return exchange.AppAnchor(s.tenant()) }

func (appKind) verify(context.Context, *session) (bool, error) { return false, errAppKind }
func (appKind) probe(context.Context, *session) (bool, error)  { return false, errAppKind }
func (appKind) readHeld(context.Context, *session, roles.Toggles, string) (*held, error) {
	return nil, errAppKind
}
func (appKind) managedIn(*session, *held) []Managed { return nil }
func (appKind) assign(context.Context, *session, *session, roles.Role, *held) ([]Managed, error) {
	return nil, errAppKind
}
func (appKind) revoke(context.Context, *session, Managed) error { return errAppKind }

var errAppKind = fmt.Errorf("connection: an application connection is checked with CheckApp and assigns nothing")

// appCredential is the identity form of an application's credential.
func appCredential(c Credential) identity.AppCredential {
	switch c.Kind {
	case ClientCertificate:
		return identity.AppCredential{Certificate: DecodeCertificate(c.Secret), CertificatePassword: c.CertificatePassword}
	case FederatedToken:
		return identity.AppCredential{FederatedTokenFile: c.Secret}
	}
	return identity.AppCredential{ClientSecret: c.Secret}
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
	if spec.Principal.Credential.Kind == ClientCertificate {
		if info, err := ParseCertificate(spec.Principal.Credential.Secret, spec.Principal.Credential.CertificatePassword); err == nil {
			c.st.CredentialExpiresAt = info.NotAfter
		}
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

// appCheck is one run of CheckApp.
type appCheck struct {
	s    *session
	spec AppSpec
	st   *AppStatus

	exoTok *identity.Token
	held   roles.Held
	// exoRolesRead: Exchange application roles were read (Test-ServicePrincipalAuthorization).
	exoRolesRead bool
	scopes       map[string][]string // role → scopes, from Test-ServicePrincipalAuthorization
}

func (c *appCheck) opts() roles.AppOptions {
	return roles.AppOptions{Protocol: c.spec.Protocol, Scoped: len(c.held.ExchangeRoles) > 0}
}

func (c *appCheck) run(ctx context.Context) error {
	s := c.s
	// Graph first: directory permissions (User.Read.All) are Graph's on both protocols.
	gt, err := s.src.Token(ctx, s.cloud.GraphScope())
	if err != nil {
		return signInError(s, err)
	}
	c.st.TenantID = gt.TenantID
	c.held = roles.Held{AppRoles: map[string][]string{roles.MicrosoftGraph.AppID: gt.Roles}}
	ews := c.spec.Protocol == roles.ProtocolEWS
	if ews || !c.entraCovers() {
		// EWS, and the admin API that reads Exchange application roles, take an Exchange
		// Online token; a Graph application whose consents cover everything never needs one.
		if err := c.exchangeToken(ctx); err != nil {
			return err
		}
	}
	if ews {
		err = c.probeEWS(ctx)
	} else {
		err = c.probeGraph(ctx)
	}
	if err != nil {
		return err
	}
	if !c.entraCovers() || len(c.st.Unreachable) > 0 {
		c.readExchangeRoles(ctx)
	}
	c.permissions()
	c.explainUnreachable()
	return nil
}

func (c *appCheck) exchangeToken(ctx context.Context) error {
	if c.exoTok != nil {
		return nil
	}
	t, err := c.s.signIn(ctx)
	if err != nil {
		return err
	}
	c.exoTok = &t
	c.held.AppRoles[roles.ExchangeOnline.AppID] = t.Roles
	return nil
}

// entraCovers reports whether the consented application permissions alone cover every need.
func (c *appCheck) entraCovers() bool {
	for _, n := range roles.ApplicationNeeds(roles.AppOptions{Protocol: c.spec.Protocol}) {
		if !hasValue(c.held.AppRoles[n.Entra.API.AppID], n.Entra.Value) {
			return false
		}
	}
	return true
}

// mayManage reports whether the Exchange token carries Exchange.ManageAsApp, without which
// the admin API refuses the application (WIRE.md §J1): the provider then never calls it.
func (c *appCheck) mayManage() bool {
	return c.exoTok != nil && hasValue(c.exoTok.Roles, roles.ManageAsApp().Value)
}

// readExchangeRoles reads the service principal's Exchange application roles with
// Test-ServicePrincipalAuthorization (WIRE.md §J6), naming the first unreachable mailbox so
// the answer also says whether a role's scope covers it. Only when the token allows it.
func (c *appCheck) readExchangeRoles(ctx context.Context) {
	if c.exoTok == nil {
		if err := c.exchangeToken(ctx); err != nil {
			c.st.ExchangeRolesUnread = "no Exchange Online token: " + err.Error()
			return
		}
	}
	if !c.mayManage() {
		c.st.ExchangeRolesUnread = "the application does not hold " + roles.ManageAsApp().String() + ", so its Exchange application roles (RBAC for Applications) cannot be read"
		return
	}
	resource := ""
	for _, u := range c.st.Unreachable {
		if u.Problem == MailboxDenied {
			resource = u.Mailbox
			break
		}
	}
	key := c.s.cloud.Endpoints.Exchange + "|" + c.st.TenantID + "|" + strings.ToLower(c.spec.Principal.Name)
	rows, cached := c.s.env.appRoles.get(key)
	var err error
	if resource != "" || !cached {
		rows, err = c.s.exchange().TestServicePrincipalAuthorization(ctx, c.spec.Principal.Name, resource)
		if exchange.IsNotFound(err) {
			// Exchange knows no service principal for the application (New-ServicePrincipal
			// never ran, §J2): it holds no Exchange application role.
			rows, err = nil, nil
		}
		if err == nil && resource == "" {
			c.s.env.appRoles.put(key, rows)
		}
	}
	if err != nil {
		c.st.ExchangeRolesUnread = "Test-ServicePrincipalAuthorization failed: " + err.Error()
		return
	}
	c.exoRolesRead = true
	c.scopes = map[string][]string{}
	inScope := false
	for _, r := range rows {
		c.held.ExchangeRoles = append(c.held.ExchangeRoles, r.RoleName)
		c.scopes[r.RoleName] = append(c.scopes[r.RoleName], r.AllowedResourceScope)
		if r.Covers() {
			inScope = true
		}
	}
	if resource != "" && len(rows) > 0 {
		for i := range c.st.Unreachable {
			if c.st.Unreachable[i].Mailbox == strings.ToLower(resource) {
				c.st.Unreachable[i].Problem = MailboxOutOfScope
				if inScope && c.coversMailbox(rows) {
					c.st.Unreachable[i].Problem = MailboxNotYetEffective
				}
			}
		}
	}
}

// coversMailbox reports whether a role in scope of the tested mailbox grants the protocol's
// mailbox access (a role for contacts alone does not open the inbox).
func (c *appCheck) coversMailbox(rows []exchange.ServicePrincipalAuthorization) bool {
	need := roles.MailboxNeed(c.spec.Protocol)
	for _, r := range rows {
		if r.Covers() && need.CoveredBy(r.RoleName) {
			return true
		}
	}
	return false
}

// permissions computes granted and missing from what was read (WIRE.md §I4, §J6).
func (c *appCheck) permissions() {
	o := c.opts()
	granted, missing := roles.Missing(o, c.held)
	c.st.Granted = granted
	// An application granted its mailbox data by Exchange application roles it may not read
	// shows no such permission in its token; when every mailbox opened, that is what it
	// evidently holds: unconfirmed, never reported as missing.
	mailbox := roles.MailboxNeed(c.spec.Protocol).Entra
	mailOK := len(c.st.Unreachable) == 0 && !c.exoRolesRead && !hasValue(c.held.AppRoles[mailbox.API.AppID], mailbox.Value)
	scope := c.scope()
	for _, m := range missing {
		n, _ := roles.LookupGrant(m)
		if mailOK && n.Exchange != nil {
			c.st.Unconfirmed = append(c.st.Unconfirmed, n.Exchange.String())
			continue
		}
		c.st.Missing = append(c.st.Missing, m)
		g := roles.Grant{Kind: roles.ApplicationPermission, Permission: n.Entra, Purpose: n.Purpose}
		if o.Scoped && n.Exchange != nil {
			g = roles.Grant{Kind: roles.ExchangeApplicationRole, Role: n.Exchange, Purpose: n.Purpose}
			c.st.MissingFixes[m] = g.GrantCommand(c.spec.Principal.Name, scope)
			continue
		}
		c.st.MissingFixes[m] = g.GrantCommand(c.spec.Principal.Name, "")
	}
}

// scope is the management scope the application's Exchange roles use (the first by role
// name, "" when they are organization-wide), for the command that grants a missing role.
func (c *appCheck) scope() string {
	names := make([]string, 0, len(c.scopes))
	for r := range c.scopes {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		for _, s := range c.scopes[r] {
			if s != "" && !strings.EqualFold(s, "Organization") {
				return s
			}
		}
	}
	return ""
}

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

func (c *appCheck) unreachable(mailbox string, p MailboxProblem) {
	c.st.Unreachable = append(c.st.Unreachable, Unreachable{Mailbox: strings.ToLower(mailbox), Problem: p})
}

// appRolesCache keeps the Exchange application roles of each application as
// Test-ServicePrincipalAuthorization answered without naming a mailbox: the same for every connection of the
// application, so a plan of many connections reads them once per provider process (a
// process lives for one command, so a change is seen by the next plan).
type appRolesCache struct {
	mu sync.Mutex
	m  map[string][]exchange.ServicePrincipalAuthorization
}

func (c *appRolesCache) get(key string) ([]exchange.ServicePrincipalAuthorization, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, ok := c.m[key]
	return rows, ok
}

func (c *appRolesCache) put(key string, rows []exchange.ServicePrincipalAuthorization) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]exchange.ServicePrincipalAuthorization{}
	}
	c.m[key] = rows
}

func hasValue(ss []string, v string) bool {
	for _, s := range ss {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
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
	return &Error{Problem: problem, Account: ConnectionAccount, Who: spec.Principal.Name, Credential: spec.Principal.Credential.Kind,
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
