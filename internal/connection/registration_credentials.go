package connection

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The credentials a registration manages: the configured certificate and the client secret
// it adds.

// ensureCredentials brings the certificate and the secret to the spec. A secret is added
// once and kept while it exists and is not renewed (RenewSecret); a renewed secret the
// caller keeps for an overlap stays as the retiring one (RetiringSecretKeyID). Every other
// secret the provider added earlier is removed. A lost answer of the add is recovered by
// graph.AddPassword itself (it removes the orphan before adding again), so a retry never
// leaves two new secrets.
func (r *registrar) ensureCredentials(ctx context.Context, app *graph.Application) error {
	g := r.graph()
	if err := r.ensureCertificate(ctx, app); err != nil {
		return err
	}
	keep, retiring := "", ""
	if r.spec.CreateSecret {
		if k := r.reg.Secret; k != nil && k.Value != "" && hasSecret(app, k.KeyID) && !r.spec.RenewSecret {
			keep = k.KeyID
		} else {
			p, err := g.AddPassword(ctx, app.ID, secretNamePrefix+uuid.NewString(), r.env.now().Add(r.spec.SecretLifetime))
			if err != nil {
				return r.graphError(err, roles.ManageRegistrations, "add a client secret")
			}
			r.reg.Secret = &Secret{KeyID: p.KeyID, Value: p.SecretText, EndAt: p.EndDateTime}
			keep = p.KeyID
		}
		if id := r.spec.RetiringSecretKeyID; id != "" && !strings.EqualFold(id, keep) && hasSecret(app, id) {
			retiring = id
		}
	} else {
		r.reg.Secret = nil
	}
	for _, p := range app.PasswordCredentials {
		if strings.HasPrefix(p.DisplayName, secretNamePrefix) && !strings.EqualFold(p.KeyID, keep) && !strings.EqualFold(p.KeyID, retiring) && r.ownsSecret(p.KeyID) {
			if err := g.RemovePassword(ctx, app.ID, p.KeyID); err != nil {
				return r.graphError(err, roles.ManageRegistrations, "remove an old client secret")
			}
		}
	}
	r.reg.RetiringSecret = secretEntry(app, retiring)
	r.credentialExpiry(app)
	return nil
}

func hasSecret(app *graph.Application, keyID string) bool {
	return secretEntry(app, keyID) != nil
}

// secretEntry is the application's secret keyID without its value (nil when it has none).
func secretEntry(app *graph.Application, keyID string) *Secret {
	if keyID == "" {
		return nil
	}
	for _, p := range app.PasswordCredentials {
		if strings.EqualFold(p.KeyID, keyID) {
			return &Secret{KeyID: p.KeyID, EndAt: p.EndDateTime}
		}
	}
	return nil
}

// readSecrets updates the recorded secret from what the application shows (its end date
// as registered; nil when it was removed out of band, so the next apply adds one) and finds
// the retiring one.
func (r *registrar) readSecrets(app *graph.Application) {
	if k := r.reg.Secret; k != nil {
		if e := secretEntry(app, k.KeyID); e != nil {
			r.reg.Secret = &Secret{KeyID: k.KeyID, Value: k.Value, EndAt: e.EndAt}
		} else {
			r.reg.Secret = nil
		}
	}
	r.reg.RetiringSecret = secretEntry(app, r.spec.RetiringSecretKeyID)
}

// ensureCertificate registers the configured public certificate as the provider's key
// credential, keeping keys registered by others (the PATCH replaces the list, §I10). A
// certificate already registered (same thumbprint) is not added again: of an adopted
// application it stays the application's own. The new key's id is chosen here and recorded
// before the PATCH, so a retry after a lost answer finds it instead of adding another.
func (r *registrar) ensureCertificate(ctx context.Context, app *graph.Application) error {
	var want *graph.KeyCredential
	if c := r.spec.Certificate; c != nil {
		start, end := c.NotBefore.UTC().Truncate(time.Second), c.NotAfter.UTC().Truncate(time.Second)
		want = &graph.KeyCredential{KeyID: uuid.NewString(), Type: "AsymmetricX509Cert", Usage: "Verify", Key: base64.StdEncoding.EncodeToString(c.DER),
			DisplayName: certificateName, CustomKeyIdentifier: c.KeyIdentifier(), StartDateTime: &start, EndDateTime: &end}
	}
	var keys []graph.KeyCredential
	found, changed := false, false
	for _, k := range app.KeyCredentials {
		if want != nil && !found && sameCertificate(k, r.spec.Certificate.DER) {
			found = true
			keys = append(keys, k)
			continue
		}
		if !r.ownsKey(k) {
			keys = append(keys, k)
			continue
		}
		changed = true // the provider's old certificate goes
	}
	if want != nil && !found {
		keys, changed = append(keys, *want), true
		if r.adopted() {
			r.noteAdded(&r.reg.Adoption.Keys, want.KeyID)
		}
	}
	if !changed {
		return nil
	}
	if err := r.graph().SetKeyCredentials(ctx, app.ID, keys); err != nil {
		return r.graphError(err, roles.ManageRegistrations, "register the certificate")
	}
	app.KeyCredentials = keys
	if want != nil && !found {
		return r.confirmAddedKey(ctx, app, r.spec.Certificate.DER)
	}
	return nil
}

// credentialExpiry is the earliest end of the credentials the provider manages.
func (r *registrar) credentialExpiry(app *graph.Application) {
	var earliest time.Time
	note := func(t time.Time) {
		if !t.IsZero() && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	for _, p := range app.PasswordCredentials {
		if r.reg.Secret != nil && strings.EqualFold(p.KeyID, r.reg.Secret.KeyID) {
			note(p.EndDateTime)
		}
	}
	if r.reg.Secret != nil {
		note(r.reg.Secret.EndAt) // a secret added by this run is not in app yet
	}
	for _, k := range app.KeyCredentials {
		if r.managesKey(k) && k.EndDateTime != nil {
			note(*k.EndDateTime)
		}
	}
	r.reg.CredentialExpiresAt = earliest
}
