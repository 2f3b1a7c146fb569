package emulator

import (
	"fmt"
	"strings"
	"unicode"
)

// The subset of OPATH a management scope's RecipientRestrictionFilter may use
// (WIRE §J3): `Property -op 'value'` with -eq, -ne, -like and -notlike on
// CustomAttribute1..15, Department, PrimarySmtpAddress and RecipientType,
// combined with -and, -or, -not and parentheses. Mixing -and and -or needs
// parentheses: PowerShell gives them equal precedence, which readers rarely
// expect, so the emulator refuses to guess (an emulator choice). Values are
// compared case-insensitively; -like takes * wildcards.

// opathExpr is a parsed filter; matches evaluates it on a recipient's properties.
type opathExpr interface {
	matches(props map[string]string) bool
}

type opathCompare struct{ property, op, value string }

type opathBool struct {
	and   bool
	terms []opathExpr
}

type opathNot struct{ term opathExpr }

func (c opathCompare) matches(props map[string]string) bool {
	got := strings.ToLower(props[c.property])
	want := strings.ToLower(c.value)
	switch c.op {
	case "-eq":
		return got == want
	case "-ne":
		return got != want
	default: // -like, -notlike
		return wildcardMatch(want, got) == (c.op == "-like")
	}
}

func (b opathBool) matches(props map[string]string) bool {
	for _, t := range b.terms {
		if t.matches(props) != b.and {
			return !b.and
		}
	}
	return b.and
}

func (n opathNot) matches(props map[string]string) bool { return !n.term.matches(props) }

// opathProperties maps the filterable names (lower case) to their spelling.
var opathProperties = func() map[string]string {
	m := map[string]string{"department": "Department", "primarysmtpaddress": "PrimarySmtpAddress", "recipienttype": "RecipientType"}
	for i := 1; i <= 15; i++ {
		name := fmt.Sprintf("CustomAttribute%d", i)
		m[strings.ToLower(name)] = name
	}
	return m
}()

type opathToken struct {
	kind  string // word, op, string, (, )
	text  string
	start int
}

// lexOPATH splits a filter into words, -operators, quoted strings and
// parentheses.
func lexOPATH(s string) ([]opathToken, error) {
	var out []opathToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(' || c == ')':
			out = append(out, opathToken{string(c), string(c), i})
			i++
		case c == '\'' || c == '"':
			tok, next, err := lexOPATHString(s, i)
			if err != nil {
				return nil, err
			}
			out = append(out, tok)
			i = next
		case c == '-':
			j := scanWhile(s, i+1, unicode.IsLetter)
			out = append(out, opathToken{"op", strings.ToLower(s[i:j]), i})
			i = j
		case unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			j := scanWhile(s, i, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
			out = append(out, opathToken{"word", s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character '%c' at position %d", c, i+1)
		}
	}
	return out, nil
}

// lexOPATHString reads the string quoted by s[start] (' or "; the quote
// doubled stands for itself) and where the lexer goes on.
func lexOPATHString(s string, start int) (opathToken, int, error) {
	quote := s[start]
	var b strings.Builder
	for j := start + 1; j < len(s); j++ {
		if s[j] != quote {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == quote { // doubled quote
			b.WriteByte(quote)
			j++
			continue
		}
		return opathToken{"string", b.String(), start}, j + 1, nil
	}
	return opathToken{}, 0, fmt.Errorf("unterminated string starting at position %d", start+1)
}

// scanWhile is the index of the first byte from i on that is not in the class.
func scanWhile(s string, i int, in func(rune) bool) int {
	for i < len(s) && in(rune(s[i])) {
		i++
	}
	return i
}

type opathParser struct {
	tokens []opathToken
	pos    int
}

func (p *opathParser) peek() *opathToken {
	if p.pos < len(p.tokens) {
		return &p.tokens[p.pos]
	}
	return nil
}

// parseOPATH parses a recipient filter of the subset above.
func parseOPATH(filter string) (opathExpr, error) {
	tokens, err := lexOPATH(filter)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("the filter is empty")
	}
	p := &opathParser{tokens: tokens}
	expr, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil {
		return nil, fmt.Errorf("unexpected '%s' at position %d", t.text, t.start+1)
	}
	return expr, nil
}

func (p *opathParser) parseOr() (opathExpr, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	terms, joiner := []opathExpr{first}, ""
	for {
		t := p.peek()
		if t == nil || t.kind != "op" || (t.text != "-and" && t.text != "-or") {
			break
		}
		if joiner != "" && joiner != t.text {
			return nil, fmt.Errorf("-and and -or are mixed at position %d; group them with parentheses", t.start+1)
		}
		joiner = t.text
		p.pos++
		next, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, next)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return opathBool{and: joiner == "-and", terms: terms}, nil
}

func (p *opathParser) parseUnary() (opathExpr, error) {
	t := p.peek()
	switch {
	case t == nil:
		return nil, fmt.Errorf("the filter ends where a condition is expected")
	case t.kind == "op" && t.text == "-not":
		p.pos++
		inner, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return opathNot{inner}, nil
	case t.kind == "(":
		p.pos++
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c == nil || c.kind != ")" {
			return nil, fmt.Errorf("missing ')' for the '(' at position %d", t.start+1)
		}
		p.pos++
		return inner, nil
	case t.kind == "word":
		property, ok := opathProperties[strings.ToLower(t.text)]
		if !ok {
			return nil, fmt.Errorf("'%s' is not a recognized filterable property", t.text)
		}
		p.pos++
		op := p.peek()
		if op == nil || op.kind != "op" || (op.text != "-eq" && op.text != "-ne" && op.text != "-like" && op.text != "-notlike") {
			return nil, fmt.Errorf("a comparison operator (-eq, -ne, -like, -notlike) must follow '%s'", t.text)
		}
		p.pos++
		value := p.peek()
		if value == nil || value.kind != "string" {
			return nil, fmt.Errorf("a quoted value must follow '%s %s'", t.text, op.text)
		}
		p.pos++
		return opathCompare{property, op.text, value.text}, nil
	}
	return nil, fmt.Errorf("unexpected '%s' at position %d", t.text, t.start+1)
}

// wildcardMatch reports whether s matches pattern, where * stands for any
// run of characters (OPATH -like).
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
