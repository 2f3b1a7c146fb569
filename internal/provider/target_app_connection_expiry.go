package provider

import "github.com/o365-terraform/terraform-provider-o365/internal/connection"

// refreshOnlyWarns reports whether a refresh of o365_target_app_connection that failed with
// err only warns and keeps the state. A credential problem never blocks the plan that fixes
// it: an expired or rotated secret is replaced in the same plan (the new value, often
// unknown until o365_migration_application makes it, is verified at apply), and a wrong
// one is corrected in the configuration. Nor does one tenant's outage block the plan of
// the others.
func refreshOnlyWarns(err error) bool {
	ce, ok := connection.AsError(err)
	if !ok {
		return false
	}
	switch ce.Problem {
	case connection.ProblemCredentials, connection.ProblemAccountGone, connection.ProblemTenant, connection.ProblemServiceUnavailable:
		return true
	}
	return false
}
