package workers

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMasks: enough of a secret to tell two apart, never enough to use;
// a webhook keeps its host so a user sees where alerts go.
func TestMasks(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unset", "", "(none)"},
		{"short secret hides everything", "hunter2", "****"},
		{"long secret keeps its last four", "AKIAEXAMPLEKEY1234", "****1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, mask(tt.in)) })
	}
	urls := []struct{ name, in, want string }{
		{"unset", "", ""},
		{"slack webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "https://hooks.slack.com/****XXXX"},
		{"not a URL", "hooks-token-0123456789", "****6789"},
	}
	for _, tt := range urls {
		t.Run("url "+tt.name, func(t *testing.T) { require.Equal(t, tt.want, maskURL(tt.in)) })
	}
}
