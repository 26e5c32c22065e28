package publish

import (
	"fmt"
	"strings"
)

// maxNames bounds the router names one log line lists: at 10,000 services
// a full list made a 169,198-character line, which Docker's json-file
// driver splits at 16 KB and log shippers truncate. Counts are always
// complete.
const maxNames = 20

// logChange logs one line for a change of the file from old to now:
// counts, and the names of the routers added, removed and changed (up to
// maxNames each). Names and counts only: label values (basic-auth hashes)
// stay out.
func (p *Publisher) logChange(version string, old, now routerIndex) {
	added, removed, modified := compare(old, now)
	attrs := []any{"version", version, "routers", len(now.routers), "servers", now.servers,
		"added", len(added), "removed", len(removed), "changed", len(modified)}
	for _, l := range []struct {
		key   string
		names []string
	}{{"added_names", added}, {"removed_names", removed}, {"changed_names", modified}} {
		if len(l.names) > 0 {
			attrs = append(attrs, l.key, names(l.names))
		}
	}
	p.log().Info("routes changed", attrs...)
}

// names lists up to maxNames names, then says how many more there are.
func names(list []string) string {
	if len(list) <= maxNames {
		return strings.Join(list, ",")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:maxNames], ","), len(list)-maxNames)
}
