package routes

import (
	"net"
	"net/netip"
)

func validCIDR(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func hostPort(host, port string) string { return net.JoinHostPort(host, port) }
