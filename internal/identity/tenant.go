package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// TenantID resolves a tenant's GUID from a verified domain without signing in: the tenant's
// OpenID configuration names it in `issuer` (https://{host}/{tid}/v2.0, WIRE.md §A4). The
// request goes through the same shared discovery cache as sign-in, so a later sign-in of the
// same tenant costs no extra request. An unknown domain gives an *AuthError (AADSTS90002).
func (p *Provider) TenantID(ctx context.Context, domain string) (string, error) {
	u := p.opts.AuthorityHost + url.PathEscape(domain) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.discovery.Do(req)
	if err != nil {
		return "", fmt.Errorf("tenant discovery for %s: %w", domain, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody))
	if err != nil {
		return "", fmt.Errorf("tenant discovery for %s: %w", domain, err)
	}
	if resp.StatusCode != http.StatusOK {
		if ae, ok := parseAuthError(resp.StatusCode, body); ok {
			return "", ae
		}
		return "", fmt.Errorf("tenant discovery for %s: HTTP %d", domain, resp.StatusCode)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("tenant discovery for %s: %w", domain, err)
	}
	iss, err := url.Parse(doc.Issuer)
	if err != nil {
		return "", fmt.Errorf("tenant discovery for %s: issuer %q: %w", domain, doc.Issuer, err)
	}
	parts := strings.Split(strings.Trim(iss.Path, "/"), "/")
	if len(parts) == 0 || parts[0] == "" || parts[0] == "{tenantid}" {
		return "", fmt.Errorf("tenant discovery for %s: issuer %q names no tenant", domain, doc.Issuer)
	}
	return parts[0], nil
}
