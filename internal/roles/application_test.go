package roles

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestGrants(t *testing.T) {
	tests := []struct {
		name string
		o    AppOptions
		want []string
	}{
		{"graph", AppOptions{Protocol: ProtocolGraph}, []string{
			"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"default protocol is graph", AppOptions{}, []string{
			"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"graph scoped: mailbox data only in Exchange", AppOptions{Protocol: ProtocolGraph, Scoped: true}, []string{
			"Exchange/Application Calendars.ReadWrite", "Exchange/Application Contacts.ReadWrite", "Exchange/Application Mail.ReadWrite",
			"Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"graph with user management", AppOptions{Protocol: ProtocolGraph, UserManagement: true}, []string{
			"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All", "Microsoft Graph/User.ReadWrite.All"}},
		{"ews", AppOptions{Protocol: ProtocolEWS, PublicFolders: true}, []string{
			"Microsoft Graph/User.Read.All", "Office 365 Exchange Online/full_access_as_app"}},
		{"ews scoped", AppOptions{Protocol: ProtocolEWS, Scoped: true}, []string{
			"Exchange/Application EWS.AccessAsApp", "Microsoft Graph/User.Read.All"}},
		{"graph_import: the import API's permissions, no Mail.ReadWrite family", AppOptions{Protocol: ProtocolGraphImport}, []string{
			"Microsoft Graph/MailboxFolder.ReadWrite.All", "Microsoft Graph/MailboxItem.ImportExport.All",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"graph_import reading target items", AppOptions{Protocol: ProtocolGraphImport, ReadItems: true}, []string{
			"Microsoft Graph/MailboxFolder.ReadWrite.All", "Microsoft Graph/MailboxItem.ImportExport.All", "Microsoft Graph/MailboxItem.Read.All",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"graph_import scoped: every mailbox permission an Exchange role, User.Read.All in Entra", AppOptions{Protocol: ProtocolGraphImport, Scoped: true, ReadItems: true}, []string{
			"Exchange/Application MailboxFolder.ReadWrite", "Exchange/Application MailboxItem.ImportExport", "Exchange/Application MailboxItem.Read",
			"Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"read_target_items is graph_import's only", AppOptions{Protocol: ProtocolGraph, ReadItems: true}, []string{
			"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GrantStrings(Grants(tt.o)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Grants(%+v) = %v, want %v", tt.o, got, tt.want)
			}
		})
	}
}

func TestPermissionIDsMatchWire(t *testing.T) {
	// WIRE.md §I8: the expected ids; a typo here would only show as a warning at run time,
	// so pin them.
	want := map[string]string{
		"Microsoft Graph/Mail.ReadWrite":                "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
		"Microsoft Graph/Calendars.ReadWrite":           "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
		"Microsoft Graph/Contacts.ReadWrite":            "6918b873-d17a-4dc1-b314-35f528134491",
		"Microsoft Graph/MailboxSettings.ReadWrite":     "6931bccd-447a-43d1-b442-00a195474933",
		"Microsoft Graph/User.Read.All":                 "df021288-bdef-4463-88db-98f22de89214",
		"Microsoft Graph/User.ReadWrite.All":            "741f803b-c850-494e-b5df-cde7c675a1ca",
		"Office 365 Exchange Online/full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
		// WIRE.md §M3.1.
		"Microsoft Graph/MailboxFolder.ReadWrite.All":  "fef87b92-8391-4589-9da7-eb93dab7dc8a",
		"Microsoft Graph/MailboxItem.ImportExport.All": "76577085-e73d-4f1d-b26a-85fb33892327",
		"Microsoft Graph/MailboxItem.Read.All":         "7d9f353d-a7bd-4fbb-822a-26d5dd39a3ce",
	}
	seen := map[string]bool{}
	for _, o := range []AppOptions{{Protocol: ProtocolGraph, UserManagement: true}, {Protocol: ProtocolEWS}, {Protocol: ProtocolGraphImport, ReadItems: true}} {
		for _, g := range Grants(o) {
			id, ok := want[g.String()]
			if !ok {
				continue
			}
			seen[g.String()] = true
			if g.Permission.ExpectedID != id {
				t.Errorf("%s: id %s, WIRE §I8 says %s", g, g.Permission.ExpectedID, id)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("checked %d of %d permissions", len(seen), len(want))
	}
}

func TestMissing(t *testing.T) {
	graph := MicrosoftGraph.AppID
	exo := ExchangeOnline.AppID
	tests := []struct {
		name             string
		o                AppOptions
		h                Held
		granted, missing []string
	}{
		{"nothing held", AppOptions{Protocol: ProtocolGraph}, Held{}, nil, []string{
			"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
			"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}},
		{"consent revoked for mail", AppOptions{Protocol: ProtocolGraph},
			Held{AppRoles: map[string][]string{graph: {"Calendars.ReadWrite", "contacts.readwrite", "MailboxSettings.ReadWrite", "User.Read.All"}}},
			[]string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"},
			[]string{"Microsoft Graph/Mail.ReadWrite"}},
		{"a role of the wrong resource does not count", AppOptions{Protocol: ProtocolGraph},
			Held{AppRoles: map[string][]string{exo: {"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite"}, graph: {"User.Read.All"}}},
			[]string{"Microsoft Graph/User.Read.All"},
			[]string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite", "Microsoft Graph/MailboxSettings.ReadWrite"}},
		{"scoped: Exchange Full Access covers every mailbox need", AppOptions{Protocol: ProtocolGraph, Scoped: true},
			Held{AppRoles: map[string][]string{graph: {"User.Read.All"}}, ExchangeRoles: []string{"Application Exchange Full Access"}},
			[]string{"Exchange/Application Exchange Full Access", "Exchange/Application Exchange Full Access", "Exchange/Application Exchange Full Access", "Exchange/Application Exchange Full Access", "Microsoft Graph/User.Read.All"},
			nil},
		{"scoped role removed is named as the Exchange role", AppOptions{Protocol: ProtocolGraph, Scoped: true},
			Held{AppRoles: map[string][]string{graph: {"User.Read.All"}}, ExchangeRoles: []string{"Application Calendars.ReadWrite", "Application Contacts.ReadWrite", "Application MailboxSettings.ReadWrite"}},
			[]string{"Exchange/Application Calendars.ReadWrite", "Exchange/Application Contacts.ReadWrite", "Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"},
			[]string{"Exchange/Application Mail.ReadWrite"}},
		{"ews by Exchange role", AppOptions{Protocol: ProtocolEWS},
			Held{AppRoles: map[string][]string{graph: {"User.Read.All"}}, ExchangeRoles: []string{"Application EWS.AccessAsApp"}},
			[]string{"Exchange/Application EWS.AccessAsApp", "Microsoft Graph/User.Read.All"}, nil},
		{"graph_import: Mail.ReadWrite does not open the import API", AppOptions{Protocol: ProtocolGraphImport},
			Held{AppRoles: map[string][]string{graph: {"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "User.Read.All"}}},
			[]string{"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"},
			[]string{"Microsoft Graph/MailboxFolder.ReadWrite.All", "Microsoft Graph/MailboxItem.ImportExport.All"}},
		{"graph_import scoped: the import role removed", AppOptions{Protocol: ProtocolGraphImport, Scoped: true},
			Held{AppRoles: map[string][]string{graph: {"User.Read.All"}}, ExchangeRoles: []string{"Application MailboxFolder.ReadWrite", "Application MailboxSettings.ReadWrite", "Application MailboxItem.Export"}},
			[]string{"Exchange/Application MailboxFolder.ReadWrite", "Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"},
			[]string{"Exchange/Application MailboxItem.ImportExport"}},
		{"read-only role does not cover write", AppOptions{Protocol: ProtocolGraph, Scoped: true},
			Held{AppRoles: map[string][]string{graph: {"User.Read.All"}}, ExchangeRoles: []string{"Application Mail.Read", "Application Calendars.ReadWrite", "Application Contacts.ReadWrite", "Application MailboxSettings.ReadWrite"}},
			[]string{"Exchange/Application Calendars.ReadWrite", "Exchange/Application Contacts.ReadWrite", "Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"},
			[]string{"Exchange/Application Mail.ReadWrite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, m := Missing(tt.o, tt.h)
			if !reflect.DeepEqual(g, tt.granted) || !reflect.DeepEqual(m, tt.missing) {
				t.Fatalf("Missing = %v / %v, want %v / %v", g, m, tt.granted, tt.missing)
			}
		})
	}
}

func TestLookupGrant(t *testing.T) {
	n, ok := LookupGrant("exchange/application mail.readwrite")
	if !ok || n.Entra.Value != "Mail.ReadWrite" {
		t.Fatalf("LookupGrant = %+v, %v", n, ok)
	}
	if _, ok := LookupGrant("Microsoft Graph/Mail.Send"); ok {
		t.Fatal("Mail.Send is not something a migration target needs")
	}
}

func TestApplicationGrantCommand(t *testing.T) {
	gs := Grants(AppOptions{Protocol: ProtocolGraph, Scoped: true})
	var exo, entra string
	for _, g := range gs {
		switch g.Kind {
		case ExchangeApplicationRole:
			exo = g.GrantCommand("5951643e-5013-442f-963c-1ee875bbe74a", "tf-o365 target mailboxes")
		case ApplicationPermission:
			entra = g.GrantCommand("", "")
		}
	}
	for _, want := range []string{"New-ManagementRoleAssignment", "-App (Get-ServicePrincipal -Identity '5951643e-5013-442f-963c-1ee875bbe74a').ObjectId", "-CustomResourceScope 'tf-o365 target mailboxes'"} {
		if !strings.Contains(exo, want) {
			t.Errorf("Exchange grant command %q lacks %q", exo, want)
		}
	}
	for _, want := range []string{"appId eq '<client_id>'", "appId eq '00000003-0000-0000-c000-000000000000'", "New-MgServicePrincipalAppRoleAssignedTo", "Where-Object Value -eq 'User.Read.All'"} {
		if !strings.Contains(entra, want) {
			t.Errorf("Entra grant command %q lacks %q", entra, want)
		}
	}
}

func TestManagementFix(t *testing.T) {
	got := ManageConsent.Fix()
	for _, want := range []string{"Microsoft Graph/AppRoleAssignment.ReadWrite.All", "Microsoft Graph/Application.Read.All", "Privileged Role Administrator"} {
		if !strings.Contains(got, want) {
			t.Errorf("Fix() = %q lacks %q", got, want)
		}
	}
	if got := ManageRegistrations.Fix(); strings.Contains(got, "directory role") || !strings.Contains(got, "Application.ReadWrite.All") {
		t.Errorf("ManageRegistrations.Fix() = %q", got)
	}
}

// The accessors the connection logic and the provider read instead of spelling names: each
// is the catalogue's own entry, whatever the order of the lists.
func TestCatalogueAccessors(t *testing.T) {
	if r := Impersonation(); r.Name != "ApplicationImpersonation" || r.Kind != ExchangeManagementRole || r.OptionalToggle != "" {
		t.Fatalf("Impersonation() = %+v", r)
	}
	if r := ByToggle(TogglePublicFolders); r.Name != "Public Folders" {
		t.Fatalf("ByToggle(public folders) = %+v", r)
	}
	if r := ByToggle(ToggleUserManagement); r.Name != "User Administrator" || r.Kind != DirectoryRole {
		t.Fatalf("ByToggle(user management) = %+v", r)
	}
	if r := ByToggle(""); r.Name != "" {
		t.Fatalf("ByToggle(\"\") = %+v, want none", r)
	}
	for p, want := range map[Protocol][2]string{
		ProtocolGraph:       {"Microsoft Graph/Mail.ReadWrite", "Exchange/Application Mail.ReadWrite"},
		ProtocolEWS:         {"Office 365 Exchange Online/full_access_as_app", "Exchange/Application EWS.AccessAsApp"},
		ProtocolGraphImport: {"Microsoft Graph/MailboxItem.ImportExport.All", "Exchange/Application MailboxItem.ImportExport"},
	} {
		n := MailboxNeed(p)
		if n.Entra.String() != want[0] || n.Exchange == nil || n.Exchange.String() != want[1] {
			t.Fatalf("MailboxNeed(%s) = %+v", p, n)
		}
		if _, ok := LookupGrant(want[0]); !ok {
			t.Fatalf("MailboxNeed(%s) is not in the catalogue", p)
		}
	}
	if n := UserManagementNeed(); n.Entra.String() != "Microsoft Graph/User.ReadWrite.All" || n.Toggle != AppToggleUserManagement {
		t.Fatalf("UserManagementNeed() = %+v", n)
	}
	if p := ManageAsApp(); p.String() != "Office 365 Exchange Online/Exchange.ManageAsApp" {
		t.Fatalf("ManageAsApp() = %v", p)
	}
	var dir []string
	for _, n := range DirectoryNeeds() {
		dir = append(dir, n.Entra.Value)
	}
	if strings.Join(dir, ",") != "User.Read.All,User.ReadWrite.All" {
		t.Fatalf("DirectoryNeeds() = %v", dir)
	}
	mail := MailboxNeed(ProtocolGraph)
	for role, want := range map[string]bool{"Application Mail.ReadWrite": true, "Application Mail Full Access": true, "Application Exchange Full Access": true,
		"Application Contacts.ReadWrite": false, "Application Mail.Read": false, "no such role": false} {
		if got := mail.CoveredBy(role); got != want {
			t.Errorf("mail need covered by %q: %v, want %v", role, got, want)
		}
	}
}

func TestGraphImportAccessors(t *testing.T) {
	if n := ImportFoldersNeed(); n.Entra.String() != "Microsoft Graph/MailboxFolder.ReadWrite.All" || n.Exchange.Name != "Application MailboxFolder.ReadWrite" {
		t.Fatalf("ImportFoldersNeed() = %+v", n)
	}
	if n := ResolveUsersNeed(); n.Entra.String() != "Microsoft Graph/User.Read.All" || n.Exchange != nil {
		t.Fatalf("ResolveUsersNeed() = %+v: a directory read stays an Entra grant", n)
	}
	if n := ReadItemsNeed(); n.Entra.Value != "MailboxItem.Read.All" || n.Exchange.Name != "Application MailboxItem.Read" || n.Toggle != AppToggleReadItems {
		t.Fatalf("ReadItemsNeed() = %+v", n)
	}
	// The Mailbox* roles drop the permission's ".All" (WIRE.md §M4).
	for role, perm := range map[string]string{
		"Application MailboxFolder.Read": "MailboxFolder.Read.All", "Application MailboxItem.ReadWrite": "MailboxItem.ReadWrite.All",
		"Application MailboxItem.Export": "MailboxItem.Export.All", "Application MailboxItem.ImportExport": "MailboxItem.ImportExport.All",
	} {
		r, ok := LookupExchangeRole(role)
		if !ok || len(r.Grants) != 1 || r.Grants[0] != perm {
			t.Errorf("LookupExchangeRole(%q) = %+v, %v", role, r, ok)
		}
	}
	if MailboxNeed(ProtocolGraphImport).CoveredBy("Application MailboxItem.Export") {
		t.Error("export alone does not import")
	}
	for in, want := range map[string]Protocol{"GRAPH_IMPORT": ProtocolGraphImport, "ews": ProtocolEWS, "": ProtocolGraph, "graph": ProtocolGraph} {
		if got := ProtocolOrDefault(in); got != want {
			t.Errorf("ProtocolOrDefault(%q) = %s, want %s", in, got, want)
		}
	}
}

// Every mailbox permission with a scoped Exchange counterpart is a bypass when consented;
// directory permissions and the admin permission are not; other APIs' values do not count.
func TestScopeBypasses(t *testing.T) {
	h := Held{AppRoles: map[string][]string{
		MicrosoftGraph.AppID: {"User.Read.All", "mail.readwrite", "MailboxItem.ImportExport.All", "User.ReadWrite.All", "MailboxSettings.ReadWrite"},
		ExchangeOnline.AppID: {"Exchange.ManageAsApp", "full_access_as_app", "Mail.ReadWrite"},
	}, ExchangeRoles: []string{"Application Mail.ReadWrite"}}
	var got []string
	for _, p := range ScopeBypasses(h) {
		got = append(got, p.String())
	}
	want := "Microsoft Graph/Mail.ReadWrite|Microsoft Graph/MailboxItem.ImportExport.All|Microsoft Graph/MailboxSettings.ReadWrite|Office 365 Exchange Online/full_access_as_app"
	if strings.Join(got, "|") != want {
		t.Fatalf("ScopeBypasses = %v, want %s", got, want)
	}
	if b := ScopeBypasses(Held{AppRoles: map[string][]string{MicrosoftGraph.AppID: {"User.Read.All"}}}); len(b) != 0 {
		t.Fatalf("directory permission counted: %v", b)
	}
	cmd := permMailReadWrite.RevokeCommand("app-1")
	for _, part := range []string{"appId eq 'app-1'", "appId eq '" + MicrosoftGraph.AppID + "'", "Value -eq 'Mail.ReadWrite'", "Remove-MgServicePrincipalAppRoleAssignment"} {
		if !strings.Contains(cmd, part) {
			t.Errorf("RevokeCommand lacks %q: %s", part, cmd)
		}
	}
}

// A need held both ways is named by the grant the options call for: the scoped role when
// scoped (the tenant-wide consent beside it is a ScopeBypass), the consent otherwise.
func TestMissingNamesTheGrantTheOptionsCallFor(t *testing.T) {
	h := Held{AppRoles: map[string][]string{MicrosoftGraph.AppID: {"Mail.ReadWrite"}}, ExchangeRoles: []string{"Application Mail.ReadWrite"}}
	scoped, _ := Missing(AppOptions{Protocol: ProtocolGraph, Scoped: true}, h)
	open, _ := Missing(AppOptions{Protocol: ProtocolGraph}, h)
	if !slices.Contains(scoped, "Exchange/Application Mail.ReadWrite") || slices.Contains(scoped, "Microsoft Graph/Mail.ReadWrite") {
		t.Errorf("scoped granted = %v", scoped)
	}
	if !slices.Contains(open, "Microsoft Graph/Mail.ReadWrite") || slices.Contains(open, "Exchange/Application Mail.ReadWrite") {
		t.Errorf("unscoped granted = %v", open)
	}
}
