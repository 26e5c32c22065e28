package routes

// dropResolver removes tls.certResolver=name from every HTTP and TCP
// router of one service's items, keeping their TLS (Options.DropResolver):
// a Traefik without that resolver then serves them with the certificates
// its files give, instead of logging a "nonexistent certificate resolver"
// error for each router at every configuration it applies.
func (f *fragment) dropResolver(name string) {
	for _, it := range f.items {
		if it.section == "routers" && (it.proto == "http" || it.proto == "tcp") {
			dropRouterResolver(it.val, name)
		}
	}
}

// dropRouterResolver removes tls.certResolver=name from one router.
func dropRouterResolver(router map[string]any, name string) {
	tls, _ := router["tls"].(map[string]any)
	if cr, ok := tls["certResolver"].(string); ok && cr == name {
		delete(tls, "certResolver")
	}
}
