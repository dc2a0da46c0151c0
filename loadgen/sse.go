package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one SSE line. Real chunks are a few hundred bytes; a
// 50K-token echo of the prompt can reach megabytes, which must still parse
// (a fixed 64 KB buffer once collapsed another client's throughput).
const maxEventBytes = 64 << 20

// sseReader yields the payloads of `data:` lines from an event stream. It
// accepts "data:" with or without a space, CRLF or LF endings, comment
// lines, and lines of any length up to maxEventBytes; a line split across
// network reads is reassembled by bufio.
type sseReader struct {
	r    *bufio.Reader
	long []byte // reassembly buffer for lines longer than r's buffer
}

func newSSEReader(r io.Reader, bufSize int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, bufSize)}
}

var errEventTooLong = fmt.Errorf("stream line longer than %d bytes", maxEventBytes)

// next returns the payload of the next data line. The slice is valid until
// the following call. io.EOF means the stream ended cleanly between lines.
func (s *sseReader) next() ([]byte, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, err
		}
		payload, ok := dataPayload(line)
		if ok {
			return payload, nil
		}
	}
}

func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.r.ReadSlice('\n')
			if len(s.long)+len(line) > maxEventBytes {
				return nil, errEventTooLong
			}
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	switch {
	case err == nil:
		return line, nil
	case err == io.EOF && len(line) > 0:
		// A last line without its newline still counts.
		return line, nil
	}
	return nil, err
}

var dataPrefix = []byte("data:")

// dataPayload strips the field name, one optional space and the line end.
// Comments (":…"), blank lines and other fields (event:, id:) yield false.
func dataPayload(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, dataPrefix) {
		return nil, false
	}
	p := line[len(dataPrefix):]
	if len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p, true
}
