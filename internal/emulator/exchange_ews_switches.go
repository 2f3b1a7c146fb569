package emulator

import (
	"strings"
	"time"
)

// The EWS switches as the admin API reads them: Get-OrganizationConfig
// (WIRE §K2) and Get-CASMailbox (§K3).

// ewsNullable renders an EwsEnabled-like switch: null when not configured.
func ewsNullable(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// getOrganizationConfig answers the organization's EWS switches (WIRE §K2).
// EwsAllowedAppIDs is only returned with -RetrieveEwsOperationAccessPolicy
// (⚠ emulator choice: a client that wants the list must ask for it), as a
// comma-separated string like Set-OrganizationConfig takes (⚠).
func (s *Server) getOrganizationConfig(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "RetrieveEwsOperationAccessPolicy"); err != nil {
		return nil, err
	}
	retrieve, err := p.flag("RetrieveEwsOperationAccessPolicy")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	if !t.mayReadRoleAssignments(c) {
		return nil, accessDenied(c, "Get-OrganizationConfig")
	}
	o := t.org
	obj := jsonObject{
		{"Name", s.seed.Domains[0]}, {"Identity", s.seed.Domains[0]}, {"DisplayName", s.seed.DisplayName},
		{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", s.seed.TenantID},
		{"EwsEnabled", ewsNullable(o.ewsEnabled)},
		{"EwsApplicationAccessPolicy", nil},
		{"EwsAllowList@odata.type", "#Collection(String)"}, {"EwsAllowList", nil},
		{"EwsBlockList@odata.type", "#Collection(String)"}, {"EwsBlockList", nil},
		{"EwsAllowOutlook", nil}, {"EwsAllowMacOutlook", nil}, {"EwsAllowEntourage", nil},
	}
	if retrieve != nil && *retrieve {
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
// mailbox; users without one are not CAS mailboxes.
func (s *Server) getCASMailbox(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	if err := p.check("Identity", "ResultSize"); err != nil {
		return nil, err
	}
	identity, err := p.text("Identity")
	if err != nil {
		return nil, err
	}
	t := s.tenant
	var targets []*user
	if identity != "" {
		u := t.recipient(identity)
		if u == nil || !u.mailbox {
			if !t.mayReadRecipients(c, nil) {
				return nil, accessDenied(c, "Get-CASMailbox")
			}
			return nil, notFound(identity)
		}
		targets = []*user{u}
	} else {
		for _, u := range t.users {
			if u.mailbox {
				targets = append(targets, u)
			}
		}
	}
	objects := []jsonObject{}
	for _, u := range targets {
		if !t.mayReadRecipients(c, u) {
			if identity != "" {
				return nil, accessDenied(c, "Get-CASMailbox")
			}
			continue
		}
		objects = append(objects, jsonObject{
			{"Name", u.alias}, {"Identity", u.alias}, {"PrimarySmtpAddress", t.mail(u)},
			{"Guid@data.type", "System.Guid"}, {"Guid@odata.type", "#Guid"}, {"Guid", uuidFor(t, "mailbox:"+u.oid)},
			{"EwsEnabled", ewsNullable(u.ewsEnabled)},
			{"EwsApplicationAccessPolicy", nil},
			{"EwsAllowList@odata.type", "#Collection(String)"}, {"EwsAllowList", nil},
			{"EwsBlockList@odata.type", "#Collection(String)"}, {"EwsBlockList", nil},
			{"EwsAllowOutlook", nil}, {"EwsAllowMacOutlook", nil}, {"EwsAllowEntourage", nil},
		})
	}
	return objects, nil
}
