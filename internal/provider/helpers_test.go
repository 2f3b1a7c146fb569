package provider

import (
	"encoding/json"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// diagPath returns the attribute path of a diagnostic, or "".
func diagPath(d diag.Diagnostic) string {
	if wp, ok := d.(diag.DiagnosticWithPath); ok {
		return wp.Path().String()
	}
	return ""
}

var nonEmpty = regexp.MustCompile(`\S`)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
