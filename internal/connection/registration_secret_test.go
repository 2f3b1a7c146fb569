package connection

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A renewal keeps the replaced secret while the caller names it retiring; the read reports
// both with their end dates as registered; the next run without it removes it.
func TestRegisterSecretRenewalKeepsRetiring(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, false)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	old := *reg.Secret
	keys := func() []string {
		app, _ := appOf(s, reg.ClientID)
		var out []string
		for _, p := range app.PasswordCredentials {
			out = append(out, strings.ToLower(p.KeyID))
		}
		return out
	}

	spec.Known, spec.RenewSecret, spec.RetiringSecretKeyID = *reg, true, old.KeyID
	renewed, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Secret == nil || renewed.Secret.KeyID == old.KeyID || renewed.Secret.Value == "" ||
		renewed.RetiringSecret == nil || !strings.EqualFold(renewed.RetiringSecret.KeyID, old.KeyID) || renewed.RetiringSecret.Value != "" {
		t.Fatalf("renewal: secret %v, retiring %v", renewed.Secret, renewed.RetiringSecret)
	}
	if k := keys(); len(k) != 2 {
		t.Fatalf("secrets in the tenant after the renewal: %v", k)
	}

	// The read reports the end dates as registered (one moved out of band).
	end := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if err := s.SetApplicationCredentialEnd(reg.ClientID, renewed.Secret.KeyID, end); err != nil {
		t.Fatal(err)
	}
	spec.Known, spec.RenewSecret = *renewed, false
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if read.Secret == nil || !read.Secret.EndAt.Equal(end) || read.RetiringSecret == nil || !read.RetiringSecret.EndAt.Equal(old.EndAt.UTC().Truncate(time.Second)) {
		t.Fatalf("read: secret %v (end %v, want %v), retiring %v", read.Secret, read.Secret.EndAt, end, read.RetiringSecret)
	}

	// The overlap is over: the next run removes the retiring secret and keeps the current one.
	spec.Known, spec.RetiringSecretKeyID = *renewed, ""
	done, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if k := keys(); len(k) != 1 || k[0] != strings.ToLower(renewed.Secret.KeyID) || done.RetiringSecret != nil || done.Secret.KeyID != renewed.Secret.KeyID {
		t.Fatalf("after the overlap: tenant %v, secret %v, retiring %v", k, done.Secret, done.RetiringSecret)
	}
}
