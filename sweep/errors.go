package sweep

import "github.com/infersweep/infersweep/specyaml"

// Error and Errors are specyaml's, named here too because loading a plan
// is where most callers meet them.
type (
	Error  = specyaml.Error
	Errors = specyaml.Errors
)

// reporter is specyaml's, extended with the readers of master configs,
// runners and changelogs.
type reporter struct{ specyaml.Reporter }
