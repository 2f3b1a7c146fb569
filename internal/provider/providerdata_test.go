package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// A provider process gives each warning once: the EWS end date once whatever the number of
// resources over EWS, a problem of one application once for all its connections.
func TestWarnOnce(t *testing.T) {
	d := &providerData{}
	var diags diag.Diagnostics
	for range 3 {
		d.warnEWSEnd(&diags, "ews")
		d.warnEWSEnd(&diags, "graph")
		d.warnOnce(&diags, "app-a|missing", path.Root("missing_permissions"), "Application a lacks 1 permission", "")
	}
	d.warnOnce(&diags, "app-b|missing", path.Root("missing_permissions"), "Application b lacks 1 permission", "")
	if diags.WarningsCount() != 3 || !strings.Contains(diags[0].Summary(), "1 April 2027") {
		t.Fatalf("%d warnings: %v", diags.WarningsCount(), diags)
	}
}
