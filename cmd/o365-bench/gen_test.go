package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// TestSeveralBenchTenants: the benchmark tenants 1…3 are served by one emulator, and every
// admin of the -tenants configuration signs in at its own tenant.
func TestSeveralBenchTenants(t *testing.T) {
	var seeds []*emulator.Seed
	for k := 1; k <= 3; k++ {
		s := benchSeed(k, 2)
		seeds = append(seeds, &s)
	}
	if seeds[0].TenantID != benchTenantID || seeds[0].Domains[0] != benchDomain {
		t.Errorf("tenant 1 is not the single-tenant scenarios' tenant: %s %v", seeds[0].TenantID, seeds[0].Domains)
	}
	c, err := emulator.StartTenants(seeds, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	cfg, err := renderConfig(scenarioTarget, 2, 3, c.URL(), c.CAFile(), "")
	if err != nil {
		t.Fatal(err)
	}
	admins := regexp.MustCompile(`"(admin\d{4}@[^"]+)" = "([^"]+)"`).FindAllStringSubmatch(cfg, -1)
	if len(admins) != 6 || !strings.Contains(cfg, "in each of 3 tenants") {
		t.Fatalf("config of 2 connections in 3 tenants:\n%s", cfg)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for _, a := range admins {
		domain := a[1][strings.IndexByte(a[1], '@')+1:]
		res, err := hc.PostForm(c.URL()+"/"+domain+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
			"client_id": {"1950a258-227b-4e31-a9cf-717495945fc2"}, "username": {a[1]}, "password": {a[2]},
			"scope": {"https://graph.microsoft.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", a[1], res.StatusCode)
		}
	}
	for _, tenant := range c.Tenants() {
		if n := tenant.Counters().ByRoute["token"]; n != 2 {
			t.Errorf("%s: %d sign-ins, want 2", tenant.InitialDomain(), n)
		}
	}
	if err := cmdConfig([]string{"-scenario", scenarioAppSecret, "-tenants", "2", "-url", "u", "-ca", "c"}); err == nil {
		t.Error("-tenants 2 with an application scenario: no error")
	}
}
