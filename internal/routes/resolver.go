package routes

// DropResolver removes tls.certResolver=name from every HTTP and TCP router
// of cfg (a Result's Config), keeping their TLS: a Traefik without that
// resolver then serves them with the certificates its files give, instead
// of logging a "nonexistent certificate resolver" error for each router
// at every configuration it applies. It returns how many it removed.
func DropResolver(cfg map[string]any, name string) int {
	n := 0
	for _, proto := range []string{"http", "tcp"} {
		sec, _ := cfg[proto].(map[string]any)
		routers, _ := sec["routers"].(map[string]any)
		for _, r := range routers {
			rm, _ := r.(map[string]any)
			tls, _ := rm["tls"].(map[string]any)
			if cr, ok := tls["certResolver"].(string); ok && cr == name {
				delete(tls, "certResolver")
				n++
			}
		}
	}
	return n
}
