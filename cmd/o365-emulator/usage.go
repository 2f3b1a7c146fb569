package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// subcommand is one of the command's subcommands: its synopsis, what it does,
// and its flags (the very flag set it parses).
type subcommand struct {
	name, synopsis, about string
	flags                 func() *flag.FlagSet
}

// subcommands are the command's subcommands, in the order --help lists them
// (a function: the flag sets' -h refers back to it).
func subcommands() []subcommand {
	return []subcommand{
		{"serve", "o365-emulator [serve] -seed FILE [-seed FILE...] [flags]",
			"Runs the emulated tenants, one per -seed, at one HTTPS URL on loopback, until SIGINT or\n" +
				"SIGTERM. Prints the URL on stdout; the info file (-info-file) is written once it listens\n" +
				"and removed when it stops. serve is the default subcommand.",
			func() *flag.FlagSet { fs, _ := newServeFlags(); return fs }},
		{"wait", "o365-emulator wait -info-file F [-timeout 10s] [-pid PID]",
			"Returns once the emulator of that info file answers; exit status 1 if it does not in time\n" +
				"(or its process exits).",
			func() *flag.FlagSet { fs, _, _, _ := newWaitFlags(); return fs }},
		{"info", "o365-emulator info -info-file F [-format json|env] [-field NAME]",
			"Prints what the info file says of a running emulator: JSON, or EMULATOR_URL=… lines\n" +
				"(EMULATOR_CA_FILE, EMULATOR_CONTROL_TOKEN, EMULATOR_TENANT_ID, …) for a shell's eval.",
			func() *flag.FlagSet { fs, _, _, _ := newInfoFlags(); return fs }},
		{"ctl", "o365-emulator ctl -info-file F [-tenant T] METHOD PATH [JSON]",
			"Calls the control API (below) with the info file's URL, CA and control token; prints the\n" +
				"answer's body on stdout; exit status 1 on an answer outside 2xx (status and body on stderr).",
			func() *flag.FlagSet { fs, _, _ := newCtlFlags(); return fs }},
	}
}

// controlAPI is the control API's routes (internal/emulator: control*.go and
// the cluster's tenant routes), for --help.
var controlAPI = []struct{ route, about string }{
	{"GET /_emulator/state", "the tenant's state (users, roles, applications, delays…)"},
	{"GET /_emulator/counters", "requests per route and per user"},
	{"DELETE /_emulator/counters", "reset the counters"},
	{"POST /_emulator/reset", "back to the seed"},
	{"GET /_emulator/import-sessions", "Graph import sessions created and every POST to an import URL"},
	{"POST /_emulator/faults", `make a route fail, e.g. {"route":"token","status":503}`},
	{"DELETE /_emulator/faults", "remove every fault"},
	{"PUT /_emulator/latency", "latency added to every request"},
	{"PUT /_emulator/propagation-delay", "how long a role change takes to become effective"},
	{"PUT /_emulator/rbac-delay", "how long an RBAC-for-Applications change takes to reach Graph and EWS"},
	{"PATCH /_emulator/organization", `the organisation: {"impersonation_retired","ews_enabled","ews_allowed_app_ids","ews_disablement_date","ews_end_date"}`},
	{"PATCH /_emulator/users/{upn}", `change a user: {"password","mfa","disabled","locked","ews_enabled","department","custom_attributes"}`},
	{"DELETE /_emulator/users/{upn}", "delete a user"},
	{"POST /_emulator/users/{upn}/exchange-roles", "assign an Exchange management role"},
	{"DELETE /_emulator/users/{upn}/exchange-roles/{role}", "remove one behind Terraform's back"},
	{"POST /_emulator/users/{upn}/directory-roles", "assign an Entra directory role"},
	{"DELETE /_emulator/users/{upn}/directory-roles/{role}", "remove one"},
	{"POST /_emulator/applications", "register an application"},
	{"PATCH /_emulator/applications/{app}", "change an application"},
	{"DELETE /_emulator/applications/{app}", "delete an application"},
	{"POST /_emulator/applications/{app}/secrets", "add a client secret"},
	{"POST /_emulator/applications/{app}/certificates", "add a certificate"},
	{"PATCH /_emulator/applications/{app}/credentials/{key}", "change a credential (e.g. its end date)"},
	{"DELETE /_emulator/applications/{app}/credentials/{key}", "remove a credential"},
	{"POST /_emulator/applications/{app}/consents", "consent to a permission"},
	{"DELETE /_emulator/applications/{app}/consents/{resource}/{permission}", "remove a consent"},
	{"POST /_emulator/applications/{app}/directory-roles", "give the application a directory role"},
	{"DELETE /_emulator/applications/{app}/directory-roles/{role}", "remove it"},
	{"POST /_emulator/applications/{app}/exchange-roles", "give the application an Exchange role (RBAC for Applications)"},
	{"DELETE /_emulator/applications/{app}/exchange-roles/{role}", "remove it"},
	{"POST /_emulator/management-scopes", "create an Exchange management scope"},
	{"GET /_emulator/tenants", "list the tenants served"},
	{"ANY /_emulator/tenants/{tenant}/…", "any route above, for that tenant (id or domain); ctl -tenant does this"},
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// newFlagSet is a subcommand's flag set; its -h prints that subcommand's help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.Usage = func() { printSubcommandUsage(fs.Output(), name) }
	return fs
}

// printUsage is --help: every subcommand with its flags, then the control API.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `o365-emulator runs an emulated Microsoft 365 tenant (sign-in, Microsoft Graph, the Exchange
admin API and EWS, as Microsoft answers them) on a loopback HTTPS URL, and talks to a running one.
The provider's endpoints (login, graph, exchange) all point at that URL; its CA certificate is
written to -ca-file. Graph import sessions' upload URLs (importUrl) are on a second listener
under the same CA, as Microsoft's are on outlook.office365.com.
Seeds: examples/demo/*.json; internal/emulator/README.md documents them.

Usage:
`)
	for _, c := range subcommands() {
		fmt.Fprintf(w, "  %s\n", c.synopsis)
	}
	fmt.Fprint(w, "  o365-emulator --help | -h | help\n")
	for _, c := range subcommands() {
		fmt.Fprintln(w)
		printSubcommandUsage(w, c.name)
	}
	fmt.Fprint(w, `
Control API: on the emulator's URL, JSON in and out, with "Authorization: Bearer <control token>"
(the info file's control_token, or -control-token); the first tenant answers /_emulator/… paths.
`)
	for _, r := range controlAPI {
		fmt.Fprintf(w, "  %s\n      %s\n", r.route, r.about)
	}
	fmt.Fprint(w, `
Exit status: 0 done, 1 failed, 2 a mistake in the command line.
`)
}

func printSubcommandUsage(w io.Writer, name string) {
	for _, c := range subcommands() {
		if c.name != name {
			continue
		}
		fmt.Fprintf(w, "%s\n", c.synopsis)
		for _, line := range strings.Split(c.about, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		fs := c.flags()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(os.Stderr)
	}
}
