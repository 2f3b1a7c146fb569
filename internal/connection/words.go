package connection

import "strconv"

// Count is n with its noun in the right number: "1 permission", "2 mailboxes".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
