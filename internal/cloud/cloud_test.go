package cloud

import (
	"strings"
	"testing"
)

func TestLookupAllClouds(t *testing.T) {
	want := map[string]string{
		Worldwide:       "https://outlook.office365.com/EWS/Exchange.asmx",
		Germany:         "https://outlook.office.de/EWS/Exchange.asmx",
		USGovernment:    "https://outlook.office365.us/EWS/Exchange.asmx",
		USGovernmentDoD: "https://webmail.apps.mil/EWS/Exchange.asmx",
		China:           "https://partner.outlook.cn/EWS/Exchange.asmx",
	}
	if len(Names()) != len(want) {
		t.Fatalf("Names() = %v", Names())
	}
	for name, ews := range want {
		c, ok := Lookup(name)
		if !ok {
			t.Fatalf("cloud %s missing", name)
		}
		if c.EWSURL() != ews {
			t.Errorf("%s EWS = %s, want %s", name, c.EWSURL(), ews)
		}
		for _, u := range []string{c.Endpoints.Login, c.Endpoints.Graph, c.Endpoints.Exchange} {
			if err := ValidateEndpointURL(u); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if _, ok := Lookup("mars"); ok {
		t.Error("unknown cloud found")
	}
}

func TestWithEndpointsKeepsAudience(t *testing.T) {
	c, _ := Lookup(Worldwide)
	e := c.WithEndpoints(Endpoints{Graph: "https://127.0.0.1:8443/", Exchange: "https://127.0.0.1:8443"})
	if e.Endpoints.Graph != "https://127.0.0.1:8443" || e.EWSURL() != "https://127.0.0.1:8443/EWS/Exchange.asmx" {
		t.Errorf("overrides not applied: %+v", e.Endpoints)
	}
	if e.Endpoints.Login != "https://login.microsoftonline.com" {
		t.Errorf("login changed: %s", e.Endpoints.Login)
	}
	if e.GraphScope() != "https://graph.microsoft.com/.default" || e.ExchangeScope() != "https://outlook.office365.com/.default" {
		t.Errorf("scopes follow the cloud, not the host: %s %s", e.GraphScope(), e.ExchangeScope())
	}
	if e.AuthorityHost() != "https://login.microsoftonline.com/" {
		t.Errorf("authority host %s", e.AuthorityHost())
	}
}

func TestValidateEndpointURL(t *testing.T) {
	tests := []struct{ in, errPart string }{
		{"https://login.example.com", ""},
		{"https://127.0.0.1:8443/prefix", ""},
		{"http://127.0.0.1:8443", "must use https"},
		{"login.example.com", "must use https"},
		{"https://", "has no host"},
		{"https://h/?x=1", "must not carry"},
		{"https://u:p@h", "must not carry"},
		{"::bad", "is not a URL"},
	}
	for _, tt := range tests {
		err := ValidateEndpointURL(tt.in)
		if tt.errPart == "" && err != nil {
			t.Errorf("%q: unexpected %v", tt.in, err)
		}
		if tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)) {
			t.Errorf("%q: got %v, want error containing %q", tt.in, err, tt.errPart)
		}
	}
}

func TestInitialDomains(t *testing.T) {
	w, _ := Lookup(Worldwide)
	if !w.IsInitialDomain("Contoso.OnMicrosoft.com") || w.IsInitialDomain("contoso.com") {
		t.Error("worldwide initial domain detection")
	}
	if CloudForInitialDomain("contoso.onmicrosoft.de") != Germany || CloudForInitialDomain("contoso.onmicrosoft.com") != "" {
		t.Error("germany detection")
	}
}

// The mailbox import and export API is the global service's only (WIRE.md §M1.4); an
// endpoints override (a proxy, the emulated tenant) keeps what the cloud offers.
func TestGraphImportWorldwideOnly(t *testing.T) {
	for _, name := range Names() {
		c, _ := Lookup(name)
		if want := name == Worldwide; c.GraphImport != want {
			t.Errorf("%s: GraphImport = %v, want %v", name, c.GraphImport, want)
		}
		if c.WithEndpoints(Endpoints{Graph: "https://127.0.0.1:8443"}).GraphImport != c.GraphImport {
			t.Errorf("%s: an endpoints override changed GraphImport", name)
		}
	}
}
