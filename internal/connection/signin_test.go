package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
)

// fixedSource is a Source that always fails with err.
type fixedSource struct {
	subject identity.Subject
	err     error
}

func (f fixedSource) Token(context.Context, string) (identity.Token, error) {
	return identity.Token{}, f.err
}
func (f fixedSource) Subject() identity.Subject { return f.subject }

// Every AADSTS code the identity package recognises gets its own problem and reason, and a
// message that names the code and says what to do on Microsoft's side.
func TestSignInErrors(t *testing.T) {
	const clientID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
	for _, tc := range []struct {
		code    int
		cred    CredentialKind
		problem Problem
		reason  Reason
		words   []string
	}{
		{50076, Password, ProblemCredentials, ReasonMFARequired, []string{"multi-factor", "app password"}},
		{50076, AppPassword, ProblemCredentials, ReasonMFARequired, []string{"https://mysignins.microsoft.com"}},
		{50126, Password, ProblemCredentials, ReasonWrongSecret, []string{"refused"}},
		{50055, Password, ProblemCredentials, ReasonPasswordExpired, []string{"expired", "new one"}},
		{50057, Password, ProblemCredentials, ReasonDisabled, []string{"Enable it"}},
		{50053, Password, ProblemCredentials, ReasonLocked, []string{"locked"}},
		{53003, Password, ProblemCredentials, ReasonConditionalAccess, []string{"Conditional Access"}},
		{50034, Password, ProblemAccountGone, ReasonNone, []string{"no such user"}},
		{90002, Password, ProblemTenant, ReasonNone, []string{"No tenant"}},
		{7000218, Password, ProblemClient, ReasonPublicClientDisabled, []string{clientID, "public client flows"}},
		{65001, Password, ProblemClient, ReasonConsentRequired, []string{clientID, "adminconsent?client_id=" + clientID, "contoso.onmicrosoft.com"}},
		{12345, Password, ProblemOther, ReasonNone, nil},
	} {
		s := &session{who: User("admin@contoso.onmicrosoft.com", Credential{kind: tc.cred}), account: AssignerAccount,
			src: fixedSource{subject: identity.Subject{ClientID: clientID}}}
		err := signInError(s, &identity.AuthError{StatusCode: 400, Code: tc.code, Codes: []int{tc.code}, Description: "AADSTS: test"})
		ce, ok := AsError(err)
		if !ok || ce.Problem != tc.problem || ce.Reason != tc.reason || ce.Code != tc.code || ce.Account != AssignerAccount || ce.Credential != tc.cred {
			t.Errorf("AADSTS%d: %+v", tc.code, ce)
			continue
		}
		if !strings.Contains(ce.Error(), "AADSTS") {
			t.Errorf("AADSTS%d: message lacks the code: %v", tc.code, ce)
		}
		for _, w := range tc.words {
			if !strings.Contains(ce.Detail, w) {
				t.Errorf("AADSTS%d: detail %q lacks %q", tc.code, ce.Detail, w)
			}
		}
		for _, w := range terraformWords {
			if strings.Contains(ce.Error(), w) {
				t.Errorf("AADSTS%d: message speaks Terraform (%q): %v", tc.code, w, ce)
			}
		}
	}
	s := &session{who: User("a@b.c", Credential{kind: Password})}
	if ce, _ := AsError(signInError(s, errors.New("dial tcp: refused"))); ce == nil || ce.Problem != ProblemOther {
		t.Errorf("a failure before Microsoft answered: %+v", ce)
	}
}

func TestCredentialNeverPrintsItsSecret(t *testing.T) {
	c := PasswordCredential("s3cret-value")
	p := User("a@b.c", c)
	for _, s := range []string{c.String(), c.GoString(), strings.Join([]string{fmtV(c), fmtV(p), fmtSharpV(p)}, " ")} {
		if strings.Contains(s, "s3cret-value") {
			t.Fatalf("printed: %s", s)
		}
	}
}

func fmtV(v any) string      { return fmt.Sprintf("%v %+v %s", v, v, v) }
func fmtSharpV(v any) string { return fmt.Sprintf("%#v", v) }
