package ews

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// A 200 whose body is not a whole SOAP envelope with EWS's response messages is a
// transient failure: GetFolder is a read, so it is asked again; it is never success and
// never an EWS error (ErrorAccessDenied…) a caller would act on.

func TestMalformedAnswersAreRetried(t *testing.T) {
	good := string(fixture(t, "getfolder_success.xml"))
	noCode := strings.Replace(good, "<m:ResponseCode>NoError</m:ResponseCode>", "", 1)
	noClass := strings.Replace(good, ` ResponseClass="Success"`, "", 1)
	oneMessage := good[:strings.Index(good, "<m:GetFolderResponseMessage")] + good[strings.LastIndex(good, "<m:GetFolderResponseMessage"):]
	noFolderID := strings.Replace(good, `<t:FolderId Id="AAMkADk0N2E4OTQ3LWRhMjUtNDA5Yi1iNmIyLWE5ODQ3ZTlhMTExMQAuAAAAAAB1AAA="`, `<t:ParentFolderId Id="x"`, 1)
	for _, m := range []struct {
		name    string
		ct      string // "" keeps text/xml; "-" sends none
		body    string
		problem string
	}{
		{"empty 200", "", "", "empty body"},
		{"truncated 200", "", good[:len(good)-40], "truncated XML"},
		{"truncated inside the messages", "", good[:strings.Index(good, "<m:Folders>")], "truncated XML"},
		{"HTML 200", "text/html; charset=utf-8", "<html><body><h1>Proxy login</h1></body></html>", "Content-Type text/html, expected text/xml or application/soap+xml"},
		{"HTML 200 as text/xml", "", "<html><body><h1>Proxy login</h1></body></html>", "not a SOAP envelope"},
		{"no Content-Type", "-", good, "no Content-Type"},
		{"JSON 200", "application/json", `{"value":[]}`, "Content-Type application/json"},
		{"no Body", "", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>`, "no SOAP Body"},
		{"empty Body", "", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`, "no GetFolderResponse"},
		{"no ResponseCode", "", noCode, "GetFolderResponseMessage 1 without its ResponseClass and ResponseCode"},
		{"no ResponseClass", "", noClass, "GetFolderResponseMessage 1 without its ResponseClass and ResponseCode"},
		{"a message short", "", oneMessage, "1 GetFolderResponseMessages for 2 folders"},
		{"no FolderId", "", noFolderID, "GetFolderResponseMessage 1 (NoError) without a FolderId"},
	} {
		for _, bad := range []int{1, 100} {
			t.Run(fmt.Sprintf("%s/%d bad", m.name, bad), func(t *testing.T) {
				var mu sync.Mutex
				n := 0
				c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
					mu.Lock()
					n++
					first := n <= bad
					mu.Unlock()
					if !first {
						w.Write([]byte(good))
						return
					}
					switch m.ct {
					case "":
					case "-":
						w.Header()["Content-Type"] = nil // nil, not absent: the server would sniff one
					default:
						w.Header().Set("Content-Type", m.ct)
					}
					// The length of what is sent: the HTTP layer sees a complete answer.
					w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
					fmt.Fprint(w, m.body)
				})
				fs, err := c.GetFolder(context.Background(), "", "msgfolderroot", "inbox")
				mu.Lock()
				defer mu.Unlock()
				if bad == 1 {
					if err != nil || len(fs) != 2 || n != 2 {
						t.Fatalf("folders=%+v err=%v after %d requests", fs, err, n)
					}
					return
				}
				// MaxRetries 3: four requests, then the malformed answer is the error.
				me, ok := errors.AsType[*transport.MalformedAnswerError](err)
				if !ok || n != 4 || !strings.HasPrefix(me.Problem, m.problem) || me.Service != "ews" || me.Op != "GetFolder" || me.Status != 200 {
					t.Fatalf("err=%v after %d requests", err, n)
				}
				if code(err) != "" || IsAccessDenied(err) || strings.Contains(err.Error(), "Proxy login") || strings.Contains(err.Error(), "AAMkAD") {
					t.Fatalf("err = %v", err)
				}
			})
		}
	}
}

// application/soap+xml (SOAP 1.2's media type) is accepted as well as text/xml.
func TestSOAPXMLMediaTypeAccepted(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
		w.Write(fixture(t, "getfolder_success.xml"))
	})
	if fs, err := c.GetFolder(context.Background(), "", "msgfolderroot", "inbox"); err != nil || len(fs) != 2 {
		t.Fatalf("folders=%+v err=%v", fs, err)
	}
}
