package sweep

import "os"

// ReadRunners reads and parses a runners file: a file that cannot be read
// or any problem in it (all of them, as Errors) is an error.
func ReadRunners(path string) (Runners, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Runners{}, err
	}
	runners, errs := ParseRunners(path, data)
	return runners, errs.Err()
}

// ReadSettings reads a settings file over the defaults; no path is the
// defaults.
func ReadSettings(path string) (Settings, error) {
	if path == "" {
		return DefaultSettings(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, err
	}
	settings, errs := ParseSettings(path, data)
	return settings, errs.Err()
}
