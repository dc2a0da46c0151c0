// Package devstacktest starts the embedded stack for tests of other
// packages, so each test states what it runs rather than how the stack
// comes up and goes away.
package devstacktest

import (
	"context"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/infersweep/infersweep/devstack"
)

// Start runs an in-memory stack (Temporal, Web UI, S3 store) until the
// test ends.
func Start(ctx context.Context, tb testing.TB) *devstack.Stack {
	tb.Helper()
	stack, err := devstack.Start(ctx, devstack.Options{Ephemeral: true})
	if err != nil {
		tb.Fatalf("start the embedded stack: %v", err)
	}
	tb.Cleanup(func() { _ = stack.Stop(context.WithoutCancel(ctx)) })
	return stack
}

// Dial is a Temporal client of stack, closed when the test ends.
func Dial(ctx context.Context, tb testing.TB, stack *devstack.Stack) client.Client {
	tb.Helper()
	c, err := stack.Dial(ctx)
	if err != nil {
		tb.Fatalf("dial the embedded Temporal server: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}
