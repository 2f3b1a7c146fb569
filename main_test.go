package main

// The served provider's log lines as the CLI sees them. The CLI under test (TF_ACC_TERRAFORM_PATH,
// else terraform on PATH) runs this test binary as the provider, through a dev override, for a
// plan of one new connection against the emulated tenant: the plan tries the connection (a
// token and an EWS call), so the provider's own lines (the API clients' "ews call" and
// "identity token") are written as well as the plugin SDK's. Where the CLI shows provider
// lines, each of those kinds must be in what it wrote (TF_LOG_PATH, or TF_TEMP_LOG_PATH); where
// it shows none, the provider's stderr must hold none of them.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// envServe makes the test binary serve the provider (TestMain) instead of running tests.
const envServe = "O365_TEST_SERVE_PROVIDER"

func TestMain(m *testing.M) {
	if os.Getenv(envServe) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	logUPN      = "admin@contoso.onmicrosoft.com"
	logPassword = "Log-Pa55!"
)

// logTest is one CLI, one emulated tenant and one working directory for plans.
type logTest struct {
	cli, dir, rawStderr string
	tofu                bool // the CLI is OpenTofu
	env                 []string
}

func newLogTest(t *testing.T) *logTest {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		var err error
		if cli, err = exec.LookPath("terraform"); err != nil {
			t.Skip("no CLI: set TF_ACC_TERRAFORM_PATH")
		}
	}
	version, err := exec.Command(cli, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	seed := &emulator.Seed{TenantID: "3b2a1c0d-1111-4222-8333-944445555666", DisplayName: "Contoso", Cloud: "worldwide",
		Domains: []string{"contoso.onmicrosoft.com"},
		Users: []emulator.SeedUser{{UserPrincipalName: logUPN, Password: logPassword, Mailbox: true,
			ExchangeRoles: []string{"ApplicationImpersonation", "View-Only Configuration", "View-Only Recipients", "Mail Recipients", "Mail Recipient Creation"}}},
	}
	s, err := emulator.Start(seed, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	base := t.TempDir()
	lt := &logTest{cli: cli, dir: filepath.Join(base, "work"), rawStderr: filepath.Join(base, "provider-stderr.log"),
		tofu: strings.HasPrefix(string(version), "OpenTofu")}
	plugins := filepath.Join(base, "plugins")
	for _, d := range []string{lt.dir, plugins} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The provider is this binary; with O365_TEST_RAW_STDERR set, its stderr goes to that file
	// instead of the CLI (a CLI that shows no provider line loses nothing by it).
	wrapper := fmt.Sprintf("#!/bin/sh\nif [ -n \"$O365_TEST_RAW_STDERR\" ]; then exec 2>>\"$O365_TEST_RAW_STDERR\"; fi\n%s=1 exec %q \"$@\"\n", envServe, self)
	if err := os.WriteFile(filepath.Join(plugins, "terraform-provider-o365"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(base, "cli.tfrc")
	if err := os.WriteFile(rc, fmt.Appendf(nil, `provider_installation {
  dev_overrides {
    "registry.terraform.io/o365-terraform/o365" = %[1]q
    "registry.opentofu.org/o365-terraform/o365" = %[1]q
  }
  direct {}
}
`, plugins), 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`terraform {
  required_providers {
    o365 = { source = "o365-terraform/o365" }
  }
}
provider "o365" {
  endpoints = {
    login    = %[1]q
    graph    = %[1]q
    exchange = %[1]q
  }
  ca_certificate_file = %[2]q
  max_retries         = 0
}
resource "o365_target_connection" "test" {
  name        = "Target"
  admin_email = %[3]q
  password    = %[4]q
}
`, s.URL(), s.CAFile(), logUPN, logPassword)
	if err := os.WriteFile(filepath.Join(lt.dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// Only what the test sets: no TF_LOG* of the caller's.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "TF_LOG") && k != "TF_TEMP_LOG_PATH" && k != "TF_CLI_CONFIG_FILE" {
			lt.env = append(lt.env, kv)
		}
	}
	lt.env = append(lt.env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return lt
}

// plan runs a plan with env added and returns the provider's raw stderr when rawStderr is set.
func (lt *logTest) plan(t *testing.T, rawStderr bool, env ...string) string {
	t.Helper()
	_ = os.Remove(lt.rawStderr)
	cmd := exec.Command(lt.cli, "plan", "-input=false", "-no-color")
	cmd.Dir = lt.dir
	cmd.Env = append(append([]string{}, lt.env...), env...)
	if rawStderr {
		cmd.Env = append(cmd.Env, "O365_TEST_RAW_STDERR="+lt.rawStderr)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s plan: %v\n%s", lt.cli, err, out)
	}
	if !strings.Contains(string(out), "1 to add") {
		t.Fatalf("the plan does not create the connection:\n%s", out)
	}
	b, _ := os.ReadFile(lt.rawStderr)
	return string(b)
}

// Each kind of line the provider writes in these plans, as the provider writes it (JSON) and
// as the CLI writes it again ("<message>: key=value ...", the keys in any order). The provider's
// own logger is named after its type: @module=o365.
var lineKinds = []struct {
	name       string
	json, text *regexp.Regexp
}{
	{"the protocol's (terraform-plugin-go, TRACE)", regexp.MustCompile(`"@message":"Received request".*"@module":"sdk\.proto"`), regexp.MustCompile(`: Received request: [^\n]*@module=sdk\.proto`)},
	{"the framework's (TRACE)", regexp.MustCompile(`"@message":"Calling provider defined Resource ModifyPlan".*"@module":"sdk\.framework"`), regexp.MustCompile(`: Calling provider defined Resource ModifyPlan: [^\n]*@module=sdk\.framework`)},
	{"the framework's (DEBUG)", regexp.MustCompile(`"@level":"debug".*"@module":"sdk\.framework"`), regexp.MustCompile(`\[DEBUG\] provider\.terraform-provider-o365: [^\n]*@module=sdk\.framework`)},
	{"the provider's own: an API call (DEBUG)", regexp.MustCompile(`"@message":"ews call".*"@module":"o365"`), regexp.MustCompile(`: ews call: [^\n]*@module=o365`)},
	{"the provider's own: a token (DEBUG)", regexp.MustCompile(`"@message":"identity token".*"@module":"o365"`), regexp.MustCompile(`: identity token: [^\n]*@module=o365`)},
}

// debugKinds are the kinds of lineKinds at DEBUG or above.
func debugKinds(name string) bool { return strings.Contains(name, "DEBUG") }

func TestAccMain_logLinesFollowTheCLI(t *testing.T) {
	lt := newLogTest(t)
	logFile := filepath.Join(t.TempDir(), "tf.log")
	read := func() string {
		b, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(logFile)
		return string(b)
	}
	shown := func(t *testing.T, log string, want func(string) bool) {
		t.Helper()
		for _, k := range lineKinds {
			if want(k.name) && !k.text.MatchString(log) {
				t.Errorf("%s lines are missing from what the CLI wrote (%d bytes)", k.name, len(log))
			}
		}
	}
	none := func(t *testing.T, raw string) {
		t.Helper()
		for _, k := range lineKinds {
			if k.json.MatchString(raw) {
				t.Errorf("%s lines were written although the CLI shows none:\n%s", k.name, raw)
			}
		}
	}
	all := func(string) bool { return true }

	t.Run("TF_LOG=TRACE: every line", func(t *testing.T) {
		lt.plan(t, false, "TF_LOG=TRACE", "TF_LOG_PATH="+logFile)
		shown(t, read(), all)
	})
	t.Run("TF_LOG=DEBUG: every line at DEBUG", func(t *testing.T) {
		lt.plan(t, false, "TF_LOG=DEBUG", "TF_LOG_PATH="+logFile)
		shown(t, read(), debugKinds)
	})
	t.Run("TF_LOG_PROVIDER=TRACE alone: every line", func(t *testing.T) {
		lt.plan(t, false, "TF_LOG_PROVIDER=TRACE", "TF_LOG_PATH="+logFile)
		shown(t, read(), all)
	})
	t.Run("TF_TEMP_LOG_PATH: every line, whatever TF_LOG says", func(t *testing.T) {
		if lt.tofu {
			// Its go-plugin (1.7) drops the provider's lines when the provider logger is off;
			// the provider writes them all the same (internal/clilog cannot tell the CLIs apart).
			t.Skip("OpenTofu records no provider line in TF_TEMP_LOG_PATH")
		}
		if err := os.WriteFile(logFile, nil, 0o644); err != nil { // the CLI appends, never creates
			t.Fatal(err)
		}
		lt.plan(t, false, "TF_TEMP_LOG_PATH="+logFile)
		shown(t, read(), all)
	})
	t.Run("the raw stderr holds the lines when the CLI shows them", func(t *testing.T) {
		// What the cases below rely on: the provider's own stderr, captured, has every kind.
		raw := lt.plan(t, true, "TF_LOG=TRACE")
		for _, k := range lineKinds {
			if !k.json.MatchString(raw) {
				t.Errorf("%s lines are missing from the provider's stderr (%d bytes)", k.name, len(raw))
			}
		}
	})
	t.Run("no TF_LOG: no line is written", func(t *testing.T) {
		none(t, lt.plan(t, true))
	})
	t.Run("TF_LOG=TRACE, TF_LOG_PROVIDER=off: no line is written", func(t *testing.T) {
		none(t, lt.plan(t, true, "TF_LOG=TRACE", "TF_LOG_PROVIDER=off"))
	})
	t.Run("TF_LOG_CORE=TRACE and the SDK's variables: no line is written", func(t *testing.T) {
		none(t, lt.plan(t, true, "TF_LOG_CORE=TRACE", "TF_LOG_PATH="+logFile, "TF_LOG_SDK=TRACE", "TF_LOG_SDK_FRAMEWORK=TRACE", "TF_LOG_PROVIDER_O365=TRACE"))
	})
}

// The provider's collection target applies only where the environment sets none: a GOGC or
// GOMEMLIMIT the user exported is Go's to read.
func TestGCTarget(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		wantOK bool
	}{
		{env: nil, wantOK: true},
		{env: map[string]string{"GOGC": "50"}, wantOK: false},
		{env: map[string]string{"GOGC": "off"}, wantOK: false},
		{env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantOK: false},
		{env: map[string]string{"TF_LOG": "TRACE"}, wantOK: true},
	} {
		percent, limit, ok := gcTarget(func(k string) string { return tc.env[k] })
		if ok != tc.wantOK {
			t.Errorf("env %v: tuned = %v, want %v", tc.env, ok, tc.wantOK)
			continue
		}
		if ok && (percent != gcPercent || limit != gcMemoryLimit) {
			t.Errorf("env %v: target %d%%, limit %d; want %d%%, %d", tc.env, percent, limit, gcPercent, gcMemoryLimit)
		}
		if !ok && (percent != 0 || limit != 0) {
			t.Errorf("env %v: untuned but returned %d%%, %d", tc.env, percent, limit)
		}
	}
}
