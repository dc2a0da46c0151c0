package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteCSV flattens rows through their JSON form: nested metrics
// become ttft_ms.median and so on, missing figures stay empty.
func WriteCSV[T any](w io.Writer, rows []T) error {
	var flat []map[string]string
	columns := map[string]bool{}
	for _, p := range rows {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		var generic map[string]any
		if err := json.Unmarshal(b, &generic); err != nil {
			return err
		}
		row := map[string]string{}
		flatten("", generic, row)
		for k := range row {
			columns[k] = true
		}
		flat = append(flat, row)
	}
	header := make([]string, 0, len(columns))
	for k := range columns {
		header = append(header, k)
	}
	sort.Strings(header)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range flat {
		record := make([]string, len(header))
		for i, k := range header {
			record[i] = row[k]
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func flatten(prefix string, v any, into map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, child, into)
		}
	case nil:
		into[prefix] = ""
	default:
		into[prefix] = strings.Trim(fmt.Sprint(t), " ")
	}
}
