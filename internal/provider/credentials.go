package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// The credentials the provider reads from a configuration: each is read once, where it is
// configured, into a typed connection.Credential (a certificate parsed with its key), and
// handed down as it is; a certificate's end of validity is judged by one rule.

// credentialWarning is how long before a credential's expiry plans warn (DESIGN.md §7.2).
const credentialWarning = 30 * 24 * time.Hour

// expiry is the one rule for a credential's end of validity: expired once it has passed,
// expiring soon within credentialWarning, and the days left counted up (a credential that
// ends in nine days and an hour has ten days left).
type expiry struct {
	expired, soon bool
	daysLeft      int
}

func expiryOf(notAfter, now time.Time) expiry {
	left := notAfter.Sub(now)
	return expiry{expired: left <= 0, soon: left > 0 && left <= credentialWarning, daysLeft: int((left + 24*time.Hour - 1) / (24 * time.Hour))}
}

// appCredentialAttribute is one of the application credential's attributes of
// o365_target_app_connection.
type appCredentialAttribute struct {
	name      string
	kind      connection.CredentialKind
	writeOnly bool // only in configuration, never in state
	field     func(m *targetAppConnectionModel) *types.String
}

// appCredentials are the application credential's four attributes, the one list every use
// reads: a configuration sets exactly one, a write-only one wins (it is in the configuration
// of the apply that uses it).
var appCredentials = []appCredentialAttribute{
	{"client_secret_wo", connection.ClientSecret, true, func(m *targetAppConnectionModel) *types.String { return &m.ClientSecretWO }},
	{"client_certificate_wo", connection.ClientCertificate, true, func(m *targetAppConnectionModel) *types.String { return &m.ClientCertificateWO }},
	{"client_secret", connection.ClientSecret, false, func(m *targetAppConnectionModel) *types.String { return &m.ClientSecret }},
	{"client_certificate", connection.ClientCertificate, false, func(m *targetAppConnectionModel) *types.String { return &m.ClientCertificate }},
}

// appCredentialNames lists the attributes' names for a description: "`a`, `b`, `c` and `d`".
func appCredentialNames() string {
	names := make([]string, 0, len(appCredentials))
	for _, a := range appCredentials {
		names = append(names, "`"+a.name+"`")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// configuredCredential is the credential attribute m sets (nil when none is known).
func configuredCredential(m *targetAppConnectionModel) *appCredentialAttribute {
	for i, a := range appCredentials {
		if v := a.field(m); !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
			return &appCredentials[i]
		}
	}
	return nil
}

// appCredentialOf reads the credential m sets: a certificate is parsed here, once, and a
// certificate that does not parse is an error on its attribute. It also returns the values
// log lines must never show.
func appCredentialOf(m targetAppConnectionModel) (connection.Credential, []string, diag.Diagnostics) {
	var diags diag.Diagnostics
	a := configuredCredential(&m)
	if a == nil {
		return connection.ClientSecretCredential(""), nil, diags // refused by the connection: no credential
	}
	value, password := a.field(&m).ValueString(), m.ClientCertificatePassword.ValueString()
	if a.kind == connection.ClientSecret {
		return connection.ClientSecretCredential(value), []string{value}, diags
	}
	cert := parseClientCertificate(value, password, path.Root(a.name), &diags)
	if cert == nil {
		return connection.Credential{}, nil, diags
	}
	return connection.CertificateCredential(cert), []string{value, password}, diags
}

// hasStoredCredential reports whether the state holds a credential a plan can sign in with.
func (m targetAppConnectionModel) hasStoredCredential() bool {
	for _, a := range appCredentials {
		if !a.writeOnly && !a.field(&m).IsNull() {
			return true
		}
	}
	return false
}

// appWriteOnlyFromConfig copies the write-only credentials, which exist only in
// configuration, into the model used for this apply (they are never written to state).
func appWriteOnlyFromConfig(ctx context.Context, config tfsdk.Config, m *targetAppConnectionModel) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, a := range appCredentials {
		if a.writeOnly {
			diags.Append(config.GetAttribute(ctx, path.Root(a.name), a.field(m))...)
		}
	}
	return diags
}

// withoutWriteOnly is m as state keeps it: no write-only credential.
func (m targetAppConnectionModel) withoutWriteOnly() targetAppConnectionModel {
	for _, a := range appCredentials {
		if a.writeOnly {
			*a.field(&m) = types.StringNull()
		}
	}
	return m
}

// parseClientCertificate reads a configured client certificate; one that cannot sign in
// (does not parse, no RSA key, no certificate matching it) is an error on its attribute.
func parseClientCertificate(value, password string, at path.Path, diags *diag.Diagnostics) *connection.Certificate {
	cert, err := connection.ParseClientCertificate(value, password)
	if err != nil {
		diags.AddAttributeError(at, "Unusable client certificate",
			at.String()+": "+err.Error()+". Give the certificate and its unencrypted RSA private key as PEM text (file(\"app.pem\")), "+
				"or a PKCS#12 file as base64 (filebase64(\"app.pfx\")) with client_certificate_password.")
		return nil
	}
	return cert
}

// checkClientCertificate reports a certificate that cannot sign in: one that does not parse,
// has no RSA key or no certificate matching it, or has expired; and warns within 30 days of
// its end (WIRE.md §I2, §I6).
func checkClientCertificate(value, password string, at path.Path, now time.Time, diags *diag.Diagnostics) {
	c := parseClientCertificate(value, password, at, diags)
	if c == nil {
		return
	}
	switch e := expiryOf(c.NotAfter, now); {
	case e.expired:
		diags.AddAttributeError(at, "Client certificate has expired",
			fmt.Sprintf("The certificate %s (thumbprint %s) expired on %s. Create a new certificate, upload its public part to the app registration "+
				"(Certificates & secrets), and configure it here.", c.Subject, c.Thumbprint, rfc3339(c.NotAfter)))
	case e.soon:
		diags.AddAttributeWarning(at, "Client certificate expires soon",
			fmt.Sprintf("The certificate %s (thumbprint %s) expires on %s, in %s. Add a new certificate to the app registration and configure it "+
				"here before then, or the migration stops signing in.", c.Subject, c.Thumbprint, rfc3339(c.NotAfter), connection.Count(e.daysLeft, "day", "days")))
	}
}

// parsePublicCertificate reads o365_migration_application's certificate; one that does not
// parse (or holds a private key) is an error on `certificate`.
func parsePublicCertificate(text string, diags *diag.Diagnostics) *connection.Certificate {
	c, err := connection.ParsePublicCertificate(text)
	if pk, ok := errors.AsType[*connection.PrivateKeyError](err); ok {
		addPrivateKeyError(path.Root("certificate"), pk, diags)
		return nil
	}
	if err != nil {
		diags.AddAttributeError(path.Root("certificate"), "Unusable certificate", "certificate: "+err.Error()+". Give the public certificate in PEM (-----BEGIN CERTIFICATE-----).")
		return nil
	}
	return c
}

// addPrivateKeyError reports private-key material in a public certificate input at: what
// to pass instead, and never any of the value (its PEM block's type only).
func addPrivateKeyError(at path.Path, pk *connection.PrivateKeyError, diags *diag.Diagnostics) {
	diags.AddAttributeError(at, "Private key given as certificate",
		at.String()+" takes the public certificate only, and the value given holds a private key (a PEM block of type \""+pk.Kind+"\"; "+
			"the value is not shown). The private key stays with the migration engine. Pass the public part: the .crt file, "+
			"or extract it with `openssl x509 -in key_and_cert.pem -out migration.crt` and set certificate = file(\"migration.crt\").")
}

// rejectPrivateKey reports (and is true for) private-key material in the public
// certificate input at.
func rejectPrivateKey(at path.Path, text string, diags *diag.Diagnostics) bool {
	_, err := connection.ParsePublicCertificate(text)
	pk, ok := errors.AsType[*connection.PrivateKeyError](err)
	if ok {
		addPrivateKeyError(at, pk, diags)
	}
	return ok
}

// checkPublicCertificate: the certificate must parse (a public PEM certificate) and not have
// expired; one expiring within 30 days warns.
func checkPublicCertificate(text string, now time.Time, diags *diag.Diagnostics) {
	c := parsePublicCertificate(text, diags)
	if c == nil {
		return
	}
	at := path.Root("certificate")
	switch e := expiryOf(c.NotAfter, now); {
	case e.expired:
		diags.AddAttributeError(at, "Certificate expired",
			fmt.Sprintf("The certificate %s (thumbprint %s) expired on %s. Microsoft refuses sign-ins with it; give a current certificate.",
				c.Subject, c.Thumbprint, rfc3339(c.NotAfter)))
	case e.soon:
		diags.AddAttributeWarning(at, "Certificate expires soon",
			fmt.Sprintf("The certificate %s (thumbprint %s) expires on %s, in %s; give a new one before then.", c.Subject, c.Thumbprint, rfc3339(c.NotAfter), connection.Count(e.daysLeft, "day", "days")))
	}
}

// checkExpiry warns 30 days before the recorded expiry of o365_migration_application's
// credentials and fails once it has passed.
func checkExpiry(v types.String, diags *diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	t, err := time.Parse(time.RFC3339, v.ValueString())
	if err != nil {
		return
	}
	at := path.Root("credential_expires_at")
	switch e := expiryOf(t, time.Now()); {
	case e.expired:
		diags.AddAttributeError(at, "Migration application credential expired",
			"A credential of the application expired on "+v.ValueString()+", so the migration engine can no longer sign in. "+
				"Give a new `certificate`; an expired client secret is replaced by the next plan itself.")
	case e.soon:
		diags.AddAttributeWarning(at, "Migration application credential expires soon",
			fmt.Sprintf("A credential of the application expires on %s (in %s). Give a new `certificate`, or set `client_secret_rotate_before_days` to renew the client secret ahead of its end.",
				v.ValueString(), connection.Count(e.daysLeft, "day", "days")))
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
