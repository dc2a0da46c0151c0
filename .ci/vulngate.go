//go:build ignore

// vulngate fails CI when govulncheck finds a vulnerability that our code
// reaches and that .ci/vulnerabilities-accepted.txt does not list with a
// reason; it also fails when a listed one is no longer found, so the list
// never outlives its reasons.
//
//	govulncheck -format json ./... | go run .ci/vulngate.go .ci/vulnerabilities-accepted.txt
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: govulncheck -format json ./... | go run .ci/vulngate.go ACCEPTED_FILE")
		os.Exit(2)
	}
	accepted, err := readAccepted(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	reached := map[string]string{} // OSV id → where, and the fix
	dec := json.NewDecoder(os.Stdin)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: reading govulncheck's JSON:", err)
			os.Exit(2)
		}
		f := m.Finding
		// Only a trace that ends in a function is reached by our code;
		// module- and package-level findings are not.
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		fix := f.FixedVersion
		if fix == "" {
			fix = "no fix released"
		}
		reached[f.OSV] = fmt.Sprintf("%s@%s (%s.%s), fixed in: %s", f.Trace[0].Module, f.Trace[0].Version, f.Trace[0].Package, f.Trace[0].Function, fix)
	}
	var failures []string
	for _, id := range slices.Sorted(maps.Keys(reached)) {
		if reason, ok := accepted[id]; ok {
			fmt.Printf("accepted  %s  %s\n          because: %s\n", id, reached[id], reason)
			continue
		}
		failures = append(failures, fmt.Sprintf("NEW       %s  %s", id, reached[id]))
	}
	for id := range accepted {
		if _, ok := reached[id]; !ok {
			failures = append(failures, fmt.Sprintf("STALE     %s is listed in %s but no longer reached: remove it", id, os.Args[1]))
		}
	}
	sort.Strings(failures)
	for _, f := range failures {
		fmt.Println(f)
	}
	fmt.Printf("%d reachable vulnerabilities: %d accepted with a reason, %d to act on\n", len(reached), len(reached)-countNew(failures), countNew(failures))
	if len(failures) > 0 {
		os.Exit(1)
	}
}

func countNew(failures []string) int {
	n := 0
	for _, f := range failures {
		if strings.HasPrefix(f, "NEW") {
			n++
		}
	}
	return n
}

// readAccepted reads "ID reason…" lines; # starts a comment.
func readAccepted(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	out := map[string]string{}
	scanner := bufio.NewScanner(file)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, reason, _ := strings.Cut(text, " ")
		if reason = strings.TrimSpace(reason); reason == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason", path, line, id)
		}
		out[id] = reason
	}
	return out, scanner.Err()
}
