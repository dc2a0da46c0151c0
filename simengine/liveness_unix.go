//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package simengine

import (
	"errors"
	"net"
	"syscall"
)

// connClosed tells whether the client has closed c, without reading from
// it or waiting: a peek on the non-blocking socket returns end of file
// (0 bytes), an error, or EAGAIN while the client is still there.
func connClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		// EINVAL: the connection is closed; anything else: no socket
		// to look at.
		return errors.Is(err, syscall.EINVAL)
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		switch {
		case rerr == nil:
			closed = n == 0
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
		default:
			closed = true
		}
		return true // never wait for data: this is a look, not a read
	})
	return closed || err != nil
}
