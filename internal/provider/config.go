package provider

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// resolvedConfig is the provider configuration after environment variables and defaults
// are applied and every value is checked.
type resolvedConfig struct {
	DefaultCloud string
	Endpoints    cloud.Endpoints // overrides; empty fields keep the cloud's own host
	CAFile       string
	CAPEM        []byte
	ClientID     string
	MaxRetries   int
	// Management is the management identity (DESIGN.md §7.1), nil when none is configured.
	Management *managementConfig
}

// Cloud returns the named cloud with the endpoint overrides applied.
func (c resolvedConfig) Cloud(name string) (cloud.Cloud, bool) {
	cl, ok := cloud.Lookup(name)
	if !ok {
		return cl, false
	}
	return cl.WithEndpoints(c.Endpoints), true
}

// stringSetting is a configuration value that may be unset (null) or unknown.
type stringSetting interface {
	IsNull() bool
	IsUnknown() bool
	ValueString() string
}

// lookup is the one configuration-or-environment rule of the provider block: a value the
// configuration sets wins; otherwise the first of its environment variables that is set.
type lookup struct{ getenv func(string) string }

// pick returns the value and the environment variable it came from ("" for the
// configuration, or when nothing is set).
func (l lookup) pick(v stringSetting, envs ...string) (value, env string) {
	if v != nil && !v.IsNull() && !v.IsUnknown() {
		return v.ValueString(), ""
	}
	for _, e := range envs {
		if s := l.getenv(e); s != "" {
			return s, e
		}
	}
	return "", ""
}

// fromEnv says in a message where a value came from: " (from environment variable X)", or
// nothing for the configuration.
func fromEnv(env string) string {
	if env == "" {
		return ""
	}
	return " (from environment variable " + env + ")"
}

// resolveConfig applies precedence (configuration, then environment, then default) and
// validates what plan-time validators could not see: values that came from the environment.
func resolveConfig(m providerModel, getenv func(string) string) (resolvedConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	env := lookup{getenv}
	cfg := resolvedConfig{DefaultCloud: cloud.Worldwide, ClientID: DefaultClientID, MaxRetries: DefaultMaxRetries}
	resolveCloud(env, m, &cfg, &diags)
	resolveEndpoints(env, m.Endpoints, &cfg, &diags)
	if v, e := env.pick(m.CACertificateFile, EnvCACertFile); v != "" {
		pemBytes, err := readCAFile(v)
		if err != nil {
			diags.AddAttributeError(path.Root("ca_certificate_file"), "Unusable CA certificate file",
				fmt.Sprintf("ca_certificate_file%s: %s", fromEnv(e), err))
		} else {
			cfg.CAFile, cfg.CAPEM = v, pemBytes
		}
	}
	if v, e := env.pick(m.ClientID, EnvClientID); v != "" {
		if !guidPattern.MatchString(v) {
			diags.AddAttributeError(path.Root("client_id"), "Invalid client ID",
				fmt.Sprintf("client_id%s must be an application (client) ID, a GUID like %s; got %q.", fromEnv(e), DefaultClientID, v))
		} else {
			cfg.ClientID = v
		}
	}
	resolveMaxRetries(m, getenv, &cfg, &diags)
	mgmt, mdiags := resolveManagement(m.Management, getenv)
	diags.Append(mdiags...)
	cfg.Management = mgmt
	return cfg, diags
}

func resolveCloud(env lookup, m providerModel, cfg *resolvedConfig, diags *diag.Diagnostics) {
	v, e := env.pick(m.Cloud, EnvCloud)
	if v == "" {
		return
	}
	if _, ok := cloud.Lookup(v); !ok {
		diags.AddAttributeError(path.Root("cloud"), "Unknown cloud",
			fmt.Sprintf("Cloud %q%s is not one of %v. Set `cloud` to one of them.", v, fromEnv(e), cloud.Names()))
		return
	}
	cfg.DefaultCloud = v
	if e != "" {
		warnRetiredCloud(v, path.Root("cloud"), diags)
	}
}

func resolveEndpoints(env lookup, m *endpointsModel, cfg *resolvedConfig, diags *diag.Diagnostics) {
	var ep endpointsModel
	if m != nil {
		ep = *m
	}
	for _, e := range []struct {
		name, env string
		v         stringSetting
		dst       *string
	}{
		{"login", EnvLoginEndpoint, ep.Login, &cfg.Endpoints.Login},
		{"graph", EnvGraphEndpoint, ep.Graph, &cfg.Endpoints.Graph},
		{"exchange", EnvExchangeEndpoint, ep.Exchange, &cfg.Endpoints.Exchange},
	} {
		v, from := env.pick(e.v, e.env)
		if v == "" {
			continue
		}
		if err := cloud.ValidateEndpointURL(v); err != nil {
			diags.AddAttributeError(path.Root("endpoints").AtName(e.name), "Invalid endpoint URL",
				fmt.Sprintf("endpoints.%s%s: %s.", e.name, fromEnv(from), err))
			continue
		}
		*e.dst = v
	}
}

func resolveMaxRetries(m providerModel, getenv func(string) string, cfg *resolvedConfig, diags *diag.Diagnostics) {
	switch {
	case !m.MaxRetries.IsNull() && !m.MaxRetries.IsUnknown():
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
	case getenv(EnvMaxRetries) != "":
		n, err := strconv.ParseInt(getenv(EnvMaxRetries), 10, 64)
		if err != nil || n < 0 || n > 20 {
			diags.AddAttributeError(path.Root("max_retries"), "Invalid max_retries",
				fmt.Sprintf("max_retries%s must be a whole number between 0 and 20; got %q.", fromEnv(EnvMaxRetries), getenv(EnvMaxRetries)))
		} else {
			cfg.MaxRetries = int(n)
		}
	}
}

// readCAFile reads a PEM bundle and checks that it holds at least one CA certificate.
func readCAFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %v. Give the path of a readable PEM file", name, err)
	}
	if err := checkPEMCertificates(b); err != nil {
		return nil, fmt.Errorf("%q %v", name, err)
	}
	return b, nil
}

func checkPEMCertificates(b []byte) error {
	if _, err := connection.ParsePublicCertificate(string(b)); err != nil {
		if pk, ok := errors.AsType[*connection.PrivateKeyError](err); ok {
			return fmt.Errorf("holds a private key (a PEM block of type %q; not shown): give only the CA certificates, e.g. `openssl x509 -in ca.pem -out ca.crt`", pk.Kind)
		}
	}
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("holds a certificate that does not parse: %v", err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM certificate (expected one or more -----BEGIN CERTIFICATE----- blocks)")
	}
	return nil
}
