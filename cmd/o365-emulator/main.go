// Command o365-emulator runs the emulated Microsoft 365 tenant (see
// internal/emulator/README.md) until SIGINT or SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func main() {
	seedFile := flag.String("seed", "", "tenant seed file (JSON), required")
	addr := flag.String("addr", "127.0.0.1:0", "listen address; port 0 picks a free port")
	caFile := flag.String("ca-file", "", "where to write the CA certificate (PEM); default a temporary file")
	infoFile := flag.String("info-file", "", `write {"url","ca_file","control_token","tenant_id","pid"} here once listening`)
	controlToken := flag.String("control-token", "", "bearer token of the control API; default random")
	latency := flag.Duration("latency", 0, "latency added to every request, e.g. 20ms")
	propagation := flag.Duration("propagation-delay", 0, "override the seed's role propagation delay, e.g. 5s")
	verbose := flag.Bool("v", false, "log every request to stderr")
	flag.Parse()
	if *seedFile == "" {
		fmt.Fprintln(os.Stderr, "o365-emulator: -seed is required")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*seedFile, *infoFile, emulator.Options{
		Addr: *addr, CAFile: *caFile, ControlToken: *controlToken,
		Latency: *latency, PropagationDelay: *propagation,
	}, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "o365-emulator:", err)
		os.Exit(1)
	}
}

func run(seedFile, infoFile string, opts emulator.Options, verbose bool) error {
	seed, err := emulator.LoadSeed(seedFile)
	if err != nil {
		return err
	}
	if verbose {
		logger := log.New(os.Stderr, "o365-emulator ", log.LstdFlags|log.Lmicroseconds)
		opts.Logf = logger.Printf
	}
	srv, err := emulator.Start(seed, opts)
	if err != nil {
		return err
	}
	defer srv.Close()

	if infoFile != "" {
		info, _ := json.MarshalIndent(map[string]any{
			"url": srv.URL(), "ca_file": srv.CAFile(), "control_token": srv.ControlToken(),
			"tenant_id": srv.TenantID(), "pid": os.Getpid(),
		}, "", "  ")
		if err := os.WriteFile(infoFile, append(info, '\n'), 0o600); err != nil {
			return err
		}
		defer os.Remove(infoFile)
	}
	fmt.Println(srv.URL())
	fmt.Fprintf(os.Stderr, "tenant %s, CA certificate %s, control token in %s\n",
		srv.TenantID(), srv.CAFile(), describeToken(infoFile, opts.ControlToken))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
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
