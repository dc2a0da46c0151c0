package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// onTerminal tells whether w is a terminal: progress is drawn there only,
// never into a file or a pipe a script reads.
func onTerminal(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// countBar draws "<what> [███░░░] done/total <unit> <detail>, elapsed"
// in place on w, from the first call two seconds after started: a task
// that ends sooner draws nothing. clearBar wipes the line when it is done.
func countBar(w io.Writer, what, unit string, started time.Time) func(done, total int, detail string) {
	return func(done, total int, detail string) {
		elapsed := time.Since(started)
		if elapsed < 2*time.Second || total <= 0 {
			return
		}
		const width = 30
		filled := width * min(done, total) / total
		if detail != "" {
			unit += " " + detail
		}
		fmt.Fprintf(w, "\r\033[K%s [%s%s] %d/%d %s, %s", what, strings.Repeat("█", filled), strings.Repeat("░", width-filled),
			done, total, unit, elapsed.Truncate(time.Second))
	}
}

func clearBar(w io.Writer) { fmt.Fprint(w, "\r\033[K") }
