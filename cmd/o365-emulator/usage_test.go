package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpNamesEverything: --help names every subcommand the command runs,
// every flag of each, and every control API route the emulator serves.
func TestHelpNamesEverything(t *testing.T) {
	var out bytes.Buffer
	printUsage(&out)
	help := out.String()

	// The subcommands main dispatches, read from its switch.
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	cases := regexp.MustCompile(`(?m)^\tcase "([a-z]+)":\n\t\terr = `).FindAllStringSubmatch(string(src), -1)
	if len(cases) < 4 {
		t.Fatalf("found %d subcommands in main.go's switch", len(cases))
	}
	listed := map[string]bool{}
	for _, c := range subcommands() {
		listed[c.name] = true
	}
	for _, c := range cases {
		if !listed[c[1]] {
			t.Errorf("subcommand %s is missing from --help", c[1])
		}
		if !strings.Contains(help, "o365-emulator "+c[1]) && !strings.Contains(help, "o365-emulator ["+c[1]+"]") {
			t.Errorf("--help has no synopsis of %s", c[1])
		}
	}

	for _, c := range subcommands() {
		var sub bytes.Buffer
		printSubcommandUsage(&sub, c.name)
		n := 0
		c.flags().VisitAll(func(f *flag.Flag) {
			n++
			for what, text := range map[string]string{"--help": help, c.name + " -h": sub.String()} {
				if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(text) {
					t.Errorf("%s does not describe %s's flag -%s", what, c.name, f.Name)
				}
				if !strings.Contains(text, f.Usage) {
					t.Errorf("%s lacks the usage of %s's -%s", what, c.name, f.Name)
				}
			}
		})
		if n == 0 {
			t.Errorf("%s has no flags", c.name)
		}
	}

	// Every control route of the emulator, as its source registers them.
	files, err := filepath.Glob("../../internal/emulator/*.go")
	if err != nil {
		t.Fatal(err)
	}
	route := regexp.MustCompile(`HandleFunc\("([A-Z]+ /_emulator/[^"]*)"`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range route.FindAllStringSubmatch(string(b), -1) {
			found++
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(m[1]) + `$`).MatchString(help) {
				t.Errorf("--help does not list the control route %s (%s)", m[1], filepath.Base(f))
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d control routes in internal/emulator", found)
	}
	for _, want := range []string{"GET /_emulator/tenants", "Authorization: Bearer <control token>"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	// And none it lists that the emulator does not serve.
	all := string(mustReadAll(t, files))
	for _, r := range controlAPI {
		if strings.HasPrefix(r.route, "ANY ") || r.route == "GET /_emulator/tenants" {
			continue
		}
		if !strings.Contains(all, `"`+r.route+`"`) {
			t.Errorf("--help lists %s, which the emulator does not serve", r.route)
		}
	}
}

func mustReadAll(t *testing.T, files []string) []byte {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
