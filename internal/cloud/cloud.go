// Package cloud knows Microsoft's national clouds: their login, Graph and Exchange Online
// hosts and the resource identifiers tokens are requested for (WIRE.md §B).
package cloud

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Names of the clouds, as the provider's `cloud` attribute spells them.
const (
	Worldwide       = "worldwide"
	Germany         = "germany"
	USGovernment    = "usgovernment"
	USGovernmentDoD = "usgovernment_dod"
	China           = "china"
)

// Endpoints are the base URLs (scheme and host, no trailing slash) of the three surfaces.
type Endpoints struct {
	Login    string
	Graph    string
	Exchange string
}

// Cloud is one national cloud.
type Cloud struct {
	Name        string
	Description string
	Endpoints   Endpoints
	// GraphResource and ExchangeResource are the resource identifiers tokens are requested
	// for (`<resource>/.default`, WIRE.md §A9). They stay the cloud's own even when
	// endpoints are overridden: a proxy or an emulated tenant serves the same audience.
	GraphResource    string
	ExchangeResource string
	// InitialDomainSuffixes are the suffixes of a tenant's initial (never-changing) domain.
	InitialDomainSuffixes []string
	// Retired is non-empty when Microsoft has closed the cloud; it says when and what to do.
	Retired string
	// GraphImport: Microsoft Graph's mailbox import and export API is offered here. It is
	// the global service's only (WIRE.md §M1.4: not US Government L4/L5, not 21Vianet; the
	// German cloud closed before it existed).
	GraphImport bool
}

var clouds = map[string]Cloud{
	Worldwide: {
		Name: Worldwide, Description: "Office 365 worldwide, including GCC",
		Endpoints:             Endpoints{Login: "https://login.microsoftonline.com", Graph: "https://graph.microsoft.com", Exchange: "https://outlook.office365.com"},
		GraphResource:         "https://graph.microsoft.com",
		ExchangeResource:      "https://outlook.office365.com",
		InitialDomainSuffixes: []string{".onmicrosoft.com"},
		GraphImport:           true,
	},
	Germany: {
		Name: Germany, Description: "Office 365 Germany (Microsoft Cloud Deutschland)",
		Endpoints:             Endpoints{Login: "https://login.microsoftonline.de", Graph: "https://graph.microsoft.de", Exchange: "https://outlook.office.de"},
		GraphResource:         "https://graph.microsoft.de",
		ExchangeResource:      "https://outlook.office.de",
		InitialDomainSuffixes: []string{".onmicrosoft.de"},
		Retired:               "Microsoft Cloud Deutschland closed on 29 October 2021; its endpoints no longer answer. Set `endpoints` to reach a private or emulated deployment, or migrate the tenant to cloud \"worldwide\".",
	},
	USGovernment: {
		Name: USGovernment, Description: "Office 365 US Government GCC High",
		Endpoints:             Endpoints{Login: "https://login.microsoftonline.us", Graph: "https://graph.microsoft.us", Exchange: "https://outlook.office365.us"},
		GraphResource:         "https://graph.microsoft.us",
		ExchangeResource:      "https://outlook.office365.us",
		InitialDomainSuffixes: []string{".onmicrosoft.us", ".onmicrosoft.com"},
	},
	USGovernmentDoD: {
		Name: USGovernmentDoD, Description: "Office 365 US Government DoD",
		Endpoints:             Endpoints{Login: "https://login.microsoftonline.us", Graph: "https://dod-graph.microsoft.us", Exchange: "https://webmail.apps.mil"},
		GraphResource:         "https://dod-graph.microsoft.us",
		ExchangeResource:      "https://webmail.apps.mil",
		InitialDomainSuffixes: []string{".onmicrosoft.us", ".onmicrosoft.com"},
	},
	China: {
		Name: China, Description: "Office 365 operated by 21Vianet",
		Endpoints:             Endpoints{Login: "https://login.partner.microsoftonline.cn", Graph: "https://microsoftgraph.chinacloudapi.cn", Exchange: "https://partner.outlook.cn"},
		GraphResource:         "https://microsoftgraph.chinacloudapi.cn",
		ExchangeResource:      "https://partner.outlook.cn",
		InitialDomainSuffixes: []string{".partner.onmschina.cn", ".onmschina.cn"},
	},
}

// Names lists the cloud names, sorted.
func Names() []string {
	out := make([]string, 0, len(clouds))
	for n := range clouds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the named cloud.
func Lookup(name string) (Cloud, bool) {
	c, ok := clouds[name]
	return c, ok
}

// WithEndpoints returns the cloud with the non-empty overrides applied.
func (c Cloud) WithEndpoints(o Endpoints) Cloud {
	if o.Login != "" {
		c.Endpoints.Login = strings.TrimRight(o.Login, "/")
	}
	if o.Graph != "" {
		c.Endpoints.Graph = strings.TrimRight(o.Graph, "/")
	}
	if o.Exchange != "" {
		c.Endpoints.Exchange = strings.TrimRight(o.Exchange, "/")
	}
	return c
}

// GraphScope is the scope of a Graph token.
func (c Cloud) GraphScope() string { return c.GraphResource + "/.default" }

// ExchangeScope is the scope of a token for EWS and the Exchange admin API (one resource).
func (c Cloud) ExchangeScope() string { return c.ExchangeResource + "/.default" }

// EWSURL is the Exchange Web Services endpoint.
func (c Cloud) EWSURL() string { return c.Endpoints.Exchange + "/EWS/Exchange.asmx" }

// AuthorityHost is the login endpoint with the trailing slash azidentity expects.
func (c Cloud) AuthorityHost() string { return c.Endpoints.Login + "/" }

// IsInitialDomain reports whether domain is a tenant's initial domain in this cloud.
func (c Cloud) IsInitialDomain(domain string) bool {
	d := strings.ToLower(domain)
	for _, s := range c.InitialDomainSuffixes {
		if strings.HasSuffix(d, s) {
			return true
		}
	}
	return false
}

// CloudForInitialDomain returns the name of the cloud whose initial-domain suffix the domain
// carries uniquely (e.g. ".onmicrosoft.de" → germany), or "".
func CloudForInitialDomain(domain string) string {
	d := strings.ToLower(domain)
	switch {
	case strings.HasSuffix(d, ".onmicrosoft.de"):
		return Germany
	case strings.HasSuffix(d, ".onmschina.cn"):
		return China
	}
	return ""
}

// ValidateEndpointURL checks an endpoint override: an absolute https URL with a host and
// nothing after the host but an optional path prefix. Microsoft's identity libraries refuse
// any other scheme (WIRE.md §A2), and tokens must never travel in clear text.
func ValidateEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q must use https (got scheme %q); Microsoft's identity libraries and this provider never send credentials in clear text", raw, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host; write it like https://login.example.com", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not carry a query, fragment or user info; give only scheme, host and an optional path", raw)
	}
	return nil
}
