package loadgen

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, r io.Reader, bufSize int) ([]string, error) {
	t.Helper()
	s := newSSEReader(r, bufSize)
	var out []string
	for {
		p, err := s.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, string(p))
	}
}

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	tests := []struct {
		name   string
		stream string
		want   []string
	}{
		{"space after colon", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, "[DONE]"}},
		{"no space after colon", "data:{\"a\":1}\n\n", []string{`{"a":1}`}},
		{"crlf", "data: one\r\n\r\ndata: two\r\n\r\n", []string{"one", "two"}},
		{"comments and other fields", ": ping\n\nevent: message\nid: 7\ndata: x\n\n", []string{"x"}},
		{"last line without newline", "data: a\n\ndata: b", []string{"a", "b"}},
		{"line far beyond the buffer", "data: " + long + "\n\ndata: after\n\n", []string{long, "after"}},
		{"empty stream", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, reader := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tt.stream)},
				// Events split across network reads at every byte.
				{"one byte per read", iotest.OneByteReader(strings.NewReader(tt.stream))},
			} {
				got, err := readAll(t, reader.r, 16)
				require.NoError(t, err, reader.name)
				// Compare lengths first so a failure does not print 200 kB.
				require.Equal(t, len(tt.want), len(got), reader.name)
				for i := range tt.want {
					require.True(t, tt.want[i] == got[i], "%s: payload %d differs (len %d vs %d)", reader.name, i, len(tt.want[i]), len(got[i]))
				}
			}
		})
	}
}

func TestSSEReaderErrors(t *testing.T) {
	reset := errors.New("connection reset by peer")
	got, err := readAll(t, io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(reset)), 64)
	require.ErrorIs(t, err, reset)
	require.Equal(t, []string{"a"}, got)
}
