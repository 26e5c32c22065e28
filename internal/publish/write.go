package publish

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/restpush"
)

// writeRoutes puts b in place as the routes file, only when it changed,
// and reports whether it did. The temporary file is made in p.Stage (when
// set), outside the directory Traefik's file provider watches: that
// provider reads the whole directory again on every event in it, and the
// first event of a write starts its providersThrottleDuration, which then
// holds back the read of the renamed file (v3.6 pkg/provider/file:
// addWatcher calls applyConfiguration for every event of the directory;
// pkg/provider/aggregator: maybeThrottledProvide forwards a message, then
// sleeps the throttle). Staged, a write is one event, the rename. The file
// is 0600: label values with no file form in Traefik (credential header
// values, Redis's password) are in it, and only Traefik, running as the
// same user, reads it.
func (p *Publisher) writeRoutes(b []byte) (bool, error) {
	changed, err := atomicfile.WriteStaged(p.Path, p.Stage, b, 0o600)
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", p.Path, err)
	}
	return changed, nil
}

// deliver hands Deliver the configuration written, b read back: a held
// removal's union, which exists only as TOML (any other configuration is
// delivered as built, before it is written).
func (p *Publisher) deliver(b []byte) error {
	if p.Deliver == nil {
		return nil
	}
	var tree map[string]any
	if err := decodeTOML(b, &tree); err != nil {
		return fmt.Errorf("reading back the routes to deliver: %w", err)
	}
	return p.deliverTree(tree)
}

// deliverTree hands Deliver a configuration tree (read from a routes
// file) as JSON.
func (p *Publisher) deliverTree(tree map[string]any) error {
	if tree == nil {
		tree = map[string]any{} // an empty file: no routes, not null
	}
	body, err := restpush.AppendRoutes(nil, tree)
	if err != nil {
		return fmt.Errorf("encoding the routes as JSON: %w", err)
	}
	return p.Deliver(body)
}

// DeliverExisting hands Deliver the routes file an earlier run left (the
// durable copy), so that a Traefik started before Rancher answers gets
// them, as it would read them with the file provider. Without a file it
// does nothing.
func (p *Publisher) DeliverExisting() error {
	if p.Deliver == nil {
		return nil
	}
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", p.Path, err)
	}
	var tree map[string]any
	if err := decodeTOML(b, &tree); err != nil {
		return fmt.Errorf("reading %s: %w", p.Path, err)
	}
	return p.deliverTree(tree)
}
