// Command terraform-provider-o365 serves the o365 Terraform provider over the plugin protocol.
package main

import (
	"context"
	"flag"
	"log"
	"os"

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
