// Package clilog decides, from the environment the Terraform CLI starts a provider with,
// whether the CLI will show or record any of the provider's log lines, and when it will not,
// turns the plugin SDK's loggers off so that no line is built only to be thrown away.
//
// How the CLI treats a provider's log lines (Terraform 1.5.7 and 1.13.3, OpenTofu 1.12.x alike,
// internal/logging/logging.go and main.go of each): it starts the provider with its own
// environment (go-plugin appends os.Environ()) and reads the provider's stderr, each JSON line
// an hclog entry, into its "provider" logger. That logger's level is TF_LOG_PROVIDER, or TF_LOG
// when TF_LOG_PROVIDER is empty, upper-cased: empty or OFF is off, JSON is TRACE, a level name
// is that level, anything else is TRACE (with a warning). It writes to stderr, or TF_LOG_PATH
// when set. Besides, when TF_TEMP_LOG_PATH names a file (HCP Terraform's agents set it),
// Terraform records there every line of every logger at TRACE whatever the levels are (OpenTofu
// 1.12 records none of the provider's then: its go-plugin 1.7 drops them when the provider
// logger is off). TF_LOG_CORE, TF_LOG_PATH alone, TF_LOG_CLOUD and TF_LOG_STACKS never make a
// provider line visible.
package clilog

import "strings"

// The environment variables the CLI reads (see the package comment).
const (
	EnvLog         = "TF_LOG"
	EnvLogProvider = "TF_LOG_PROVIDER"
	EnvTempLogPath = "TF_TEMP_LOG_PATH"
)

// ProviderLinesShown reports whether the CLI whose environment getenv reads shows or records
// the provider's log lines at any level.
func ProviderLinesShown(getenv func(string) string) bool {
	if getenv(EnvTempLogPath) != "" {
		// Terraform opens the file without creating it and skips the sink when it cannot, and
		// OpenTofu records no provider line there; the provider cannot tell which CLI started it
		// nor whether it could open the file, so it assumes the lines are recorded.
		return true
	}
	level := strings.ToUpper(getenv(EnvLogProvider))
	if level == "" {
		level = strings.ToUpper(getenv(EnvLog))
	}
	return level != "" && level != "OFF"
}

// SDKLevelVars are the variables through which terraform-plugin-go, terraform-plugin-framework
// and terraform-plugin-log set their loggers' levels in the provider process: the SDK's root
// logger, its protocol and framework subsystems, and the provider's own root logger (named
// after the provider's type in its registry address: TF_LOG_PROVIDER_O365). Unset, each is
// TRACE, and every line is built and JSON-encoded to stderr.
var SDKLevelVars = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_O365"}

// SilenceSDK sets each of SDKLevelVars to OFF. At OFF the SDK's loggers return before they
// build a line (terraform-plugin-log caches the level outside the context for this), and the
// provider's root logger writes nothing.
func SilenceSDK(setenv func(key, value string) error) error {
	for _, k := range SDKLevelVars {
		if err := setenv(k, "OFF"); err != nil {
			return err
		}
	}
	return nil
}
