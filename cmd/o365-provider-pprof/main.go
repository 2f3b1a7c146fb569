// Command o365-provider-pprof serves the o365 provider exactly as the release binary does (the
// root package's main: provider.New, the same registry address, the plugin protocol) and records
// a CPU profile of the process with runtime/pprof. It exists for `make bench` (scripts/bench.sh),
// which puts it where the CLI looks for terraform-provider-o365 for the profiled plans; the
// provider itself has no profiling code path.
//
// Each process writes $O365_PPROF_DIR/cpu-<pid>.pprof (the CLI starts several per command),
// from its start until the CLI shuts the plugin down: go-plugin's Shutdown stops the gRPC
// server, providerserver.Serve returns, and the profile is flushed before the process exits.
// Without O365_PPROF_DIR it serves unprofiled.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/o365-terraform/terraform-provider-o365/internal/clilog"
	"github.com/o365-terraform/terraform-provider-o365/internal/provider"
)

func main() {
	if dir := os.Getenv("O365_PPROF_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	// As in ../../main.go; keep the two alike.
	logs := clilog.ProviderLinesShown(os.Getenv)
	if !logs {
		if err := clilog.SilenceSDK(os.Setenv); err != nil {
			log.Fatal(err)
		}
	}
	err := providerserver.Serve(context.Background(), provider.New("pprof", provider.WithLogs(logs)), providerserver.ServeOpts{
		Address: "registry.terraform.io/o365-terraform/o365",
	})
	if err != nil {
		log.Print(err.Error())
	}
}
