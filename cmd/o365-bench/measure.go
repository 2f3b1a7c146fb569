package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/cmd/internal/emuctl"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// record is one line of the results file (JSON lines).
type record struct {
	Kind string `json:"kind"` // run | startup | binary | profile | meta
	// Scenario is what the configuration holds (gen.go's scenarios); "" in results written
	// before there were several is "target".
	Scenario  string  `json:"scenario,omitempty"`
	CLI       string  `json:"cli,omitempty"`
	N         int     `json:"n,omitempty"`
	LatencyMS int     `json:"latency_ms"`
	Cmd       string  `json:"cmd,omitempty"` // apply | plan
	WallS     float64 `json:"wall_s,omitempty"`
	Exit      int     `json:"exit"`
	// The tenant's request counters over the command (reset just before it).
	Counters *emulator.Counters `json:"counters,omitempty"`
	// Provider processes the command started, the largest peak RSS among them and their
	// total CPU time.
	ProviderStarts int     `json:"provider_starts,omitempty"`
	PeakRSSKiB     int64   `json:"peak_rss_kib,omitempty"`
	ProviderCPUS   float64 `json:"provider_cpu_s,omitempty"`
	// The command's CPU time (user + system), including the provider processes it started and
	// waited for (Linux counts a reaped child's time into its parent's).
	CLICPUS float64 `json:"cli_cpu_s,omitempty"`

	SchemaS    float64 `json:"schema_s,omitempty"`    // startup: CLI `providers schema -json`, median
	HandshakeS float64 `json:"handshake_s,omitempty"` // binary: exec until the plugin handshake line, median
	SizeBytes  int64   `json:"size_bytes,omitempty"`  // binary

	Meta map[string]string `json:"meta,omitempty"`

	// A no-change plan of application connections: the request budget, each term
	// allowed and used (budget.go), and whether all were kept.
	Budget     []budgetLine `json:"budget,omitempty"`
	BudgetKept bool         `json:"budget_kept,omitempty"`

	// Scenario outage: what the command did in each tenant (outage.go).
	Tenants []tenantRun `json:"tenants,omitempty"`

	// kind "profile": the CPU profile of the provider over Runs profiled no-change plans.
	Runs    int             `json:"runs,omitempty"`
	Profile *profileSummary `json:"profile,omitempty"`

	// Set by the report when it merges repeated runs of one command.
	Repeats    int  `json:"-"`
	CountsVary bool `json:"-"`
}

func appendRecord(path string, r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

func readRecords(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []record
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// cmdRSS runs a program (the provider binary) with this process's stdio and environment,
// and when it exits appends "<maxrss KiB> <pid> <cpu seconds>" to the -o file. Terraform
// starts it through dev_overrides as if it were the provider: go-plugin's handshake line
// goes straight from the child to Terraform on the inherited stdout.
func cmdRSS(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ExitOnError)
	out := fs.String("o", "", "file to append the peak RSS to")
	_ = fs.Parse(args)
	if fs.NArg() < 1 || *out == "" {
		return errors.New("rss: -o FILE -- PROGRAM ARGS")
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sig := make(chan os.Signal, 4)
	// SIGINT reaches the child from the terminal's process group anyway; catching it here
	// keeps the wrapper alive to record the child's exit. SIGTERM is forwarded.
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		for s := range sig {
			if s != syscall.SIGINT {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	werr := cmd.Wait()
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			cpu := (ps.UserTime() + ps.SystemTime()).Seconds()
			line := fmt.Sprintf("%d %d %.3f\n", ru.Maxrss, cmd.Process.Pid, cpu) // Maxrss is KiB on Linux
			if f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				_, _ = f.WriteString(line)
				_ = f.Close()
			}
		}
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return exitCode(max(ee.ExitCode(), 1))
	}
	return werr
}

// cmdMeasure resets the tenant's counters, runs one CLI command (output to -log), and
// appends its wall time, exit status, the counters and the provider's peak RSS to -results.
func cmdMeasure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	infoFile := fs.String("info-file", "", "the emulator's -info-file")
	results := fs.String("results", "", "results file (JSON lines)")
	cli := fs.String("cli", "", "CLI name (terraform or tofu)")
	n := fs.Int("n", 0, "connections in the configuration")
	lat := fs.Int("latency-ms", 0, "latency the tenant adds to each request")
	name := fs.String("cmd", "", "command label (apply, plan)")
	logFile := fs.String("log", "", "file to append the command's output to")
	rssFile := fs.String("rss", "", "file the rss wrapper appends to (truncated first)")
	expect := fs.Int("expect-exit", 0, "expected exit status")
	scenario := fs.String("scenario", scenarioTarget, "what the configuration holds (one of "+strings.Join(scenarios, ", ")+")")
	checkBudget := fs.Bool("check-budget", false, "fail unless the command kept the request budget of a no-change plan (application scenarios)")
	healthy := fs.Int("healthy", outageDefaultHealthy, "scenario outage: connections in each healthy tenant (as given to config)")
	downTenant := fs.Int("down-tenant", 0, "scenario outage: the benchmark tenant whose token endpoint answers 503 during the command (0: none); its connections must be warned about, the others verified")
	_ = fs.Parse(args)
	if fs.NArg() < 1 || *infoFile == "" || *results == "" || *logFile == "" {
		return errors.New("measure: -info-file -results -log ... -- PROGRAM ARGS")
	}
	if *checkBudget && *rssFile == "" {
		// The budget's tokens are per provider process, which the rss wrapper counts.
		return errors.New("measure: -check-budget needs -rss (the provider started through o365-bench rss)")
	}
	c, err := emuctl.Open(*infoFile)
	if err != nil {
		return err
	}
	if *rssFile != "" {
		if err := os.WriteFile(*rssFile, nil, 0o644); err != nil {
			return err
		}
	}
	if _, err := c.Do(context.Background(), http.MethodDelete, "/_emulator/counters", ""); err != nil {
		return err
	}
	var om *outageMeasure // scenario outage: every tenant's counters and the output
	if *scenario == scenarioOutage {
		if om, err = newOutageMeasure(c, *n, *healthy, *downTenant); err != nil {
			return err
		}
		if err := om.reset(context.Background()); err != nil {
			return err
		}
	}
	lf, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n### %s\n", strings.Join(fs.Args(), " "))
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if om != nil {
		w := io.MultiWriter(lf, &om.output)
		cmd.Stdout, cmd.Stderr = w, w
	}
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start).Seconds()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(runErr, &ee):
		code = ee.ExitCode()
	case runErr != nil:
		return runErr
	}
	body, err := c.Do(context.Background(), http.MethodGet, "/_emulator/counters", "")
	if err != nil {
		return err
	}
	var ctr emulator.Counters
	if err := json.Unmarshal(body, &ctr); err != nil {
		return fmt.Errorf("counters: %w", err)
	}
	var tenants []tenantRun
	if om != nil {
		if tenants, ctr, err = om.finish(context.Background()); err != nil {
			return err
		}
	}
	rec := record{Kind: "run", Scenario: *scenario, CLI: *cli, N: *n, LatencyMS: *lat, Cmd: *name, WallS: round3(wall), Exit: code, Counters: &ctr, CLICPUS: round3((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()), Tenants: tenants}
	if *rssFile != "" {
		rec.ProviderStarts, rec.PeakRSSKiB, rec.ProviderCPUS, err = readRSS(*rssFile)
		if err != nil {
			return err
		}
	}
	var b budget
	if *checkBudget {
		var ok bool
		if b, ok = budgetOf(*scenario); !ok {
			return fmt.Errorf("measure: -check-budget: scenario %q has no request budget", *scenario)
		}
		rec.Budget, rec.BudgetKept = b.check(ctr, *n, rec.ProviderStarts)
	}
	if err := appendRecord(*results, rec); err != nil {
		return err
	}
	per := 0.0
	if *n > 0 {
		per = float64(ctr.Total) / float64(*n)
	}
	fmt.Fprintf(os.Stderr, "    %-10s %-9s %-5s n=%-4d latency=%2dms  wall %7.2fs  requests %5d (%.2f/connection)  provider peak RSS %.1f MiB (%d process(es))  exit %d\n",
		*scenario, *cli, *name, *n, *lat, wall, ctr.Total, per, float64(rec.PeakRSSKiB)/1024, rec.ProviderStarts, code)
	for _, t := range tenants {
		state := "healthy"
		if t.Down {
			state = "down"
		}
		fmt.Fprintf(os.Stderr, "        %-26s %-7s %4d connections  %4d token requests  %4d verified  %4d warned about\n", t.Domain, state, t.Connections, t.tokens(), t.Verified, t.Warned)
	}
	if code != *expect {
		fmt.Fprintf(os.Stderr, "o365-bench: %s exited %d, expected %d; the end of %s:\n", *name, code, *expect, *logFile)
		tail(*logFile, 40)
		return exitCode(1)
	}
	if *checkBudget && !rec.BudgetKept {
		fmt.Fprintf(os.Stderr, "o365-bench: %s of %d %s connections exceeded the request budget:\n", *name, *n, *scenario)
		for _, l := range rec.Budget {
			fmt.Fprintf(os.Stderr, "    %-60s allowed %5d  used %5d\n", l.Term, l.Allowed, l.Used)
		}
		return exitCode(exitBudget)
	}
	if om != nil {
		if err := checkOutage(tenants); err != nil {
			fmt.Fprintf(os.Stderr, "o365-bench: %s of scenario %s: %v; the end of %s:\n", *name, *scenario, err, *logFile)
			tail(*logFile, 40)
			return exitCode(1)
		}
	}
	return nil
}

func readRSS(path string) (starts int, peak int64, cpu float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		kib, _ := strconv.ParseInt(f[0], 10, 64)
		c, _ := strconv.ParseFloat(f[2], 64)
		starts++
		peak = max(peak, kib)
		cpu += c
	}
	return starts, peak, round3(cpu), nil
}

func tail(path string, n int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// cmdStartup measures the provider's startup: its binary size and the time from exec to
// go-plugin's handshake line (the provider is serving), and with -cli-bin the time the CLI
// takes for `providers schema -json` (start the provider, GetProviderSchema, stop it).
func cmdStartup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	results := fs.String("results", "", "results file (JSON lines)")
	bin := fs.String("bin", "", "provider binary (binary size and handshake time)")
	cli := fs.String("cli", "", "CLI name")
	cliBin := fs.String("cli-bin", "", "CLI binary: time `providers schema -json`")
	dir := fs.String("dir", ".", "working directory (a configuration using the provider)")
	runs := fs.Int("runs", 5, "repetitions (median reported)")
	_ = fs.Parse(args)
	if *results == "" {
		return errors.New("startup: -results is required")
	}
	if *cliBin != "" {
		var ts []float64
		for i := 0; i < *runs; i++ {
			cmd := exec.Command(*cliBin, "providers", "schema", "-json")
			cmd.Dir = *dir
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s providers schema -json: %v\n%s", *cli, err, errb.String())
			}
			ts = append(ts, time.Since(start).Seconds())
			if !bytes.Contains(out.Bytes(), []byte(`"o365_target_connection"`)) {
				return fmt.Errorf("%s providers schema -json: no o365_target_connection in the output", *cli)
			}
		}
		r := record{Kind: "startup", CLI: *cli, SchemaS: round3(median(ts))}
		fmt.Fprintf(os.Stderr, "    %s providers schema -json: %.3fs (median of %d)\n", *cli, r.SchemaS, *runs)
		return appendRecord(*results, r)
	}
	if *bin == "" {
		return errors.New("startup: -bin or -cli-bin")
	}
	st, err := os.Stat(*bin)
	if err != nil {
		return err
	}
	var ts []float64
	for i := 0; i < *runs; i++ {
		d, err := handshake(*bin)
		if err != nil {
			return err
		}
		ts = append(ts, d)
	}
	r := record{Kind: "binary", SizeBytes: st.Size(), HandshakeS: round3(median(ts))}
	fmt.Fprintf(os.Stderr, "    %s: %.1f MiB, serving after %.0f ms (median of %d)\n", filepath.Base(*bin), float64(st.Size())/(1<<20), r.HandshakeS*1000, *runs)
	return appendRecord(*results, r)
}

// handshake starts the provider as Terraform would and times its go-plugin handshake line.
func handshake(bin string) (float64, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
		"PLUGIN_PROTOCOL_VERSIONS=5,6")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	d := time.Since(start).Seconds()
	if err != nil || strings.Count(line, "|") < 4 {
		return 0, fmt.Errorf("%s: no plugin handshake line (got %q, %v)", bin, line, err)
	}
	return d, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
