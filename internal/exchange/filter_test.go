package exchange

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRecipientFilterAccepts(t *testing.T) {
	for _, f := range []string{
		"CustomAttribute15 -eq 'migrate'",
		`Department -eq "Sales"`,
		"department -EQ 'Sales'",
		"(Department -like 'Sales*' -or Department -like 'Marketing*') -and (Company -eq 'Contoso' -or Company -eq 'Fabrikam')",
		"Department -eq 'Sales' -and CustomAttribute1 -ne 'x' -or Office -eq 'Paris'", // Exchange accepts mixing
		"-not (RecipientTypeDetails -eq 'SharedMailbox')",
		"Department -ne $null -and HiddenFromAddressListsEnabled -eq $false",
		"PrimarySmtpAddress -like '*@contoso.com'",
		"Title -eq 'Head of R&D' -and Office -eq 'O''Brien''s'",
		"ExtensionCustomAttribute1 -gt 5",
		"  ((Department -eq 'Sales'))  ",
	} {
		if err := CheckRecipientFilter(f); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
}

func TestCheckRecipientFilterRefuses(t *testing.T) {
	for _, tc := range []struct{ filter, problem, fix string }{
		{"Department -eq Sales", "the value Sales is not quoted (at position 16)", "write Department -eq 'Sales'"},
		{"CustomAttribute15 -eq migrate -and Department -eq 'Sales'", "the value migrate is not quoted", "write CustomAttribute15 -eq 'migrate'"},
		{"Department -equals 'Sales'", "unknown operator -equals (at position 12)", "one of -eq, -ne, -lt, -gt, -le, -ge, -like, -notlike"},
		{"Department -contains 'Sales'", "unknown operator -contains", "one of -eq"},
		{"Department eq 'Sales'", `"eq" is not an operator after Department`, "Department -eq 'value'"},
		{"Department = 'Sales'", `unexpected character "="`, "operators with a hyphen"},
		{"(Department -eq 'Sales'", "'(' is not closed (at position 1)", "a matching ')'"},
		{"Department -eq 'Sales')", "')' has no matching '('", ""},
		{"((Department -eq 'Sales') -or (Office -eq 'Paris')", "'(' is not closed", ""},
		{"Department -eq 'Sales", "the string is not closed (at position 16)", "write the closing '"},
		{"Department -eq", "Department -eq has no value", "write Department -eq 'value'"},
		{"Department", "Department has no operator", "write Department -eq 'value'"},
		{"Department -eq 'Sales' -and", "the filter ends where a condition is expected", ""},
		{"Department -eq 'Sales' Office -eq 'Paris'", `unexpected "Office" after a complete condition`, "joined with -and or -or"},
		{"Department -eq ‘Sales’", "typographic quote", "straight quotes"},
		{"Department -eq $sales", "$sales is not a value", ""},
		{"", "the filter is empty", ""},
		{"()", "')' where a condition is expected", ""},
	} {
		err := CheckRecipientFilter(tc.filter)
		var fe *FilterError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.problem) || !strings.Contains(err.Error(), tc.fix) {
			t.Errorf("%q: %v; want %q … %q", tc.filter, err, tc.problem, tc.fix)
		}
	}
}
