package routes

// DropResolver removes tls.certResolver=name from every HTTP and TCP router
// of cfg (a Result's Config), keeping their TLS: a Traefik without that
// resolver then serves them with the certificates its files give, instead
// of logging a "nonexistent certificate resolver" error for each router
// at every configuration it applies. It returns how many it removed.
// Options.DropResolver does the same while a build translates each
// service.
func DropResolver(cfg map[string]any, name string) int {
	n := 0
	for _, proto := range []string{"http", "tcp"} {
		sec, _ := cfg[proto].(map[string]any)
		routers, _ := sec["routers"].(map[string]any)
		for _, r := range routers {
			if rm, _ := r.(map[string]any); dropRouterResolver(rm, name) {
				n++
			}
		}
	}
	return n
}

// dropResolver is DropResolver for one service's items.
func (f *fragment) dropResolver(name string) {
	for _, it := range f.items {
		if it.section == "routers" && (it.proto == "http" || it.proto == "tcp") {
			dropRouterResolver(it.val, name)
		}
	}
}

// dropRouterResolver removes tls.certResolver=name from one router, and
// reports whether it did.
func dropRouterResolver(router map[string]any, name string) bool {
	tls, _ := router["tls"].(map[string]any)
	if cr, ok := tls["certResolver"].(string); ok && cr == name {
		delete(tls, "certResolver")
		return true
	}
	return false
}
