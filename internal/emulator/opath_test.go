package emulator

import (
	"strings"
	"testing"
)

func TestOPATHSubset(t *testing.T) {
	alice := map[string]string{"CustomAttribute15": "migrate", "Department": "Sales", "PrimarySmtpAddress": "alice@contoso.com", "RecipientType": "UserMailbox"}
	bob := map[string]string{"CustomAttribute1": "x", "Department": "Sales Ops", "PrimarySmtpAddress": "bob@fabrikam.com", "RecipientType": "User"}
	for _, tc := range []struct {
		filter     string
		alice, bob bool
	}{
		{"CustomAttribute15 -eq 'migrate'", true, false},
		{"customattribute15 -EQ 'MIGRATE'", true, false},
		{`Department -eq "Sales"`, true, false},
		{"Department -ne 'Sales'", false, true},
		{"Department -like 'Sales*'", true, true},
		{"PrimarySmtpAddress -like '*@contoso.com'", true, false},
		{"PrimarySmtpAddress -notlike '*@contoso.com'", false, true},
		{"Department -like '*al*'", true, true},
		{"RecipientType -eq 'UserMailbox' -and Department -eq 'Sales'", true, false},
		{"CustomAttribute15 -eq 'migrate' -or CustomAttribute1 -eq 'x'", true, true},
		{"(Department -eq 'Sales' -or Department -eq 'Sales Ops') -and RecipientType -eq 'User'", false, true},
		{"-not (CustomAttribute15 -eq 'migrate')", false, true},
		{"CustomAttribute2 -eq ''", true, true},
		{"Department -eq 'O''Brien'", false, false},
	} {
		expr, err := parseOPATH(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := expr.matches(alice); got != tc.alice {
			t.Errorf("%s on alice = %v", tc.filter, got)
		}
		if got := expr.matches(bob); got != tc.bob {
			t.Errorf("%s on bob = %v", tc.filter, got)
		}
	}
	for filter, want := range map[string]string{
		"":                                       "empty",
		"Title -eq 'x'":                          "not a recognized filterable property",
		"Department 'x'":                         "comparison operator",
		"Department -gt 'x'":                     "comparison operator",
		"Department -eq x":                       "quoted value",
		"Department -eq 'x":                      "unterminated",
		"(Department -eq 'x'":                    "missing ')'",
		"Department -eq 'x' -and":                "ends where a condition",
		"A -eq 'x' -and B -eq 'y' -or C -eq 'z'": "not a recognized",
		"Department -eq 'a' -and Department -eq 'b' -or Department -eq 'c'": "group them with parentheses",
		"Department -eq 'a' Department -eq 'b'":                             "unexpected",
		"Department -eq 'a' | x":                                            "unexpected character",
	} {
		if _, err := parseOPATH(filter); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", filter, err, want)
		}
	}
}
