package main

import (
	"fmt"
	"strings"
)

// scenarioText describes each application scenario in the report.
var scenarioText = map[string]string{
	scenarioAppSecret: "protocol `graph`, `client_secret`",
	scenarioAppCert:   "protocol `graph`, `client_certificate` (PEM with its key)",
	scenarioAppEWS:    "protocol `ews`, `client_secret`",
}

func (r *report) appScenarios() []string {
	var out []string
	for _, s := range scenarios { // gen.go's order
		if !isAppScenario(s) {
			continue
		}
		for _, x := range r.scenarios {
			if x == s {
				out = append(out, s)
			}
		}
	}
	return out
}

// renderApp is the section on o365_target_app_connection resources sharing one
// application, the wall time and requests of apply and of the no-change plan, and the plan's
// request budget.
func (r *report) renderApp(b *strings.Builder) {
	scs := r.appScenarios()
	if len(scs) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	L := r.lat
	p("## Application connections\n\n")
	p("N `o365_target_app_connection` resources sharing **one application**, each verifying one mailbox of its own\n")
	p("(`verify_mailboxes = [each.key]`), against the same emulated tenant and in the same way as above: for each CLI,\n")
	p("scenario and size one `apply` per latency on a fresh state, then the no-change plans (each must exit 0). The\n")
	p("seed's applications are healthy, so every plan is a pure drift check: the `graph` application holds the\n")
	p("mailbox permissions (`Mail.ReadWrite`, …) tenant-wide, the `ews` one `full_access_as_app`, and\n")
	p("`Exchange.ManageAsApp` with Global Reader so that it may read the EWS switches when EWS refuses (WIRE §K2–§K3).\n\n")
	p("| scenario | credential and protocol |\n|---|---|\n")
	for _, s := range scs {
		p("| `%s` | %s |\n", s, scenarioText[s])
	}
	p("\n")

	p("### Budget of a no-change plan\n\n")
	p("The budget: *a no-change plan costs at most one request per verified mailbox plus one token per application and\n")
	p("audience per provider process (plus at most two Exchange calls per connection for `protocol = \"ews\"`)*. Each\n")
	p("term below is *used / allowed*, from the tenant's counters by route: mailbox probes (Graph `mailFolders`,\n")
	p("EWS `GetFolder`) against one per connection; tokens against the audiences (`graph`: Microsoft Graph; `ews`:\n")
	p("Exchange Online for EWS, and Graph, whose token carries the directory permission `User.Read.All`) × the\n")
	p("provider processes the plan started (the counters cannot tell which process asked, so each gets the\n")
	p("allowance); the identity library's discovery of the authority (`openid-configuration`, WIRE §A4), which the\n")
	p("issue's sentence does not name and without which no token can be had, against one per process; Exchange admin\n")
	p("API calls against two per `ews` connection and none otherwise; any other route against none. `make bench`\n")
	p("fails (exit 1) when a plan breaks a term, as it fails when a plan is not empty. Every plan run is checked; the\n")
	p("table shows the %d ms runs.\n\n", L)
	r.renderBudgetTable(b, scs)

	p("### Wall time and requests\n\n")
	p("As in *Wall time, requests, memory* above; *requests* at %d ms.\n\n", L)
	r.renderWallTable(b, scs)
	p("### Requests per connection by route (application connections)\n\n")
	p("As above: requests on the route ÷ connections, at %d ms, then the fit over the sizes.\n\n", L)
	for _, s := range scs {
		r.renderRoutes(b, s, "plan")
		r.renderRoutes(b, s, "apply")
	}
	p("%s\n", appExplanation)
}

// renderBudgetTable is the request budget of each no-change plan of the scenarios, at the
// report's latency.
func (r *report) renderBudgetTable(b *strings.Builder, scs []string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	L := r.lat
	p("| scenario | CLI | connections | requests | mailbox probes | tokens | discovery | Exchange | other | kept? |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, s := range scs {
		for _, c := range r.clis {
			for _, n := range r.ns {
				x, ok := r.getS(s, c, n, L, "plan")
				if !ok || x.Budget == nil {
					continue
				}
				cells := make([]string, 4)
				var other []string
				for i, l := range x.Budget {
					cell := fmt.Sprintf("%d / %d", l.Used, l.Allowed)
					if l.Used > l.Allowed {
						cell = "**" + cell + "**"
					}
					if i < 4 {
						cells[i] = cell
					} else {
						other = append(other, l.Term+" "+cell)
					}
				}
				p("| `%s` | %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", s, c, n, requests(x), cells[0], cells[1], cells[2], cells[3],
					orDash(strings.Join(other, "; ")), verdict(x.BudgetKept, "budget exceeded"))
			}
		}
	}
	p("\n")
}

// renderWallTable is the wall time, requests and memory of each apply and no-change plan of
// the scenarios.
func (r *report) renderWallTable(b *strings.Builder, scs []string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	L := r.lat
	zero := r.hasZero
	if zero {
		p("| scenario | CLI | connections | command | runs | wall %d ms (s) | wall 0 ms (s) | requests | per connection | provider peak RSS (MiB) | provider processes |\n", L)
		p("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		p("| scenario | CLI | connections | command | runs | wall %d ms (s) | requests | per connection | provider peak RSS (MiB) | provider processes |\n", L)
		p("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	}
	for _, s := range scs {
		for _, c := range r.clis {
			for _, n := range r.ns {
				for _, cmd := range []string{"apply", "plan"} {
					x, ok := r.getS(s, c, n, L, cmd)
					if !ok {
						continue
					}
					req, rss := requests(x), x.PeakRSSKiB
					note := ""
					if x.CountsVary {
						note = " (varies between runs)"
					}
					if !zero {
						p("| `%s` | %s | %d | %s | %d | %.2f | %d%s | %.2f | %.1f | %d |\n", s, c, n, cmd, x.Repeats, x.WallS, req, note, float64(req)/float64(n), mib(rss), x.ProviderStarts)
						continue
					}
					zw := "—"
					if z, ok := r.getS(s, c, n, 0, cmd); ok {
						zw = fmt.Sprintf("%.2f", z.WallS)
						rss = max(rss, z.PeakRSSKiB)
						if requests(z) != req {
							note += fmt.Sprintf(" (%d at 0 ms)", requests(z))
						}
					}
					p("| `%s` | %s | %d | %s | %d | %.2f | %s | %d%s | %.2f | %.1f | %d |\n", s, c, n, cmd, x.Repeats, x.WallS, zw, req, note, float64(req)/float64(n), mib(rss), x.ProviderStarts)
				}
			}
		}
	}
	p("\n")
}

// appExplanation says where an application connection's requests come from.
const appExplanation = `**Where they come from.** A plan of N application connections sharing one application costs N mailbox probes
(Graph ` + "`GET /users/{mailbox}/mailFolders/inbox`" + `, WIRE §I12, or EWS ` + "`GetFolder`" + ` with ` + "`ExchangeImpersonation`" + `, §I13)
plus, once per provider process, the discovery of the authority and one client-credentials token per audience:
the provider keeps one credential per application and credential, so MSAL's token cache is shared by every
connection of that application. The permissions come from the token's ` + "`roles`" + ` (§I4); the Exchange admin API is
called only when the token does not carry them all (RBAC for Applications: ` + "`Test-ServicePrincipalAuthorization`" + `)
or, for ` + "`ews`" + `, when EWS refuses and the switch that closed it must be named (` + "`Get-OrganizationConfig`" + `,
` + "`Get-CASMailbox`" + `) — never here, where everything works. ` + "`apply`" + ` (create) runs the same check once per connection.
`
