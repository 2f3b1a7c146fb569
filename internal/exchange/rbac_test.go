package exchange

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Bags of WIRE.md §J2, §J3, §J5.
const (
	spAppID    = "5951643e-5013-442f-963c-1ee875bbe74a"
	spObjectID = "9672ee63-6e28-4ced-885e-fb595158a843"
	objSP      = `{"Identity":"` + spObjectID + `","Name":"` + spObjectID + `","DisplayName":"tf-o365 migration target","AppId":"` + spAppID + `","ObjectId":"` + spObjectID + `"}`
	objOtherSP = `{"Identity":"11111111-0000-4000-8000-000000000000","Name":"x","DisplayName":"other","AppId":"22222222-0000-4000-8000-000000000000","ObjectId":"11111111-0000-4000-8000-000000000000"}`
	objScope   = `{"Name":"tf-o365 target mailboxes","Identity":"tf-o365 target mailboxes","ScopeRestrictionType":"RecipientScope","Exclusive":false,"RecipientRoot":null,"RecipientFilter":"CustomAttribute15 -eq 'migrate'"}`
	objAppRA   = `{"Name":"tf-o365 Application Mail.ReadWrite","Identity":"tf-o365 Application Mail.ReadWrite","Role":"Application Mail.ReadWrite",
 "RoleAssignee":"` + spObjectID + `","RoleAssigneeName":"` + spObjectID + `","RoleAssigneeType":"ServicePrincipal","AssignmentMethod":"Direct",
 "RoleAssignmentDelegationType":"Regular","Enabled":true,"RecipientWriteScope":"CustomRecipientScope","CustomResourceScope":"tf-o365 target mailboxes"}`
)

// Get-ServicePrincipal returns every pointer for an unknown identity (§J2): the client
// must not take another application's pointer for this one's.
func TestGetServicePrincipalFiltersByAppID(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet != "Get-ServicePrincipal" || cl.Params["Identity"] != spAppID {
			t.Errorf("%s %v", cl.Cmdlet, cl.Params)
		}
		fmt.Fprint(w, wireEnvelope("", objOtherSP))
	})
	sp, err := c.GetServicePrincipal(context.Background(), spAppID)
	if err != nil || sp != nil {
		t.Fatalf("sp=%+v err=%v", sp, err)
	}
}

func TestNewServicePrincipalSendsObjectIDAndRecoversLostAnswer(t *testing.T) {
	var mu sync.Mutex
	var cmdlets []string
	created := false
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		mu.Lock()
		defer mu.Unlock()
		cmdlets = append(cmdlets, cl.Cmdlet)
		switch cl.Cmdlet {
		case "New-ServicePrincipal":
			if cl.Params["AppId"] != spAppID || cl.Params["ObjectId"] != spObjectID || cl.Params["ServiceId"] != nil {
				t.Errorf("params = %v", cl.Params)
			}
			created = true
			w.WriteHeader(504)
		case "Get-ServicePrincipal":
			if created {
				fmt.Fprint(w, wireEnvelope("", objOtherSP, objSP))
			} else {
				fmt.Fprint(w, wireEnvelope(""))
			}
		}
	})
	sp, err := c.NewServicePrincipal(context.Background(), spAppID, spObjectID, "tf-o365 migration target")
	if err != nil {
		t.Fatal(err)
	}
	if sp.ObjectID != spObjectID || fmt.Sprint(cmdlets) != "[New-ServicePrincipal Get-ServicePrincipal]" {
		t.Fatalf("sp=%+v cmdlets=%v", sp, cmdlets)
	}
}

func TestNewServicePrincipalExistingIsReturned(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet == "New-ServicePrincipal" {
			w.WriteHeader(400)
			fmt.Fprint(w, errExists)
			return
		}
		fmt.Fprint(w, wireEnvelope("", objSP))
	})
	sp, err := c.NewServicePrincipal(context.Background(), spAppID, spObjectID, "")
	if err != nil || sp.AppID != spAppID {
		t.Fatalf("sp=%+v err=%v", sp, err)
	}
}

func TestRemoveServicePrincipalAndScopeGoneIsDone(t *testing.T) {
	var cmdlets []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		cmdlets = append(cmdlets, cl.Cmdlet)
		if cl.Params["Confirm"] != false {
			t.Errorf("params = %v", cl.Params)
		}
		w.WriteHeader(404)
		fmt.Fprint(w, errNotFound)
	})
	if err := c.RemoveServicePrincipal(context.Background(), spObjectID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveManagementScope(context.Background(), "tf-o365 target mailboxes"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cmdlets) != "[Remove-ServicePrincipal Remove-ManagementScope]" {
		t.Fatal(cmdlets)
	}
}

// The lost answer of New-ManagementScope: the scope is found by its name, not made twice.
func TestNewManagementScopeLostAnswer(t *testing.T) {
	var mu sync.Mutex
	news := 0
	created := false
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		mu.Lock()
		defer mu.Unlock()
		switch cl.Cmdlet {
		case "New-ManagementScope":
			news++
			if cl.Params["Name"] != "tf-o365 target mailboxes" || cl.Params["RecipientRestrictionFilter"] != "CustomAttribute15 -eq 'migrate'" {
				t.Errorf("params = %v", cl.Params)
			}
			created = true
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
		case "Get-ManagementScope":
			if !created {
				w.WriteHeader(404)
				fmt.Fprint(w, errNotFound)
				return
			}
			fmt.Fprint(w, wireEnvelope("", objScope))
		}
	})
	sc, err := c.NewManagementScope(context.Background(), "tf-o365 target mailboxes", "CustomAttribute15 -eq 'migrate'")
	if err != nil {
		t.Fatal(err)
	}
	if news != 1 || sc.RecipientFilter != "CustomAttribute15 -eq 'migrate'" {
		t.Fatalf("news=%d sc=%+v", news, sc)
	}
}

func TestGetManagementScopeNotFoundIsNil(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		w.WriteHeader(404)
		fmt.Fprint(w, errNotFound)
	})
	sc, err := c.GetManagementScope(context.Background(), "nope")
	if err != nil || sc != nil {
		t.Fatalf("sc=%+v err=%v", sc, err)
	}
}

func TestNewAppRoleAssignmentScopedAndLost(t *testing.T) {
	var mu sync.Mutex
	var cmdlets []string
	created := false
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		mu.Lock()
		defer mu.Unlock()
		cmdlets = append(cmdlets, cl.Cmdlet)
		switch cl.Cmdlet {
		case "New-ManagementRoleAssignment":
			if cl.Params["App"] != spObjectID || cl.Params["Role"] != "Application Mail.ReadWrite" ||
				cl.Params["CustomResourceScope"] != "tf-o365 target mailboxes" || cl.Params["User"] != nil {
				t.Errorf("params = %v", cl.Params)
			}
			created = true
			w.WriteHeader(502)
		case "Get-ManagementRoleAssignment":
			if !created {
				w.WriteHeader(404)
				fmt.Fprint(w, errNotFound)
				return
			}
			fmt.Fprint(w, wireEnvelope("", objAppRA))
		}
	})
	a, err := c.NewAppRoleAssignment(context.Background(), "Application Mail.ReadWrite", spObjectID, "tf-o365 target mailboxes", "tf-o365 Application Mail.ReadWrite")
	if err != nil {
		t.Fatal(err)
	}
	if a.CustomResourceScope != "tf-o365 target mailboxes" || a.Role != "Application Mail.ReadWrite" ||
		fmt.Sprint(cmdlets) != "[New-ManagementRoleAssignment Get-ManagementRoleAssignment]" {
		t.Fatalf("a=%+v cmdlets=%v", a, cmdlets)
	}
}

func TestGetAppRoleAssignmentsKeepsOnlyTheServicePrincipals(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Params["RoleAssignee"] != spObjectID || cl.Params["RoleAssigneeType"] != nil {
			t.Errorf("params = %v", cl.Params)
		}
		fmt.Fprint(w, wireEnvelope("", objAssignment, objAppRA, strings.ReplaceAll(objAppRA, spObjectID, "11111111-0000-4000-8000-000000000000")))
	})
	as, err := c.GetAppRoleAssignments(context.Background(), spObjectID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Name != "tf-o365 Application Mail.ReadWrite" || as[0].CustomResourceScope != "tf-o365 target mailboxes" {
		t.Fatalf("as = %+v", as)
	}
}
