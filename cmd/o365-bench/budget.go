package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// budget is the request budget of a no-change plan of application connections: "at
// most one request per verified mailbox plus one token per application and audience per
// provider process (plus at most two Exchange calls per connection for protocol = ews)";
// for protocol = graph_import, "at most 3 requests per verified mailbox plus one token per
// application and audience per process".
//
// The emulated tenant counts requests by route; check sorts them into the sentence's terms:
//
//   - mailbox probes (Graph mailFolders and messages, EWS GetFolder, and the three steps of
//     the Graph import probe, WIRE §M5.2): at most MailboxesPerConn per connection;
//   - tokens: at most TokensPerProcess (one per application and audience) per provider
//     process the command started (the CLI starts several: schema, validate, plan; the
//     counters cannot tell which one asked, so every process gets the allowance);
//   - Exchange admin API calls (exo.*): at most ExchangePerConn per connection plus
//     ExchangePerProcess per provider process (a scoped application's Exchange roles, which
//     the provider reads once per application and process);
//   - the identity library's discovery of the authority (openid-configuration, instance
//     discovery; WIRE §A4), which the sentence does not name: at most one per provider process,
//     as a token is impossible without it;
//   - anything else: none.
type budget struct {
	MailboxesPerConn   int
	TokensPerProcess   int
	ExchangePerConn    int
	ExchangePerProcess int
}

// importProbeRoutes are the emulated tenant's routes of the Graph import probe, one request
// each per mailbox (WIRE §M5.2): the mailbox id, one folder, an import session.
var importProbeRoutes = map[string]bool{
	"graph.exchangeSettings":    true,
	"graph.mailboxFolders":      true,
	"graph.createImportSession": true,
}

// budgetClass sorts a route into the budget's terms.
func budgetClass(route string) string {
	switch {
	case route == "graph.mailFolders", route == "graph.messages", route == "ews.GetFolder", importProbeRoutes[route]:
		return "mailbox"
	case route == "token":
		return "token"
	case route == "openid-configuration", route == "instance-discovery":
		return "discovery"
	case strings.HasPrefix(route, "exo."):
		return "exchange"
	case route == "control":
		return "" // the bench's own calls to the control API
	}
	return "other"
}

// budgetLine is one term of the budget: what it allows and what the command used.
type budgetLine struct {
	Term    string `json:"term"`
	Allowed int    `json:"allowed"`
	Used    int    `json:"used"`
}

// check applies the budget to a command's counters over n connections and the provider
// processes it started; it returns every term and whether all were kept.
func (b budget) check(ctr emulator.Counters, n, processes int) ([]budgetLine, bool) {
	used := map[string]int{}
	others := map[string]int{}
	for route, c := range ctr.ByRoute {
		cl := budgetClass(route)
		used[cl] += c
		if cl == "other" && c > 0 {
			others[route] += c
		}
	}
	exchange := fmt.Sprintf("Exchange admin API calls (%d per connection)", b.ExchangePerConn)
	if b.ExchangePerProcess > 0 {
		exchange = fmt.Sprintf("Exchange admin API calls (%d per connection + %d × %d provider process(es))", b.ExchangePerConn, b.ExchangePerProcess, processes)
	}
	lines := []budgetLine{
		{fmt.Sprintf("mailbox probes (%d per connection)", b.MailboxesPerConn), b.MailboxesPerConn * n, used["mailbox"]},
		{fmt.Sprintf("tokens (%d application-audience pair(s) × %d provider process(es))", b.TokensPerProcess, processes), b.TokensPerProcess * processes, used["token"]},
		{fmt.Sprintf("authority discovery (1 × %d provider process(es))", processes), processes, used["discovery"]},
		{exchange, b.ExchangePerConn*n + b.ExchangePerProcess*processes, used["exchange"]},
	}
	var names []string
	for r := range others {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		lines = append(lines, budgetLine{"`" + r + "` (not in the budget)", 0, others[r]})
	}
	ok := true
	for _, l := range lines {
		ok = ok && l.Used <= l.Allowed
	}
	return lines, ok
}

// budgetOf is the budget of an application scenario's connections (one verified mailbox each).
func budgetOf(scenario string) (budget, bool) {
	switch scenario {
	case scenarioAppSecret, scenarioAppCert:
		return budget{MailboxesPerConn: 1, TokensPerProcess: 1}, true
	case scenarioAppEWS:
		// EWS's audience (Exchange) and Graph's (the consented permissions, WIRE §I4).
		return budget{MailboxesPerConn: 1, TokensPerProcess: 2, ExchangePerConn: 2}, true
	case scenarioGraphImport:
		// Three probe requests per mailbox (WIRE §M5.2). Tokens: the application's for Graph
		// (the probes) and for Exchange Online (whose roles claim says whether it may read its
		// own Exchange roles), and the management identity's for Exchange Online, which reads
		// the scoped application's roles (Test-ServicePrincipalAuthorization, once per
		// application and process).
		return budget{MailboxesPerConn: 3, TokensPerProcess: 3, ExchangePerProcess: 1}, true
	}
	return budget{}, false
}
