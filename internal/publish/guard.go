package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/tomlenc"
)

// The outage guard. An answer that removes Guard (a fraction) of the
// routers last applied, or more, is a mass removal: what a metadata service
// that restarts or resyncs serves for a while (an empty or partial tree),
// as often as what an operator does. It is held for GuardHold:
//
//   - meanwhile the file holds the answer plus the routes it would remove,
//     as they were: whatever the answer says about the services it still
//     lists (a container added, one stopped, a new service) goes live at
//     once; only the removal waits;
//   - an answer that no longer removes that many cancels it (Rancher is
//     back);
//   - at the end of the hold the source is asked again, and a removal that
//     still stands is applied — once.
//
// A mass removal used to be applied when the next answer agreed, fetched
// about a second later: a metadata service serving an empty tree for a
// little longer than that wiped every route.

// heldRemoval is a mass removal being held.
type heldRemoval struct {
	since, until time.Time
}

// verdict is what the guard makes of one answer.
type verdict struct {
	union   bool         // publish the answer plus the routes it would remove (unionHeld)
	held    *heldRemoval // the hold after publishing it; nil: none
	applied bool         // the answer is published as it is: it becomes the baseline
	note    func(*slog.Logger)
}

// judge compares answer with the last configuration applied in full.
func (p *Publisher) judge(answer *routes.Encoded) verdict {
	removed := p.goodIndex.missing(answer)
	baseline := p.goodIndex.routers
	now := p.clock()
	h := p.held
	mass := p.massRemoval(len(removed), len(baseline))
	switch {
	case !mass && h == nil:
		return verdict{applied: true}
	case !mass:
		return verdict{applied: true, note: func(log *slog.Logger) {
			log.Info("an answer restores the routes: the held removal is cancelled", "held", since(h.since, now))
		}}
	case h == nil:
		h = &heldRemoval{since: now, until: now.Add(p.GuardHold)}
		return verdict{union: true, held: h, note: func(log *slog.Logger) {
			log.Warn("an answer removes TRAEFIK_RANCHER_GUARD of the routes or more: keeping them for TRAEFIK_RANCHER_GUARD_HOLD in case Rancher is restarting or resyncing; the removal applies then if Rancher still says so",
				"removes", len(removed), "of", len(baseline), "hold", p.GuardHold.String(), "applies_at", h.until.Format(time.RFC3339), "removed_names", names(removed))
		}}
	case now.Before(h.until):
		return verdict{union: true, held: h, note: func(log *slog.Logger) {
			log.Debug("the removal is still held", "removes", len(removed), "of", len(baseline), "applies_at", h.until.Format(time.RFC3339))
		}}
	default:
		return verdict{applied: true, note: func(log *slog.Logger) {
			log.Warn("the removal still stands at the end of the hold: applying it", "removes", len(removed), "of", len(baseline), "held", since(h.since, now))
		}}
	}
}

// massRemoval reports whether removing n of total routers is held. At the
// threshold counts: half of two routers is one.
func (p *Publisher) massRemoval(n, total int) bool {
	if p.Guard <= 0 || p.GuardHold <= 0 || total == 0 || n == 0 {
		return false
	}
	// A little slack for the float: 0.3 of 10 is 3, not 3.0000000000000004.
	return float64(n) >= p.Guard*float64(total)-1e-9
}

// unionHeld is answer (encoded) plus every item of the configuration the
// hold began on that the answer lacks: the routers a held removal would
// remove, with their services and middlewares, as they were. Items of the
// answer win (a service still listed is published as Rancher says it is
// now). Items are named after their Rancher service, so an item the answer
// lacks belongs to a service it no longer lists.
//
// That configuration is the file when the hold begins (the last answer
// applied in full, the baseline, is what the file holds until then); it is
// read then and kept for the hold only, so no configuration tree outlives
// a publish.
func (p *Publisher) unionHeld(answer []byte) ([]byte, error) {
	if p.heldFile == nil {
		b, err := os.ReadFile(p.Path)
		if err != nil {
			return nil, fmt.Errorf("reading the routes to keep while a removal is held: %w", err)
		}
		p.heldFile = b
	}
	out, err := tomlenc.MergeTables(p.heldFile, answer, 3) // protocol, section, item name
	if !errors.Is(err, tomlenc.ErrNotTables) {
		return out, err
	}
	// Not our encoding (a file left by another version): merge the trees.
	var kept, now map[string]any
	if err := decodeTOML(p.heldFile, &kept); err != nil {
		return nil, fmt.Errorf("decoding the routes to keep while a removal is held: %w", err)
	}
	if err := decodeTOML(answer, &now); err != nil {
		return nil, err
	}
	return routes.Encode(merge(kept, now, 3))
}

// merge returns answer with the keys of kept it lacks; over depth levels,
// maps present in both are merged the same way. Neither is modified.
func merge(kept, answer map[string]any, depth int) map[string]any {
	out := make(map[string]any, max(len(answer), len(kept)))
	for k, v := range answer {
		out[k] = v
	}
	for k, kv := range kept {
		av, has := out[k]
		if !has {
			out[k] = kv
			continue
		}
		km, kok := kv.(map[string]any)
		am, aok := av.(map[string]any)
		if depth > 1 && kok && aok {
			out[k] = merge(km, am, depth-1)
		}
	}
	return out
}

func (p *Publisher) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func since(t, now time.Time) string { return now.Sub(t).Round(time.Millisecond).String() }
