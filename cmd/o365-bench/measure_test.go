package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// measure -check-budget records a plan that broke its budget and exits with exitBudget, so
// that scripts/bench.sh measures the rest and fails at the end; a plan within it exits 0.
// The "CLI" is this test binary (TestMeasureHelper), standing for one provider process that
// asks the tenant for a number of tokens.
func TestMeasureBudget(t *testing.T) {
	c, info := startOutageTenants(t, []int{1})
	dir := t.TempDir()
	res, logf, rss := filepath.Join(dir, "results.jsonl"), filepath.Join(dir, "cli.log"), filepath.Join(dir, "rss.txt")
	t.Setenv("O365_BENCH_HELPER_URL", c.URL())
	t.Setenv("O365_BENCH_HELPER_CA", c.CAFile())
	t.Setenv("O365_BENCH_HELPER_RSS", rss)
	measure := func(tokens int) error {
		t.Setenv("O365_BENCH_HELPER_TOKENS", strconv.Itoa(tokens))
		return cmdMeasure([]string{"-info-file", info, "-results", res, "-log", logf, "-rss", rss, "-scenario", scenarioGraphImport,
			"-n", "1", "-cli", "terraform", "-cmd", "plan", "-check-budget", "--", os.Args[0], "-test.run=^TestMeasureHelper$"})
	}
	// graph_import allows 3 tokens per provider process: the helper is one.
	if err := measure(3); err != nil {
		t.Fatalf("3 tokens for one process: %v", err)
	}
	err := measure(4)
	var ec exitCode
	if !asExit(err, &ec) || ec != exitBudget {
		t.Fatalf("4 tokens for one process: measure = %v, want exit status %d", err, exitBudget)
	}
	recs, err := readRecords(res)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %v, %v", recs, err)
	}
	if !recs[0].BudgetKept || recs[1].BudgetKept || recs[1].ProviderStarts != 1 || recs[1].Counters.ByRoute["token"] != 4 {
		t.Errorf("records = %+v", recs)
	}
}

// TestMeasureHelper is TestMeasureBudget's "CLI" when run by measure: it records itself as
// one provider process and asks the benchmark tenant for O365_BENCH_HELPER_TOKENS tokens.
func TestMeasureHelper(t *testing.T) {
	base := os.Getenv("O365_BENCH_HELPER_URL")
	if base == "" {
		t.Skip("run by TestMeasureBudget")
	}
	if err := os.WriteFile(os.Getenv("O365_BENCH_HELPER_RSS"), []byte("1024 1 0.01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(os.Getenv("O365_BENCH_HELPER_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	n, _ := strconv.Atoi(os.Getenv("O365_BENCH_HELPER_TOKENS"))
	upn, pw := benchUser(1)
	for i := 0; i < n; i++ {
		res, err := hc.PostForm(base+"/"+benchDomain+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
			"client_id": {"1950a258-227b-4e31-a9cf-717495945fc2"}, "username": {upn}, "password": {pw},
			"scope": {"https://graph.microsoft.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
}
