// Command o365-emulator runs the emulated Microsoft 365 tenant (see
// internal/emulator/README.md) until SIGINT or SIGTERM, and is the scripts' one tool to talk
// to a running one (scripts/lib/emulator.sh):
//
//	o365-emulator [serve] -seed FILE [-seed FILE...] [-addr A] [-ca-file F] [-info-file F] [-latency D] [-rbac-delay D] [-v] ...
//	o365-emulator wait -info-file F [-timeout 10s] [-pid PID]   until it answers; exit 1 if not
//	o365-emulator info -info-file F [-format json|env] [-field NAME]
//	o365-emulator ctl  -info-file F [-tenant T] METHOD PATH [JSON]  the control API; body on stdout
//	o365-emulator --help                                          every subcommand, flag and control route (usage.go)
//
// Each -seed is one tenant; all are served at one URL (the first answers /_emulator/…).
// ctl exits 1 on an answer outside 2xx (the status and body go to stderr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/cmd/internal/emuctl"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && isHelp(args[0]) {
		printUsage(os.Stdout)
		return
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "wait":
		err = wait(args)
	case "info":
		err = info(args)
	case "ctl":
		err = ctl(args)
	default:
		err = usageError("unknown subcommand " + cmd + ": serve, wait, info or ctl (o365-emulator --help)")
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "o365-emulator:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "o365-emulator:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// serveConfig is what serve's command line asks for.
type serveConfig struct {
	seedFiles []string // one tenant each
	infoFile  string
	verbose   bool
	opts      emulator.Options
}

// seedFlags collects repeated -seed flags.
type seedFlags []string

func (f *seedFlags) String() string { return strings.Join(*f, ",") }

func (f *seedFlags) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// serveFlags are serve's flags, defined once for parsing and for --help.
type serveFlags struct {
	seedFiles                     seedFlags
	addr, caFile, infoFile, token *string
	latency, propagation, rbac    *time.Duration
	verbose                       *bool
}

func newServeFlags() (*flag.FlagSet, *serveFlags) {
	fs := newFlagSet("serve")
	f := &serveFlags{}
	fs.Var(&f.seedFiles, "seed", "tenant seed file (JSON), required; repeat it to serve several tenants at one URL")
	f.addr = fs.String("addr", "127.0.0.1:0", "listen address; port 0 picks a free port")
	f.caFile = fs.String("ca-file", "", "where to write the CA certificate (PEM); default a temporary file")
	f.infoFile = fs.String("info-file", "", `write {"url","ca_file","control_token","tenant_id","tenants","pid"} here once listening`)
	f.token = fs.String("control-token", "", "bearer token of the control API; default random")
	f.latency = fs.Duration("latency", 0, "latency added to every request, e.g. 20ms")
	f.propagation = fs.Duration("propagation-delay", 0, "override the seed's role propagation delay, e.g. 5s")
	f.rbac = fs.Duration("rbac-delay", 0, "override the seed's rbac_delay, how long an RBAC-for-Applications change takes to reach Graph and EWS, e.g. 30m (Microsoft documents 30 min to 2 h)")
	f.verbose = fs.Bool("v", false, "log every request to stderr")
	return fs, f
}

func parseServe(args []string) (serveConfig, error) {
	fs, f := newServeFlags()
	_ = fs.Parse(args)
	seedFiles, addr, caFile, infoFile, controlToken := f.seedFiles, f.addr, f.caFile, f.infoFile, f.token
	latency, propagation, rbacDelay, verbose := f.latency, f.propagation, f.rbac, f.verbose
	switch {
	case len(seedFiles) == 0:
		fs.Usage()
		return serveConfig{}, usageError("-seed is required")
	case fs.NArg() > 0:
		return serveConfig{}, usageError("serve takes no arguments besides flags: " + strings.Join(fs.Args(), " "))
	}
	// A negative delay would silently mean "the seed's" (Options keeps the
	// seed's value unless the override is > 0).
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"-latency", *latency}, {"-propagation-delay", *propagation}, {"-rbac-delay", *rbacDelay}} {
		if d.value < 0 {
			return serveConfig{}, usageError(d.name + " must not be negative")
		}
	}
	return serveConfig{seedFiles: seedFiles, infoFile: *infoFile, verbose: *verbose, opts: emulator.Options{
		Addr: *addr, CAFile: *caFile, ControlToken: *controlToken,
		Latency: *latency, PropagationDelay: *propagation, RBACDelay: *rbacDelay,
	}}, nil
}

func serve(args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	if cfg.verbose {
		logger := log.New(os.Stderr, "o365-emulator ", log.LstdFlags|log.Lmicroseconds)
		cfg.opts.Logf = logger.Printf
	}
	c, err := start(cfg)
	if err != nil {
		return err
	}
	defer c.Close()

	in := infoOf(c)
	if cfg.infoFile != "" {
		// Written once the server listens: the file's presence is what `wait` polls for.
		if err := emuctl.WriteInfo(cfg.infoFile, in); err != nil {
			return err
		}
		defer os.Remove(cfg.infoFile)
	}
	fmt.Println(c.URL())
	ids := make([]string, len(in.Tenants))
	for i, t := range in.Tenants {
		ids[i] = t.TenantID
	}
	fmt.Fprintf(os.Stderr, "tenant %s, CA certificate %s, control token in %s\n",
		strings.Join(ids, ", tenant "), c.CAFile(), describeToken(cfg.infoFile, cfg.opts.ControlToken))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}

// start loads every seed and serves their tenants.
func start(cfg serveConfig) (*emulator.Cluster, error) {
	seeds := make([]*emulator.Seed, 0, len(cfg.seedFiles))
	for _, f := range cfg.seedFiles {
		seed, err := emulator.LoadSeed(f)
		if err != nil {
			return nil, err
		}
		seeds = append(seeds, seed)
	}
	return emulator.StartTenants(seeds, cfg.opts)
}

// infoOf is what the info file says of a running emulator.
func infoOf(c *emulator.Cluster) emuctl.Info {
	in := emuctl.Info{URL: c.URL(), CAFile: c.CAFile(), ControlToken: c.ControlToken(), PID: os.Getpid()}
	for _, t := range c.Tenants() {
		in.Tenants = append(in.Tenants, emuctl.Tenant{TenantID: t.TenantID(), InitialDomain: t.InitialDomain()})
	}
	in.TenantID = in.Tenants[0].TenantID
	return in
}

// describeToken says where to find the control token without printing a
// random one to a log.
func describeToken(infoFile, given string) string {
	switch {
	case given != "":
		return "-control-token"
	case infoFile != "":
		return infoFile
	}
	return "(none: pass -info-file or -control-token to use the control API)"
}

func newWaitFlags() (fs *flag.FlagSet, infoFile *string, timeout *time.Duration, pid *int) {
	fs = newFlagSet("wait")
	infoFile = fs.String("info-file", "", "the emulator's -info-file, required")
	timeout = fs.Duration("timeout", 10*time.Second, "how long to wait")
	pid = fs.Int("pid", 0, "the emulator's process id: fail at once if it exits")
	return fs, infoFile, timeout, pid
}

func wait(args []string) error {
	fs, infoFile, timeout, pid := newWaitFlags()
	_ = fs.Parse(args)
	if *infoFile == "" || fs.NArg() > 0 {
		return usageError("wait -info-file F [-timeout 10s] [-pid PID]")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	_, err := emuctl.Wait(ctx, *infoFile, *pid)
	return err
}

// infoFields maps the -field names (and the env format's variables) to the info file's.
var infoFields = map[string]func(emuctl.Info) string{
	"url":           func(i emuctl.Info) string { return i.URL },
	"ca_file":       func(i emuctl.Info) string { return i.CAFile },
	"control_token": func(i emuctl.Info) string { return i.ControlToken },
	"tenant_id":     func(i emuctl.Info) string { return i.TenantID },
	// Every tenant, space-separated, in the order of the -seed flags.
	"tenant_ids": func(i emuctl.Info) string { return joinTenants(i, func(t emuctl.Tenant) string { return t.TenantID }) },
	"tenant_domains": func(i emuctl.Info) string {
		return joinTenants(i, func(t emuctl.Tenant) string { return t.InitialDomain })
	},
	"pid": func(i emuctl.Info) string { return fmt.Sprint(i.PID) },
}

func joinTenants(i emuctl.Info, field func(emuctl.Tenant) string) string {
	parts := make([]string, len(i.Tenants))
	for n, t := range i.Tenants {
		parts[n] = field(t)
	}
	return strings.Join(parts, " ")
}

func newInfoFlags() (fs *flag.FlagSet, infoFile, format, field *string) {
	fs = newFlagSet("info")
	infoFile = fs.String("info-file", "", "the emulator's -info-file, required")
	format = fs.String("format", "json", "json, or env: EMULATOR_URL='…' lines for a shell's eval")
	field = fs.String("field", "", "print only this field's value: url, ca_file, control_token, tenant_id, tenant_ids, tenant_domains, pid")
	return fs, infoFile, format, field
}

func info(args []string) error {
	fs, infoFile, format, field := newInfoFlags()
	_ = fs.Parse(args)
	if *infoFile == "" || fs.NArg() > 0 {
		return usageError("info -info-file F [-format json|env] [-field NAME]")
	}
	in, err := emuctl.ReadInfo(*infoFile)
	if err != nil {
		return err
	}
	if *field != "" {
		get, ok := infoFields[*field]
		if !ok {
			return usageError("info: unknown -field " + *field)
		}
		fmt.Println(get(in))
		return nil
	}
	switch *format {
	case "json":
		b, _ := json.MarshalIndent(in, "", "  ")
		fmt.Println(string(b))
	case "env":
		names := make([]string, 0, len(infoFields))
		for n := range infoFields {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("EMULATOR_%s=%s\n", strings.ToUpper(n), shellQuote(infoFields[n](in)))
		}
	default:
		return usageError("info: -format is json or env")
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newCtlFlags() (fs *flag.FlagSet, infoFile, tenant *string) {
	fs = newFlagSet("ctl")
	infoFile = fs.String("info-file", "", "the emulator's -info-file, required")
	tenant = fs.String("tenant", "", "the tenant (id or domain) a /_emulator/… path addresses; default the first")
	return fs, infoFile, tenant
}

func ctl(args []string) error {
	fs, infoFile, tenant := newCtlFlags()
	_ = fs.Parse(args)
	if *infoFile == "" || fs.NArg() < 2 || fs.NArg() > 3 {
		return usageError("ctl -info-file F [-tenant T] METHOD PATH [JSON]")
	}
	c, err := emuctl.Open(*infoFile)
	if err != nil {
		return err
	}
	c = c.ForTenant(*tenant)
	b, err := c.Do(context.Background(), strings.ToUpper(fs.Arg(0)), fs.Arg(1), fs.Arg(2))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}
