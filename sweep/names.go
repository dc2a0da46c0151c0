package sweep

import (
	"fmt"
	"regexp"
	"strings"
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckName refuses a name that is not safe as one component of an object
// key or a queue name: runner labels, node names and sweep ids become
// hardware=<label>/sweep=<id>/… in the lake, and "../x" or "a/b" there
// would write outside the sweep's prefix.
func CheckName(what, name string) error {
	if !namePattern.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%s %q: want letters, digits, '.', '_' and '-' (no '..'), starting with a letter or digit, at most 128", what, name)
	}
	return nil
}
