// Command terraform-provider-o365 serves the o365 Terraform provider over the plugin protocol.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	runtimedebug "runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/o365-terraform/terraform-provider-o365/internal/clilog"
	"github.com/o365-terraform/terraform-provider-o365/internal/provider"
)

// version is set by the release build (goreleaser ldflags: -X main.version=...).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	// How often the garbage collector runs (gcTarget, below).
	if percent, limit, ok := gcTarget(os.Getenv); ok {
		runtimedebug.SetGCPercent(percent)
		runtimedebug.SetMemoryLimit(limit)
	}
	// The CLI shows none of the provider's log lines unless TF_LOG or TF_LOG_PROVIDER asks
	// for them (internal/clilog); then neither the plugin SDK nor the provider builds any. In
	// debug mode the provider's stderr is the developer's terminal: every line is kept.
	logs := debug || clilog.ProviderLinesShown(os.Getenv)
	if !logs {
		if err := clilog.SilenceSDK(os.Setenv); err != nil {
			log.Fatal(err.Error())
		}
	}
	err := providerserver.Serve(context.Background(), provider.New(version, provider.WithLogs(logs)), providerserver.ServeOpts{
		Address: "registry.terraform.io/o365-terraform/o365",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

// A provider process serves one CLI command and allocates for every resource it is asked
// about (the plugin framework converts each value through tftypes, attribute by attribute),
// while what it keeps is small. With Go's default collection target (GOGC=100) the collector
// then runs every few connections and takes a large share of the process's CPU. A target of
// gcPercent collects a quarter as often; the soft limit gcMemoryLimit makes it collect sooner
// when the heap nears it, so the memory a large plan may use stays bounded.
const (
	gcPercent     = 400
	gcMemoryLimit = 64 << 20
)

// gcTarget is the collection target and soft memory limit the provider sets, unless the
// environment sets either (GOGC, GOMEMLIMIT): then Go's own reading of them stands.
func gcTarget(getenv func(string) string) (percent int, limit int64, ok bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	return gcPercent, gcMemoryLimit, true
}
