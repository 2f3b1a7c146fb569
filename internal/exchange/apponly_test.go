package exchange

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Bodies of WIRE.md §J1, §J6, §K1–K3.
const (
	initialDomain = "contoso.onmicrosoft.com"
	spID          = "9672ee63-6e28-4ced-885e-fb595158a843"
	errNotAllowed = `{"error":{"code":"Unauthorized","message":"User is not allowed to call Get-OrganizationConfig",
  "innererror":{"message":"User is not allowed to call Get-OrganizationConfig","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}`
	objOrgConfig = `{"EwsEnabled@odata.type":"#Boolean","EwsEnabled":true,"EwsAllowedAppIDs":"5951643e-5013-442f-963c-1ee875bbe74a, 11111111-2222-3333-4444-555555555555",
 "EwsApplicationAccessPolicy":"EnforceAllowList","EwsAllowList@odata.type":"#Collection(String)","EwsAllowList":["MigrationTool*"],"EwsBlockList":null}`
	objOrgConfigNull = `{"EwsEnabled":null,"EwsAllowedAppIDs":null,"EwsApplicationAccessPolicy":null,"EwsAllowList":null,"EwsBlockList":null}`
	objCASMailbox    = `{"EwsEnabled":false,"EwsApplicationAccessPolicy":null,"EwsAllowList":null,"EwsBlockList":null}`
	objAuthInScope   = `{"RoleName":"Application Mail.ReadWrite","GrantedPermissions":"Mail.ReadWrite","AllowedResourceScope":"tf-o365 target mailboxes","ScopeType":"CustomRecipientScope","InScope":true}`
	objAuthOutScope  = `{"RoleName":"Application EWS.AccessAsApp","GrantedPermissions":"EWS.AccessAsApp","AllowedResourceScope":"Sales","ScopeType":"AdministrativeUnit","InScope":"False"}`
	objRole          = `{"Name":"Application EWS.AccessAsApp","RoleType":"ApplicationEWSAccessAsApp","Guid":"6b2f2a7e-0000-4000-8000-000000000001"}`
	errRoleGone      = `{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","target":"",
    "message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'ApplicationImpersonation' couldn't be found on 'AM0PR01A002DC001.EURPR01A002.PROD.OUTLOOK.COM'."}]}}`
)

// An app-only session is anchored at the organisation's system mailbox (§J1).
func setupApp(t *testing.T, h func(w http.ResponseWriter, r *http.Request, c call)) *Client {
	t.Helper()
	c, _ := setupAs(t, AppAnchor(initialDomain), h)
	return c
}

func TestAppAnchor(t *testing.T) {
	if got := AppAnchor(initialDomain); got != "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com" {
		t.Fatalf("AppAnchor = %s", got)
	}
}

func TestGetOrganizationConfig(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{objOrgConfig, "enabled=true apps=[5951643e-5013-442f-963c-1ee875bbe74a 11111111-2222-3333-4444-555555555555] policy=EnforceAllowList allow=[MigrationTool*] block=[]"},
		{objOrgConfigNull, "enabled=<nil> apps=[] policy= allow=[] block=[]"},
	} {
		c := setupApp(t, func(w http.ResponseWriter, r *http.Request, cl call) {
			if cl.Cmdlet != "Get-OrganizationConfig" || len(cl.Params) != 1 || cl.Params["RetrieveEwsOperationAccessPolicy"] != true ||
				!strings.Contains(cl.Query, "$select=EwsEnabled,EwsAllowedAppIDs,EwsApplicationAccessPolicy,EwsAllowList,EwsBlockList") {
				t.Errorf("call = %+v", cl)
			}
			fmt.Fprint(w, wireEnvelope("", tc.body))
		})
		oc, err := c.GetOrganizationConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		enabled := "<nil>"
		if oc.EwsEnabled != nil {
			enabled = fmt.Sprint(*oc.EwsEnabled)
		}
		got := fmt.Sprintf("enabled=%s apps=%v policy=%s allow=%v block=%v", enabled, oc.EwsAllowedAppIDs, oc.EwsApplicationAccessPolicy, oc.EwsAllowList, oc.EwsBlockList)
		if got != tc.want {
			t.Errorf("config = %s\nwant     %s", got, tc.want)
		}
	}
}

// An application whose role does not include the cmdlet gets 401 "not allowed to call"
// (§J1): classified, and not retried; a bad token's 401 is not that.
func TestNotAllowedToCall(t *testing.T) {
	n := 0
	c := setupApp(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		n++
		w.WriteHeader(401)
		fmt.Fprint(w, errNotAllowed)
	})
	_, err := c.GetOrganizationConfig(context.Background())
	if !IsNotAllowedToCall(err) || n != 1 {
		t.Fatalf("err = %v after %d calls", err, n)
	}
	if IsNotAllowedToCall(parseError(401, nil, []byte(errPlain))) || IsNotAllowedToCall(parseError(403, nil, []byte(errNotAllowed))) {
		t.Error("another 401 (or a 403) read as not allowed to call")
	}
}

func TestGetCASMailbox(t *testing.T) {
	c := setupApp(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet != "Get-CASMailbox" || !strings.Contains(cl.Query, "$select=EwsEnabled,") {
			t.Errorf("call = %+v", cl)
		}
		if cl.Params["Identity"] == "nobody@contoso.com" {
			w.WriteHeader(404)
			fmt.Fprint(w, errNotFound)
			return
		}
		fmt.Fprint(w, wireEnvelope("", objCASMailbox))
	})
	m, err := c.GetCASMailbox(context.Background(), "user1@contoso.onmicrosoft.com")
	if err != nil || m == nil || m.EwsEnabled == nil || *m.EwsEnabled {
		t.Fatalf("mailbox = %+v, %v", m, err)
	}
	if m, err := c.GetCASMailbox(context.Background(), "nobody@contoso.com"); m != nil || err != nil {
		t.Fatalf("missing mailbox = %+v, %v", m, err)
	}
}

func TestTestServicePrincipalAuthorization(t *testing.T) {
	c := setupApp(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet != "Test-ServicePrincipalAuthorization" || cl.Params["Identity"] != spID || cl.Params["Resource"] != "user1@contoso.onmicrosoft.com" {
			t.Errorf("call = %+v", cl)
		}
		fmt.Fprint(w, wireEnvelope("", objAuthInScope, objAuthOutScope))
	})
	as, err := c.TestServicePrincipalAuthorization(context.Background(), spID, "user1@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || !as[0].Covers() || as[1].Covers() || as[0].GrantedPermissions != "Mail.ReadWrite" || as[1].ScopeType != "AdministrativeUnit" || as[0].InScope != "True" {
		t.Fatalf("authorizations = %+v", as)
	}
}

// ApplicationImpersonation retired (§K1): not found is no role, not an error.
func TestGetManagementRoles(t *testing.T) {
	c := setupApp(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Params["Identity"] == "ApplicationImpersonation" {
			w.WriteHeader(404)
			fmt.Fprint(w, errRoleGone)
			return
		}
		fmt.Fprint(w, wireEnvelope("", objRole))
	})
	rs, err := c.GetManagementRoles(context.Background(), "ApplicationImpersonation")
	if err != nil || len(rs) != 0 {
		t.Fatalf("retired role: %v %v", rs, err)
	}
	rs, err = c.GetManagementRoles(context.Background(), "Application*")
	if err != nil || len(rs) != 1 || rs[0].Name != "Application EWS.AccessAsApp" {
		t.Fatalf("roles = %+v, %v", rs, err)
	}
}

// Property bags are read leniently: JSON or string booleans, null as "not set", arrays or
// comma-separated strings, nested {"Name": …} objects.
func TestBag(t *testing.T) {
	m, err := decodeBag([]byte(`{"t":true,"ts":"True","f":"false","n":null,"x":"maybe","a":["a","b"],"c":" a, b ,","o":{"Name":"nested"},"e":""}`))
	if err != nil {
		t.Fatal(err)
	}
	show := func(b *bool) string {
		if b == nil {
			return "nil"
		}
		return fmt.Sprint(*b)
	}
	got := fmt.Sprintf("%s %s %s %s %s %s | %v %v %v %v | %q %q", show(m.boolean("t")), show(m.boolean("ts")), show(m.boolean("f")), show(m.boolean("n")),
		show(m.boolean("x")), show(m.boolean("absent")), m.strs("a"), m.strs("c"), m.strs("n"), m.strs("e"), m.str("o"), m.str("n"))
	if want := `true true false nil nil nil | [a b] [a b] [] [] | "nested" ""`; got != want {
		t.Fatalf("bag = %s\nwant  %s", got, want)
	}
}
