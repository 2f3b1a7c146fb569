package exchange

import (
	"fmt"
	"strings"
	"unicode"
)

// The syntax of an OPATH recipient filter, as a management scope's RecipientRestrictionFilter
// takes it (WIRE.md §J3): `Property -operator 'value'` conditions combined with -and, -or and
// -not and grouped with parentheses. Every operator starts with a hyphen; values are quoted
// ('…' or "…", the quote doubled inside), except the PowerShell constants $true, $false and
// $null and whole numbers. Property names are not checked here: Exchange filters on many, and
// it says which it does not know. CheckRecipientFilter catches before anything is created what
// Exchange would refuse only after the application exists.

// FilterError is a syntax error in a recipient filter: where, what, and the fix.
type FilterError struct {
	// Position is the 1-based character position of the error.
	Position int
	Problem  string
	// Fix is what to write instead, when there is an obvious one.
	Fix string
}

func (e *FilterError) Error() string {
	msg := fmt.Sprintf("%s (at position %d)", e.Problem, e.Position)
	if e.Fix != "" {
		msg += "; write " + e.Fix
	}
	return msg
}

// comparisonOperators are OPATH's comparison operators; logical ones are -and, -or, -not.
var comparisonOperators = []string{"-eq", "-ne", "-lt", "-gt", "-le", "-ge", "-like", "-notlike"}

type filterToken struct {
	kind string // word, op, string, const, number, (, )
	text string
	pos  int // 1-based
}

// CheckRecipientFilter reports the first syntax error of an OPATH recipient filter (nil when
// there is none): a value not quoted, an unknown operator, unbalanced parentheses, a
// condition missing a part, an unterminated string.
func CheckRecipientFilter(filter string) error {
	tokens, err := lexFilter(filter)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return &FilterError{Position: 1, Problem: "the filter is empty", Fix: "a condition such as CustomAttribute15 -eq 'migrate'"}
	}
	p := &filterParser{tokens: tokens, end: len([]rune(filter)) + 1}
	if err := p.expression(); err != nil {
		return err
	}
	if t := p.peek(); t != nil {
		if t.kind == ")" {
			return &FilterError{Position: t.pos, Problem: "')' has no matching '('"}
		}
		return &FilterError{Position: t.pos, Problem: fmt.Sprintf("unexpected %q after a complete condition", t.text),
			Fix: "conditions joined with -and or -or"}
	}
	return nil
}

func lexFilter(s string) ([]filterToken, error) {
	var out []filterToken
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')':
			out = append(out, filterToken{string(c), string(c), i + 1})
			i++
		case c == '\'' || c == '"':
			tok, next, err := lexFilterString(rs, i)
			if err != nil {
				return nil, err
			}
			out = append(out, tok)
			i = next
		case c == '‘' || c == '’' || c == '“' || c == '”':
			return nil, &FilterError{Position: i + 1, Problem: fmt.Sprintf("typographic quote %q", string(c)), Fix: "straight quotes: 'value'"}
		case c == '-' || c == '$':
			j := scan(rs, i+1, isWordRune)
			kind := "op"
			if c == '$' {
				kind = "const"
			}
			out = append(out, filterToken{kind, strings.ToLower(string(rs[i:j])), i + 1})
			i = j
		case unicode.IsDigit(c):
			j := scan(rs, i, isWordRune)
			out = append(out, filterToken{"number", string(rs[i:j]), i + 1})
			i = j
		case isWordRune(c):
			j := scan(rs, i, func(r rune) bool { return isWordRune(r) || r == '.' || r == '@' })
			out = append(out, filterToken{"word", string(rs[i:j]), i + 1})
			i = j
		default:
			return nil, &FilterError{Position: i + 1, Problem: fmt.Sprintf("unexpected character %q", string(c)),
				Fix: "operators with a hyphen (-eq, -ne, -like, …) and values in quotes"}
		}
	}
	return out, nil
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func scan(rs []rune, i int, in func(rune) bool) int {
	for i < len(rs) && in(rs[i]) {
		i++
	}
	return i
}

// lexFilterString reads the string quoted by rs[start] (the quote doubled stands for itself).
func lexFilterString(rs []rune, start int) (filterToken, int, error) {
	quote := rs[start]
	var b strings.Builder
	for j := start + 1; j < len(rs); j++ {
		if rs[j] != quote {
			b.WriteRune(rs[j])
			continue
		}
		if j+1 < len(rs) && rs[j+1] == quote {
			b.WriteRune(quote)
			j++
			continue
		}
		return filterToken{"string", b.String(), start + 1}, j + 1, nil
	}
	return filterToken{}, 0, &FilterError{Position: start + 1, Problem: "the string is not closed", Fix: "the closing " + string(quote)}
}

type filterParser struct {
	tokens []filterToken
	i      int
	end    int // the position after the filter
}

func (p *filterParser) peek() *filterToken {
	if p.i < len(p.tokens) {
		return &p.tokens[p.i]
	}
	return nil
}

// expression: unary { (-and | -or) unary }
func (p *filterParser) expression() error {
	for {
		if err := p.unary(); err != nil {
			return err
		}
		t := p.peek()
		if t == nil || t.kind != "op" || (t.text != "-and" && t.text != "-or") {
			return nil
		}
		p.i++
	}
}

// unary: -not unary | ( expression ) | condition
func (p *filterParser) unary() error {
	t := p.peek()
	switch {
	case t == nil:
		return &FilterError{Position: p.end, Problem: "the filter ends where a condition is expected", Fix: "a condition such as Department -eq 'Sales'"}
	case t.kind == "op" && t.text == "-not":
		p.i++
		return p.unary()
	case t.kind == "(":
		p.i++
		if err := p.expression(); err != nil {
			return err
		}
		if c := p.peek(); c == nil || c.kind != ")" {
			return &FilterError{Position: t.pos, Problem: "'(' is not closed", Fix: "a matching ')'"}
		}
		p.i++
		return nil
	case t.kind == ")":
		return &FilterError{Position: t.pos, Problem: "')' where a condition is expected"}
	case t.kind == "word":
		return p.condition()
	case t.kind == "op":
		return &FilterError{Position: t.pos, Problem: fmt.Sprintf("%q where a condition is expected", t.text), Fix: "Property -operator 'value'"}
	}
	return &FilterError{Position: t.pos, Problem: fmt.Sprintf("%q where a property name is expected", t.text), Fix: "Property -operator 'value'"}
}

// condition: property operator value
func (p *filterParser) condition() error {
	prop := p.tokens[p.i]
	p.i++
	op := p.peek()
	if op == nil {
		return &FilterError{Position: p.end, Problem: fmt.Sprintf("%s has no operator", prop.text), Fix: prop.text + " -eq 'value'"}
	}
	if op.kind != "op" {
		return &FilterError{Position: op.pos, Problem: fmt.Sprintf("%q is not an operator after %s", op.text, prop.text),
			Fix: prop.text + " -eq 'value' (operators start with a hyphen: " + strings.Join(comparisonOperators, ", ") + ")"}
	}
	known := false
	for _, o := range comparisonOperators {
		known = known || op.text == o
	}
	if !known {
		return &FilterError{Position: op.pos, Problem: fmt.Sprintf("unknown operator %s", op.text),
			Fix: "one of " + strings.Join(comparisonOperators, ", ")}
	}
	p.i++
	v := p.peek()
	switch {
	case v == nil:
		return &FilterError{Position: p.end, Problem: fmt.Sprintf("%s %s has no value", prop.text, op.text), Fix: fmt.Sprintf("%s %s 'value'", prop.text, op.text)}
	case v.kind == "string", v.kind == "number":
	case v.kind == "const" && (v.text == "$true" || v.text == "$false" || v.text == "$null"):
	case v.kind == "word":
		return &FilterError{Position: v.pos, Problem: fmt.Sprintf("the value %s is not quoted", v.text),
			Fix: fmt.Sprintf("%s %s '%s'", prop.text, op.text, strings.ReplaceAll(v.text, "'", "''"))}
	case v.kind == "const":
		return &FilterError{Position: v.pos, Problem: fmt.Sprintf("%s is not a value (only $true, $false and $null are)", v.text),
			Fix: fmt.Sprintf("%s %s 'value'", prop.text, op.text)}
	default:
		return &FilterError{Position: v.pos, Problem: fmt.Sprintf("%q where the value of %s %s is expected", v.text, prop.text, op.text),
			Fix: fmt.Sprintf("%s %s 'value'", prop.text, op.text)}
	}
	p.i++
	return nil
}
