package main

import (
	"fmt"
	"strings"
)

// importRan: scenario graph_import was measured.
func (r *report) importRan() bool {
	for k := range r.runs {
		if k.sc == scenarioGraphImport {
			return true
		}
	}
	return false
}

// renderImport is the section on o365_target_app_connection resources with protocol =
// "graph_import" sharing one scoped application: the no-change plan's request budget, the
// wall time and requests of apply and plan, and the requests by route.
func (r *report) renderImport(b *strings.Builder) {
	if !r.importRan() {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	L := r.lat
	scs := []string{scenarioGraphImport}
	p("## Graph import connections\n\n")
	p("N `o365_target_app_connection` resources with `protocol = \"graph_import\"` (Microsoft Graph's mailbox import and\n")
	p("export API, the way forward after EWS ends on 1 April 2027: WIRE §M) sharing **one application**, each verifying one\n")
	p("mailbox of its own (`verify_mailboxes = [each.key]`). The application is scoped as `o365_migration_application`\n")
	p("with `mailbox_scope` scopes one: `User.Read.All` consented in Entra; %s as Exchange\n", codeList(benchImportRoles))
	p("application roles limited to a management scope that holds every benchmark mailbox (RBAC for Applications,\n")
	p("WIRE §J, §M4), none consented tenant-wide; and no `Exchange.ManageAsApp`, so the provider's management identity\n")
	p("(`Exchange.ManageAsApp` with Global Reader, read only) reads those roles. Everything is healthy, so every plan is a\n")
	p("pure drift check. As for the application connections: for each CLI and size one `apply` per latency on a fresh\n")
	p("state, then the no-change plans, each of which must exit 0 and keep the budget below.\n\n")
	if c := r.meta["import_command"]; c != "" {
		p("**Reproduce this section alone:** `%s` (writes every section it measured; point `BENCH_OUT` elsewhere to keep\n", c)
		p("BENCHMARKS.md).\n\n")
	}
	p("Measured on %s, commit %s; load average (1, 5, 15 min) %s at the start of the run, %s at its end.\n\n",
		orDash(r.meta["date"]), orDash(r.meta["commit"]), orDash(r.meta["load_start"]), orDash(r.meta["load_end"]))

	p("### Budget of a no-change plan\n\n")
	p("The budget: *a no-change plan costs at most 3 requests per verified mailbox plus one token per application and\n")
	p("audience per provider process*. Each term is *used / allowed*, from the tenant's counters by route: mailbox probes\n")
	p("— the three steps of WIRE §M5.2, `GET /v1.0/users/{upn}/settings/exchange` (the mailbox id),\n")
	p("`GET /v1.0/admin/exchange/mailboxes/{id}/folders?$top=1&$select=id` (the mailbox opens, inside the scope) and\n")
	p("`POST …/createImportSession` (import is allowed; its `importUrl` is discarded, never used) — against 3 per\n")
	p("connection; tokens against 3 application-audience pairs (the application's for Microsoft Graph and for Exchange\n")
	p("Online, the management identity's for Exchange Online) × the provider processes the plan started (the counters\n")
	p("cannot tell which process asked, so each gets the allowance); the identity library's discovery of the authority\n")
	p("(`openid-configuration`, WIRE §A4) against one per process; Exchange admin API calls — the scoped application's\n")
	p("roles, `Test-ServicePrincipalAuthorization` (WIRE §J6), which the sentence does not name — against one per\n")
	p("process; any other route against none. `make bench` fails (exit 1) when a plan breaks a term. Every plan run is\n")
	p("checked; the table shows the %d ms runs.\n\n", L)
	r.renderBudgetTable(b, scs)

	p("### Wall time and requests\n\n")
	p("As in *Wall time, requests, memory* above; *requests* at %d ms.\n\n", L)
	r.renderWallTable(b, scs)
	p("### Requests per connection by route (Graph import connections)\n\n")
	p("Requests on the route ÷ connections, at %d ms, then the fit over the sizes.\n\n", L)
	r.renderRoutes(b, scenarioGraphImport, "plan")
	r.renderRoutes(b, scenarioGraphImport, "apply")
	r.renderImportExplanation(b)
}

// codeList is "`a`, `b` and `c`".
func codeList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// importExplanation says where a graph_import plan's requests come from.
const importExplanation = `**Where they come from.** Each connection's check is the three probe requests of its mailbox (as the
application, with its Graph token). Once per provider process: the discovery of the authority, the application's
tokens for Microsoft Graph and for Exchange Online (its Exchange token's ` + "`roles`" + ` say whether it may read its own
Exchange roles; a scoped application created by ` + "`o365_migration_application`" + ` may not), the management identity's
Exchange Online token, and its ` + "`Test-ServicePrincipalAuthorization`" + ` of the application, whose answer (the scoped
roles) the provider keeps for the process (` + "`internal/connection/app_roles.go`" + `). The token's ` + "`roles`" + ` carry only
` + "`User.Read.All`" + `, so the mailbox permissions are read from Exchange on every plan; the probes prove the scope
covers each mailbox.
`

// renderImportExplanation explains the requests, and an Exchange term over its budget from
// the runs that broke it.
func (r *report) renderImportExplanation(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("%s\n", importExplanation)
	worst, allowed, runs, over := 0, 0, 0, 0
	for _, x := range r.importPlans {
		if len(x.Budget) < 4 {
			continue
		}
		runs++
		if l := x.Budget[3]; l.Used > l.Allowed {
			over++
			if l.Used > worst {
				worst, allowed = l.Used, l.Allowed
			}
		}
	}
	if over == 0 {
		return
	}
	p("**Over budget: the Exchange admin API term**, in %d of %d no-change plans: up to %d calls of\n", over, runs, worst)
	p("`Test-ServicePrincipalAuthorization` where %d are allowed (one per provider process). The provider keeps the\n", allowed)
	p("answer for the process once it has it, but nothing holds the other connections while the first call is in\n")
	p("flight, so the connections checked at the same time (up to `-parallelism`, 10) each make it. One call in flight\n")
	p("per application and process, as `internal/identity` already does for tokens, would keep the budget.\n\n")
}
