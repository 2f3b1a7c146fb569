package emulator

import (
	"strings"
	"time"
)

// The EWS switches as the admin API reads them: Get-OrganizationConfig
// (WIRE §K2) and Get-CASMailbox (§K3).

// ewsSwitchFields are the EWS properties of the organization's and a
// mailbox's configuration; EwsEnabled is null when not configured.
func ewsSwitchFields(enabled *bool) jsonObject {
	var v any
	if enabled != nil {
		v = *enabled
	}
	return jsonObject{
		{"EwsEnabled", v},
		{"EwsApplicationAccessPolicy", nil},
		{"EwsAllowList@odata.type", "#Collection(String)"}, {"EwsAllowList", nil},
		{"EwsBlockList@odata.type", "#Collection(String)"}, {"EwsBlockList", nil},
		{"EwsAllowOutlook", nil}, {"EwsAllowMacOutlook", nil}, {"EwsAllowEntourage", nil},
	}
}

// getOrganizationConfig answers the organization's EWS switches (WIRE §K2).
// EwsAllowedAppIDs is only returned with -RetrieveEwsOperationAccessPolicy
// (⚠ emulator choice: a client that wants the list must ask for it), as a
// comma-separated string like Set-OrganizationConfig takes (⚠).
func (s *Server) getOrganizationConfig(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	retrieve := in.on("RetrieveEwsOperationAccessPolicy")
	t := s.tenant
	if err := in.readableBy(t, c, "Get-OrganizationConfig"); err != nil {
		return nil, err
	}
	o := t.org
	obj := append(jsonObject{{"Name", s.seed.Domains[0]}, {"Identity", s.seed.Domains[0]}, {"DisplayName", s.seed.DisplayName}},
		guidFields(s.seed.TenantID)...)
	obj = append(obj, ewsSwitchFields(o.ewsEnabled)...)
	if retrieve {
		var ids any
		if o.allowedAppIDs != nil {
			ids = strings.Join(o.allowedAppIDs, ",")
		}
		obj = append(obj, jsonField{"EwsAllowedAppIDs", ids})
	}
	return []jsonObject{obj}, nil
}

// mayReadRecipients: Get-CASMailbox on others needs a recipient or admin
// role; anyone may read their own mailbox.
func (t *tenant) mayReadRecipients(c *caller, target *user) bool {
	if c.appOnly() {
		return c.hasTokenDirectoryRole(exchangeAppSessionRoles...)
	}
	return target == c.user || t.mayReadRoleAssignments(c) ||
		t.holdsExchangeRole(c.user, "View-Only Recipients", time.Time{}, 0) || t.holdsExchangeRole(c.user, "Mail Recipients", time.Time{}, 0)
}

// getCASMailbox answers a mailbox's EWS switch (WIRE §K3); EwsEnabled is null
// until configured, which means allowed. Without Identity it lists every
// mailbox the caller may read; users without one are not CAS mailboxes.
func (s *Server) getCASMailbox(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity := in.text("Identity")
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	var targets []*user
	if identity != "" {
		u := t.recipient(identity)
		if u != nil && !u.mailbox {
			u = nil
		}
		switch {
		case !t.mayReadRecipients(c, u):
			return nil, accessDenied(c, "Get-CASMailbox")
		case u == nil:
			return nil, notFound(identity)
		}
		targets = []*user{u}
	} else {
		for _, u := range t.users {
			if u.mailbox && t.mayReadRecipients(c, u) {
				targets = append(targets, u)
			}
		}
	}
	objects := []jsonObject{}
	for _, u := range targets {
		obj := append(jsonObject{{"Name", u.alias}, {"Identity", u.alias}, {"PrimarySmtpAddress", t.mail(u)}},
			guidFields(uuidFor(t, "mailbox:"+u.oid))...)
		objects = append(objects, append(obj, ewsSwitchFields(u.ewsEnabled)...))
	}
	return objects, nil
}
