//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package simengine

import (
	"errors"
	"net"
	"os"
	"time"
)

// connClosed tells whether the client has closed c. Without a portable
// peek, it reads with a deadline a millisecond away: a client waiting for
// its stream sends nothing, so only end of file or an error come back.
func connClosed(c net.Conn) bool {
	if err := c.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return true
	}
	var b [1]byte
	_, err := c.Read(b[:])
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
