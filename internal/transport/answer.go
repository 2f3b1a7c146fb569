package transport

// A success status is a success only with the body the service always sends with it: Graph
// and the Exchange admin API answer a JSON object, EWS a SOAP envelope. An empty body, one
// cut short, or a proxy's HTML page under a 2xx says nothing of what the service did, and
// taking it for an empty result makes a drift check report every role missing. Such an
// answer is a transient failure: a read is asked again, a write that may have been applied
// goes through its recovery (Request.Recover) or is reported ambiguous.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MalformedAnswerError is a success status whose body is not what the service always sends
// with it. It never carries the body: Problem describes what was wrong in a few words.
type MalformedAnswerError struct {
	Service string // "graph", "exchange", "ews"
	Op      string // the call, as in Request.Op
	Status  int
	// Problem is a short description without any of the body's text, e.g. "empty body",
	// "Content-Type text/html, expected application/json", "truncated JSON",
	// "no `value` array".
	Problem string
}

func (e *MalformedAnswerError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s with a malformed answer (%s): not trusted as a result", e.Service, e.Op, e.Status, http.StatusText(e.Status), e.Problem)
}

// ErrorCode names the failure in log lines.
func (e *MalformedAnswerError) ErrorCode() string { return "MalformedAnswer: " + e.Problem }

// IsMalformedAnswer reports whether err is (or wraps) a *MalformedAnswerError.
func IsMalformedAnswer(err error) bool {
	_, ok := errors.AsType[*MalformedAnswerError](err)
	return ok
}

// Malformed is the outcome of a malformed success answer: transient, so a read is tried
// again, and ambiguous, so a write that may have been applied is recovered or reported. When
// ctx has ended meanwhile, the answer was most likely cut short by that, and the call
// reports its own end (wrapping both errors), as the pipeline does for a read that fails
// after the context's end; a write stays ambiguous.
func Malformed(ctx context.Context, err *MalformedAnswerError) Outcome {
	if cerr := ctx.Err(); cerr != nil {
		return Outcome{Err: fmt.Errorf("%w: %w", cerr, err), Ambiguous: true}
	}
	return Outcome{Err: err, Retry: true, Ambiguous: true}
}

// Media types of the answers the clients accept.
const (
	MediaJSON    = "application/json"
	MediaXML     = "text/xml"
	MediaSOAPXML = "application/soap+xml"
)

// CheckJSON returns what is wrong with r as a JSON answer ("" when nothing): its body must
// be non-empty, of Content-Type application/json (or a +json type; parameters such as
// charset and odata.metadata are fine) and well-formed.
func CheckJSON(r *Response) string {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return "empty body"
	}
	if p := checkMediaType(r.Header, MediaJSON); p != "" {
		return p
	}
	return jsonSyntax(r.Body)
}

// DecodeJSON checks r as CheckJSON does and decodes its body into out, a pointer; the
// result says what is wrong, "" when nothing. A document of another shape than out's (an
// array for an object, a string for a number) is wrong too: the service always sends its
// own.
func DecodeJSON(r *Response, out any) string {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return "empty body"
	}
	if p := checkMediaType(r.Header, MediaJSON); p != "" {
		return p
	}
	// Unmarshal checks the whole document's syntax before it decodes.
	if err := json.Unmarshal(r.Body, out); err != nil {
		return JSONProblem(err)
	}
	return ""
}

// JSONProblem describes a failure of json.Unmarshal in the terms of Problem: where and
// what, never the body's text.
func JSONProblem(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		if strings.Contains(se.Error(), "unexpected end") {
			return "truncated JSON"
		}
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s, expected an object", te.Value)
		}
		return fmt.Sprintf("`%s` is a JSON %s", Clip(te.Field, 60), te.Value)
	}
	return "JSON not of the expected form"
}

func jsonSyntax(b []byte) string {
	var v json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return JSONProblem(err)
	}
	return ""
}

// CheckXML returns what is wrong with r as an XML answer ("" when nothing): its body must be
// non-empty, of one of mediaTypes (text/xml when none is given; parameters are fine) and
// a well-formed document with one root element.
func CheckXML(r *Response, mediaTypes ...string) string {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return "empty body"
	}
	if len(mediaTypes) == 0 {
		mediaTypes = []string{MediaXML}
	}
	if p := checkMediaType(r.Header, mediaTypes...); p != "" {
		return p
	}
	return xmlSyntax(r.Body)
}

func xmlSyntax(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	// The document's declared charset is not for this check to judge (the client's own
	// decoder does): read any as bytes.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	depth, roots := 0, 0
	for {
		// Token, unlike RawToken, checks that each end tag closes its start tag.
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if strings.Contains(err.Error(), "unexpected EOF") {
				return "truncated XML"
			}
			return fmt.Sprintf("invalid XML at line %d", lineOf(err))
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	switch {
	case roots == 0:
		return "no XML element"
	case roots > 1:
		return "more than one XML root element"
	}
	return ""
}

func lineOf(err error) int {
	if se, ok := errors.AsType[*xml.SyntaxError](err); ok {
		return se.Line
	}
	return 0
}

// checkMediaType reports a Content-Type that is none of want (compared without parameters;
// MediaJSON also admits any application/…+json type).
func checkMediaType(h http.Header, want ...string) string {
	ct := h.Get("Content-Type")
	expected := strings.Join(want, " or ")
	if strings.TrimSpace(ct) == "" {
		return "no Content-Type, expected " + expected
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "unreadable Content-Type, expected " + expected
	}
	for _, w := range want {
		if mt == w || w == MediaJSON && strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json") {
			return ""
		}
	}
	return "Content-Type " + Clip(mt, 60) + ", expected " + expected
}
