package handover

import "golang.org/x/sys/unix"

// unixDetach removes a group's steering program.
func unixDetach(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_REUSEPORT_BPF, 0)
}
