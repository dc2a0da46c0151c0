package launch

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeCLI records commands and answers from a script of prefix → output.
type fakeCLI struct {
	mu       sync.Mutex
	commands []string
	answer   func(cmd string) (string, error)
}

func (f *fakeCLI) Run(_ context.Context, name string, args ...string) (string, error) {
	cmd := name + " " + strings.Join(args, " ")
	f.mu.Lock()
	f.commands = append(f.commands, cmd)
	f.mu.Unlock()
	return f.answer(cmd)
}

func healthyEngine(t *testing.T) (port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func TestShellJoinQuotes(t *testing.T) {
	require.Equal(t, `srun 'a b' 'it'\''s' plain`, shellJoin([]string{"srun", "a b", "it's", "plain"}))
}
