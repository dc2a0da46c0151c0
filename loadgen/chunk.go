package loadgen

import (
	"errors"
	"fmt"
)

// chunk is what the recorder needs from one streamed JSON object. Reading
// it costs no allocation: the scanner walks the top-level members and skips
// every value it does not need, instead of decoding the whole object.
type chunk struct {
	done             bool // the "[DONE]" sentinel
	hasChoices       bool // "choices" is a non-empty array: a content chunk
	hasUsage         bool
	promptTokens     int
	completionTokens int
	errText          []byte // raw JSON of an error member; nil when none
}

var errMalformedChunk = errors.New("malformed JSON chunk")

var doneSentinel = []byte("[DONE]")

func scanChunk(p []byte) (chunk, error) {
	var c chunk
	i := skipSpace(p, 0)
	if string(p[i:]) == string(doneSentinel) {
		c.done = true
		return c, nil
	}
	if i >= len(p) || p[i] != '{' {
		return c, fmt.Errorf("%w: want an object, got %q", errMalformedChunk, clip(p))
	}
	var objectIsError bool
	var message []byte
	i++
	for {
		i = skipSpace(p, i)
		if i < len(p) && p[i] == '}' {
			break
		}
		keyStart, keyEnd, next, err := scanString(p, i)
		if err != nil {
			return c, err
		}
		i = skipSpace(p, next)
		if i >= len(p) || p[i] != ':' {
			return c, fmt.Errorf("%w: no ':' after key in %q", errMalformedChunk, clip(p))
		}
		i = skipSpace(p, i+1)
		valueStart := i
		if i, err = skipValue(p, i); err != nil {
			return c, err
		}
		value := p[valueStart:i]
		switch string(p[keyStart:keyEnd]) {
		case "choices":
			c.hasChoices = len(value) > 0 && value[0] == '[' && p[skipSpace(p, valueStart+1)] != ']'
		case "usage":
			if len(value) > 0 && value[0] == '{' {
				c.hasUsage = true
				if err := scanUsage(value, &c); err != nil {
					return c, err
				}
			}
		case "error":
			if string(value) != "null" {
				c.errText = value
			}
		case "object":
			objectIsError = string(value) == `"error"`
		case "message":
			message = value
		}
		i = skipSpace(p, i)
		if i < len(p) && p[i] == ',' {
			i++
			continue
		}
		if i < len(p) && p[i] == '}' {
			break
		}
		return c, fmt.Errorf("%w: want ',' or '}' in %q", errMalformedChunk, clip(p))
	}
	// vLLM's error object is {"object":"error","message":…}.
	if objectIsError && c.errText == nil {
		c.errText = message
		if c.errText == nil {
			c.errText = p
		}
	}
	return c, nil
}

func scanUsage(obj []byte, c *chunk) error {
	i := 1
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return nil
		}
		keyStart, keyEnd, next, err := scanString(obj, i)
		if err != nil {
			return err
		}
		i = skipSpace(obj, next)
		if i >= len(obj) || obj[i] != ':' {
			return fmt.Errorf("%w: usage member without ':'", errMalformedChunk)
		}
		i = skipSpace(obj, i+1)
		valueStart := i
		if i, err = skipValue(obj, i); err != nil {
			return err
		}
		switch string(obj[keyStart:keyEnd]) {
		case "prompt_tokens":
			c.promptTokens = parseNonNegativeInt(obj[valueStart:i])
		case "completion_tokens":
			c.completionTokens = parseNonNegativeInt(obj[valueStart:i])
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}

// parseNonNegativeInt reads a JSON integer; anything else (null, a
// fraction) reads as -1 so the caller falls back to counting chunks.
func parseNonNegativeInt(b []byte) int {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return -1
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the bounds of the string's contents (escapes left as
// they are) and the index after its closing quote.
func scanString(p []byte, i int) (start, end, next int, err error) {
	if i >= len(p) || p[i] != '"' {
		return 0, 0, 0, fmt.Errorf("%w: want a string at byte %d of %q", errMalformedChunk, i, clip(p))
	}
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return i + 1, j, j + 1, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("%w: unterminated string in %q", errMalformedChunk, clip(p))
}

// skipValue returns the index just after the JSON value starting at i.
func skipValue(p []byte, i int) (int, error) {
	if i >= len(p) {
		return 0, fmt.Errorf("%w: missing value in %q", errMalformedChunk, clip(p))
	}
	switch p[i] {
	case '"':
		_, _, next, err := scanString(p, i)
		return next, err
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				_, _, next, err := scanString(p, j)
				if err != nil {
					return 0, err
				}
				j = next - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unbalanced brackets in %q", errMalformedChunk, clip(p))
	default:
		j := i
		for j < len(p) && p[j] != ',' && p[j] != '}' && p[j] != ']' && p[j] != ' ' && p[j] != '\t' && p[j] != '\r' && p[j] != '\n' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("%w: empty value at byte %d of %q", errMalformedChunk, i, clip(p))
		}
		return j, nil
	}
}

// clip shortens a payload for an error message.
func clip(p []byte) string {
	const max = 200
	if len(p) > max {
		return string(p[:max]) + "…"
	}
	return string(p)
}
