package roles

import (
	"reflect"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	base := []string{"ApplicationImpersonation", "Mail Recipient Creation", "Mail Recipients", "View-Only Configuration", "View-Only Recipients"}
	tests := []struct {
		name string
		t    Toggles
		want []string
	}{
		{"defaults", Toggles{}, base},
		{"public folders", Toggles{PublicFolders: true}, append(append([]string{}, base...), "Public Folders")},
		{"user management", Toggles{UserManagement: true}, append(append([]string{}, base...), "User Administrator")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Names(Required(tt.t))
			want := Names(roleList(tt.want))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Required(%+v) = %v, want %v", tt.t, got, want)
			}
		})
	}
}

func roleList(names []string) []Role {
	var out []Role
	for _, n := range names {
		r, ok := Lookup(n)
		if !ok {
			panic(n)
		}
		out = append(out, r)
	}
	return out
}

func TestCatalogueComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[strings.ToLower(r.Name)] {
			t.Errorf("duplicate role %q", r.Name)
		}
		seen[strings.ToLower(r.Name)] = true
		if r.Purpose == "" {
			t.Errorf("%s has no purpose", r.Name)
		}
		if (r.Kind == DirectoryRole) != (r.DirectoryRoleTemplateID != "") {
			t.Errorf("%s: template id only for directory roles", r.Name)
		}
		cmd := r.GrantCommand("admin@contoso.onmicrosoft.com")
		if !strings.Contains(cmd, "admin@contoso.onmicrosoft.com") {
			t.Errorf("%s: grant command %q does not name the user", r.Name, cmd)
		}
	}
}

func TestGrantCommand(t *testing.T) {
	r, _ := Lookup("mail recipients")
	if got, want := r.GrantCommand("a@b.onmicrosoft.com"), `New-ManagementRoleAssignment -Role 'Mail Recipients' -User 'a@b.onmicrosoft.com'`; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	u, _ := Lookup("User Administrator")
	if got := u.GrantCommand(""); !strings.Contains(got, UserAdministratorTemplateID) || !strings.Contains(got, "<admin_email>") {
		t.Errorf("directory grant command %q", got)
	}
}

func TestAllIsACopy(t *testing.T) {
	a := All()
	a[0].Name = "changed"
	if All()[0].Name == "changed" {
		t.Fatal("All exposes the catalogue")
	}
}
