package emulator

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EWS namespaces (WIRE §D1).
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// ewsVersions are the RequestServerVersion values types.xsd allows, plus
// Exchange2019 which Exchange Online also accepts (WIRE §D2).
var ewsVersions = []string{"Exchange2007", "Exchange2007_SP1", "Exchange2009", "Exchange2010",
	"Exchange2010_SP1", "Exchange2010_SP2", "Exchange2012", "Exchange2013", "Exchange2013_SP1",
	"Exchange2015", "Exchange2016", "Exchange2019", "V2015_10_05", "V2016_01_06", "V2016_04_13",
	"V2016_07_13", "V2016_10_10"}

// ewsFolders are the distinguished folders a mailbox answers for: display
// name, folder class and element name (types.xsd DistinguishedFolderIdNameType).
var ewsFolders = map[string]struct{ displayName, class, element string }{
	"root":                 {"Root", "", "Folder"},
	"msgfolderroot":        {"Top of Information Store", "IPF.Note", "Folder"},
	"inbox":                {"Inbox", "IPF.Note", "Folder"},
	"drafts":               {"Drafts", "IPF.Note", "Folder"},
	"sentitems":            {"Sent Items", "IPF.Note", "Folder"},
	"deleteditems":         {"Deleted Items", "IPF.Note", "Folder"},
	"outbox":               {"Outbox", "IPF.Note", "Folder"},
	"junkemail":            {"Junk Email", "IPF.Note", "Folder"},
	"archiveroot":          {"Archive", "IPF.Note", "Folder"},
	"calendar":             {"Calendar", "IPF.Appointment", "CalendarFolder"},
	"contacts":             {"Contacts", "IPF.Contact", "ContactsFolder"},
	"tasks":                {"Tasks", "IPF.Task", "TasksFolder"},
	"notes":                {"Notes", "IPF.StickyNote", "Folder"},
	"journal":              {"Journal", "IPF.Journal", "Folder"},
	"searchfolders":        {"Finder", "", "Folder"},
	"voicemail":            {"Voice Mail", "IPF.Note.Microsoft.Voicemail", "Folder"},
	"conversationhistory":  {"Conversation History", "IPF.Note", "Folder"},
	"recoverableitemsroot": {"Recoverable Items", "", "Folder"},
	"syncissues":           {"Sync Issues", "IPF.Note", "Folder"},
}

type ewsEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct {
		RequestServerVersion *struct {
			Version string `xml:"Version,attr"`
		} `xml:"http://schemas.microsoft.com/exchange/services/2006/types RequestServerVersion"`
		ExchangeImpersonation *ewsImpersonation `xml:"http://schemas.microsoft.com/exchange/services/2006/types ExchangeImpersonation"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body struct {
		Operations []ewsOperation `xml:",any"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ewsImpersonation is the ExchangeImpersonation header: exactly one of the
// ConnectingSID's elements names the mailbox.
type ewsImpersonation struct {
	ConnectingSID struct {
		PrincipalName      string `xml:"http://schemas.microsoft.com/exchange/services/2006/types PrincipalName"`
		SID                string `xml:"http://schemas.microsoft.com/exchange/services/2006/types SID"`
		PrimarySmtpAddress string `xml:"http://schemas.microsoft.com/exchange/services/2006/types PrimarySmtpAddress"`
		SmtpAddress        string `xml:"http://schemas.microsoft.com/exchange/services/2006/types SmtpAddress"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/types ConnectingSID"`
}

type ewsOperation struct {
	XMLName     xml.Name
	FolderShape struct {
		BaseShape string `xml:"http://schemas.microsoft.com/exchange/services/2006/types BaseShape"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages FolderShape"`
	FolderIDs struct {
		Items []ewsFolderID `xml:",any"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages FolderIds"`
}

type ewsFolderID struct {
	XMLName xml.Name
	ID      string `xml:"Id,attr"`
	Mailbox *struct {
		EmailAddress string `xml:"http://schemas.microsoft.com/exchange/services/2006/types EmailAddress"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/types Mailbox"`
}

// soapFault is a SOAP 1.1 fault in the shape of WIRE §D5 (HTTP 500).
type soapFault struct {
	code, message string
	messageXML    string // inner XML of t:MessageXml, already escaped
}

func schemaViolation(line int, violation string) *soapFault {
	return &soapFault{"ErrorSchemaValidation", "The request failed schema validation: " + violation,
		fmt.Sprintf("<t:LineNumber>%d</t:LineNumber><t:LinePosition>0</t:LinePosition><t:Violation>%s</t:Violation>", line, xmlText(violation))}
}

// postEWS is POST /EWS/Exchange.asmx with GetFolder, for the caller's own
// mailbox or an impersonated one (WIRE §D2–§D6).
func (s *Server) postEWS(q *call) {
	w, r, caller := q.w, q.r, q.c
	data, err := readBody(r)
	if err != nil {
		writeSOAPFault(w, schemaViolation(0, err.Error()))
		return
	}
	var env ewsEnvelope
	if err := xml.Unmarshal(data, &env); err != nil {
		line := 0
		var syntax *xml.SyntaxError
		if errors.As(err, &syntax) {
			line = syntax.Line
		}
		writeSOAPFault(w, schemaViolation(line, err.Error()))
		return
	}
	response, fault, refused := s.getFolder(caller, &env, r.Header.Get("X-AnchorMailbox"))
	if refused {
		// WIRE §K4: a policy block is a bare 403 (its body is ⚠; clients must not parse it).
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if fault != nil {
		writeSOAPFault(w, fault)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("request-id", uuid.NewString())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(response))
}

// ewsAuth authenticates an EWS request and writes the 401 when it fails.
// Needs s.mu.
func (s *Server) ewsAuth(w http.ResponseWriter, r *http.Request) *caller {
	c, basic, reason := s.ewsCredentials(r)
	if c == nil {
		s.writeEWSUnauthorized(w, basic, reason)
	}
	return c
}

// ewsCredentials accepts a Bearer token for the Exchange resource, or, when
// the tenant has legacy_basic_auth, Basic with a user's app password (WIRE
// §A11). Needs s.mu.
func (s *Server) ewsCredentials(r *http.Request) (c *caller, basic bool, reason string) {
	if name, password, ok := r.BasicAuth(); ok {
		u := s.tenant.userByUPN(name)
		switch {
		case !s.seed.LegacyBasicAuth:
			return nil, true, "Basic authentication is disabled for this organization"
		case u == nil || u.disabled || u.locked:
			return nil, true, "The user account is unknown, disabled or locked"
		case s.tenant.passwords[u.oid].appPassword == "" || !secretEqual(password, s.tenant.passwords[u.oid].appPassword):
			return nil, true, "The user name or app password is incorrect"
		}
		return &caller{user: u}, true, ""
	}
	c, reason = s.authenticate(r, apiExchange)
	return c, false, reason
}

// writeEWSUnauthorized is the empty 401 of WIRE §A11 / §D6 (⚠ header set).
func (s *Server) writeEWSUnauthorized(w http.ResponseWriter, basic bool, reason string) {
	h := w.Header()
	h.Add("WWW-Authenticate", exchangeAuthHint)
	if s.seed.LegacyBasicAuth {
		h.Add("WWW-Authenticate", `Basic Realm=""`)
	}
	category, code := "invalid_token", "2000003"
	if basic {
		category, code = "invalid_grant", "2000008"
	}
	h.Set("x-ms-diagnostics", fmt.Sprintf(`%s;reason="%s";error_category="%s"`, code, reason, category))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// getFolder resolves the mailbox and answers one GetFolderResponseMessage per
// requested folder. The mailbox is the caller's own, or the impersonated one:
// a user needs an effective ApplicationImpersonation assignment (WIRE §D2);
// an application must impersonate (with X-AnchorMailbox) and needs
// full_access_as_app in its token or an in-scope Application EWS.AccessAsApp
// assignment (WIRE §I13, §J7). The organization and mailbox EWS switches
// come first (§K3); refused reports their 403. Needs s.mu.
func (s *Server) getFolder(caller *caller, env *ewsEnvelope, anchor string) (response string, fault *soapFault, refused bool) {
	op, fault := getFolderOperation(env)
	if fault != nil {
		return "", fault, false
	}
	t, now := s.tenant, s.clock()
	imp := env.Header.ExchangeImpersonation
	mailbox, fault := t.ewsMailbox(caller, imp, anchor)
	if fault != nil {
		return "", fault, false
	}
	appID := ""
	if caller.token != nil {
		appID = caller.token.appID
	}
	if reason := t.ewsRefusal(mailbox, appID, now); reason != "" {
		return "", nil, true
	}
	if imp != nil {
		if fault := s.impersonationRight(caller, mailbox, now); fault != nil {
			return "", fault, false
		}
	}
	var messages strings.Builder
	for _, item := range op.FolderIDs.Items {
		msg, fault := s.folderMessage(mailbox, item, op.FolderShape.BaseShape)
		if fault != nil {
			return "", fault, false
		}
		messages.WriteString(msg)
	}
	return getFolderResponse(messages.String()), nil, false
}

// getFolderOperation checks the request is one GetFolder the schema allows.
func getFolderOperation(env *ewsEnvelope) (*ewsOperation, *soapFault) {
	if v := env.Header.RequestServerVersion; v != nil && !slices.Contains(ewsVersions, v.Version) {
		return nil, &soapFault{"ErrorInvalidServerVersion", "The specified server version is invalid.", ""}
	}
	if len(env.Body.Operations) != 1 {
		return nil, schemaViolation(1, "soap:Body must contain exactly one operation.")
	}
	op := &env.Body.Operations[0]
	switch shape := op.FolderShape.BaseShape; {
	case op.XMLName.Space != nsMessages || op.XMLName.Local != "GetFolder":
		return nil, &soapFault{"ErrorInvalidRequest", "The request is invalid. The emulated tenant implements only GetFolder.", ""}
	case shape != "IdOnly" && shape != "Default" && shape != "AllProperties":
		return nil, schemaViolation(1, fmt.Sprintf("The value '%s' is invalid according to its datatype 'DefaultShapeNamesType'.", shape))
	case len(op.FolderIDs.Items) == 0:
		return nil, schemaViolation(1, "The element 'FolderIds' has incomplete content.")
	}
	return op, nil
}

// ewsMailbox is the mailbox a request acts on: the caller's own, or the one
// the ExchangeImpersonation header names (nil when it names nobody known).
// An application must impersonate, and route the request to that mailbox
// with X-AnchorMailbox; without it (or with another mailbox's) Exchange
// rejects the header (WIRE §I13).
func (t *tenant) ewsMailbox(c *caller, imp *ewsImpersonation, anchor string) (*user, *soapFault) {
	if imp == nil {
		if c.appOnly() {
			return nil, &soapFault{"ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must be present for this type of OAuth token.", ""}
		}
		return c.user, nil
	}
	sid := imp.ConnectingSID
	given := 0
	for _, v := range []string{sid.PrincipalName, sid.SID, sid.PrimarySmtpAddress, sid.SmtpAddress} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return nil, schemaViolation(1, "ConnectingSID must contain exactly one of PrincipalName, SID, PrimarySmtpAddress, SmtpAddress.")
	}
	address := sid.PrincipalName + sid.PrimarySmtpAddress + sid.SmtpAddress
	var mailbox *user
	switch {
	case sid.PrincipalName != "":
		mailbox = t.userByUPN(sid.PrincipalName)
	case sid.SID != "":
		// the emulated directory has no SIDs
	default:
		mailbox = t.userBySMTP(address)
	}
	if c.appOnly() && !t.anchorMatches(anchor, address, mailbox) {
		return nil, &soapFault{"ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must not exist for this type of OAuth token.", ""}
	}
	return mailbox, nil
}

// impersonationRight: an application needs a mailbox, then the right to it
// (appEWSRight); a user needs an effective ApplicationImpersonation
// assignment (none once the role is retired, WIRE §K1), then a mailbox.
// Needs s.mu.
func (s *Server) impersonationRight(c *caller, mailbox *user, now time.Time) *soapFault {
	t := s.tenant
	noMailbox := &soapFault{"ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.", ""}
	switch {
	case c.appOnly() && (mailbox == nil || !mailbox.mailbox):
		return noMailbox
	case c.appOnly():
		return s.appEWSRight(c, mailbox, now)
	case t.org.impersonationRetired || !t.holdsExchangeRole(c.user, "ApplicationImpersonation", now, s.propagationDelay):
		return &soapFault{"ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.", ""}
	case mailbox == nil || !mailbox.mailbox:
		return noMailbox
	}
	return nil
}

// getFolderResponse wraps the response messages in GetFolder's envelope.
func getFolderResponse(messages string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` +
		`<s:Envelope xmlns:s="` + nsSOAP + `">` +
		`<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8158" MinorBuildNumber="20" Version="V2018_01_08"` +
		` xmlns:h="` + nsTypes + `" xmlns="` + nsTypes + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header>` +
		`<s:Body><m:GetFolderResponse xmlns:m="` + nsMessages + `" xmlns:t="` + nsTypes + `"><m:ResponseMessages>` +
		messages +
		`</m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>`
}

// folderMessage answers one requested folder of mailbox. Needs s.mu.
func (s *Server) folderMessage(mailbox *user, item ewsFolderID, shape string) (string, *soapFault) {
	if item.XMLName.Space != nsTypes || (item.XMLName.Local != "DistinguishedFolderId" && item.XMLName.Local != "FolderId") {
		return "", schemaViolation(1, fmt.Sprintf("The element 'FolderIds' has invalid child element '%s'.", item.XMLName.Local))
	}
	t := s.tenant
	var name, answer string
	if item.XMLName.Local == "DistinguishedFolderId" {
		var fault *soapFault
		if name, answer, fault = t.distinguishedFolder(mailbox, item); fault != nil || answer != "" {
			return answer, fault
		}
	}
	if !mailbox.mailbox {
		return nonExistentMailbox(mailbox.upn), nil
	}
	if item.XMLName.Local == "FolderId" {
		if name, answer = t.folderByID(mailbox, item.ID); answer != "" {
			return answer, nil
		}
	}
	return t.folderAnswer(mailbox, name, shape), nil
}

// distinguishedFolder reads a DistinguishedFolderId: its name, or the
// error message for its mailbox (delegate access to another mailbox needs
// Full Access, which the emulated tenant never grants).
func (t *tenant) distinguishedFolder(mailbox *user, item ewsFolderID) (name, answer string, fault *soapFault) {
	if _, ok := ewsFolders[item.ID]; !ok {
		return "", "", schemaViolation(1, fmt.Sprintf("The value '%s' is invalid according to its datatype 'DistinguishedFolderIdNameType'.", item.ID))
	}
	if item.Mailbox != nil && item.Mailbox.EmailAddress != "" {
		target := t.userBySMTP(item.Mailbox.EmailAddress)
		switch {
		case target == nil || !target.mailbox:
			return "", nonExistentMailbox(item.Mailbox.EmailAddress), nil
		case target != mailbox:
			return "", errorMessage("ErrorAccessDenied", "Access is denied. Check credentials and try again.", ""), nil
		}
	}
	return item.ID, "", nil
}

// folderByID finds the distinguished folder of mailbox with that FolderId,
// or the error message for an id it does not know.
func (t *tenant) folderByID(mailbox *user, id string) (name, answer string) {
	for folder := range ewsFolders {
		if fid, _ := t.folderID(mailbox, folder); fid == id {
			name = folder
		}
	}
	if name != "" {
		return name, ""
	}
	if _, err := base64.StdEncoding.DecodeString(id); err != nil || id == "" {
		return "", errorMessage("ErrorInvalidIdMalformed", "Id is malformed.", "")
	}
	return "", errorMessage("ErrorFolderNotFound", "The specified folder could not be found in the store.", "")
}

// folderAnswer is the successful GetFolderResponseMessage for a folder of
// mailbox in the requested shape.
func (t *tenant) folderAnswer(mailbox *user, name, shape string) string {
	folder := ewsFolders[name]
	id, changeKey := t.folderID(mailbox, name)
	var b strings.Builder
	b.WriteString(`<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders>`)
	fmt.Fprintf(&b, `<t:%s><t:FolderId Id="%s" ChangeKey="%s"/>`, folder.element, id, changeKey)
	if shape != "IdOnly" {
		if shape == "AllProperties" && folder.class != "" {
			fmt.Fprintf(&b, `<t:FolderClass>%s</t:FolderClass>`, folder.class)
		}
		fmt.Fprintf(&b, `<t:DisplayName>%s</t:DisplayName><t:TotalCount>0</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>`, xmlText(folder.displayName))
		if folder.element != "CalendarFolder" && folder.element != "ContactsFolder" {
			b.WriteString(`<t:UnreadCount>0</t:UnreadCount>`)
		}
	}
	fmt.Fprintf(&b, `</t:%s></m:Folders></m:GetFolderResponseMessage>`, folder.element)
	return b.String()
}

func nonExistentMailbox(address string) string {
	return errorMessage("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.",
		`<t:Value Name="SmtpAddress">`+xmlText(address)+`</t:Value>`)
}

// errorMessage is a GetFolderResponseMessage with ResponseClass Error (WIRE §D4).
func errorMessage(code, text, messageXML string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>`, xmlText(text), code)
	if messageXML != "" {
		b.WriteString(`<m:MessageXml>` + messageXML + `</m:MessageXml>`)
	}
	b.WriteString(`<m:Folders/></m:GetFolderResponseMessage>`)
	return b.String()
}

// folderID derives a stable, EWS-looking folder id and change key for a
// mailbox's distinguished folder.
func (t *tenant) folderID(mailbox *user, folder string) (id, changeKey string) {
	mailboxGUID := uuid.NewSHA1(t.namespace, []byte("mailbox:"+mailbox.oid))
	folderGUID := uuid.NewSHA1(t.namespace, []byte("folder:"+mailbox.oid+":"+folder))
	raw := append([]byte{0x00, 0x03, 0x24, 0x00}, mailboxGUID[:]...)
	raw = append(raw, 0x00, 0x2e, 0x00, 0x00)
	raw = append(raw, folderGUID[:]...)
	raw = append(raw, 0x00, 0x01)
	sum := sha1.Sum(raw)
	key := append([]byte{0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00}, sum[:12]...)
	return base64.StdEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(key)
}

// writeSOAPFault writes the fault envelope of WIRE §D5 with HTTP 500.
func writeSOAPFault(w http.ResponseWriter, f *soapFault) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="` + nsSOAP + `"><s:Body><s:Fault>`)
	fmt.Fprintf(&b, `<faultcode xmlns:a="%s">a:%s</faultcode><faultstring xml:lang="en-US">%s</faultstring><detail>`, nsTypes, f.code, xmlText(f.message))
	fmt.Fprintf(&b, `<e:ResponseCode xmlns:e="%s">%s</e:ResponseCode><e:Message xmlns:e="%s">%s</e:Message>`, nsErrors, f.code, nsErrors, xmlText(f.message))
	if f.messageXML != "" {
		fmt.Fprintf(&b, `<t:MessageXml xmlns:t="%s">%s</t:MessageXml>`, nsTypes, f.messageXML)
	}
	b.WriteString(`</detail></s:Fault></s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(b.String()))
}

// writeEWSServerBusy is throttling as EWS does it: an ErrorServerBusy fault
// whose BackOffMilliseconds tells the wait, not an HTTP 429 (WIRE §D5).
func writeEWSServerBusy(w http.ResponseWriter, backOffMilliseconds int) {
	writeSOAPFault(w, &soapFault{"ErrorServerBusy", "The server cannot service this request right now. Try again later.",
		fmt.Sprintf(`<t:Value Name="BackOffMilliseconds">%d</t:Value>`, backOffMilliseconds)})
}

// writeEWSStatusError is an injected HTTP-level EWS failure (WIRE §D6): empty
// bodies, except 500 which is always a SOAP fault.
func writeEWSStatusError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusInternalServerError:
		writeSOAPFault(w, &soapFault{"ErrorInternalServerError", "An internal server error occurred. The operation failed.", ""})
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", exchangeAuthHint)
		w.WriteHeader(status)
	default:
		w.WriteHeader(status)
	}
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// anchorMatches: X-AnchorMailbox names the impersonated mailbox, as an
// address, optionally prefixed SMTP: or UPN:.
func (t *tenant) anchorMatches(anchor, address string, mailbox *user) bool {
	anchor = strings.TrimSpace(anchor)
	for _, prefix := range []string{"SMTP:", "UPN:", "smtp:", "upn:"} {
		anchor = strings.TrimPrefix(anchor, prefix)
	}
	if anchor == "" {
		return false
	}
	if strings.EqualFold(anchor, address) {
		return true
	}
	return mailbox != nil && t.userBySMTP(anchor) == mailbox
}

// appEWSRight: full_access_as_app in the token reaches every mailbox; an
// Application EWS.AccessAsApp assignment only its scope, once the RBAC delay
// has passed (WIRE §I13, §J7). The fault codes are ⚠: no right at all is
// ErrorImpersonateUserDenied, a mailbox outside the scope ErrorAccessDenied.
func (s *Server) appEWSRight(c *caller, mailbox *user, now time.Time) *soapFault {
	t := s.tenant
	if c.hasRole("full_access_as_app") || t.rbacGrants(c.sp.id, "EWS.AccessAsApp", mailbox, now, s.rbacDelay) {
		return nil
	}
	for _, a := range t.appAssignmentsOf(c.sp.id) {
		if r := findApplicationRole(a.role); r != nil && slices.Contains(r.permissions, "EWS.AccessAsApp") {
			return &soapFault{"ErrorAccessDenied", "Access is denied. Check credentials and try again.", ""}
		}
	}
	return &soapFault{"ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.", ""}
}
