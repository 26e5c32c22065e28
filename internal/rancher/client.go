package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client reads the metadata service. It is ours rather than
// go-rancher-metadata's: that client has a fixed 10 s HTTP timeout, shorter
// than a long-poll's maxWait plus the server's 5 s lateness, no context,
// and drags in an old logrus.
type Client struct {
	// Base is the versioned URL, e.g. http://rancher-metadata.rancher.internal/2016-07-29.
	Base string
	HTTP *http.Client // nil: a client without overall timeout (requests carry their own)
	// Timeout bounds a plain request; long-polls get maxWait + LongPollSlack.
	Timeout time.Duration

	root atomic.Bool // the stacks alone do not give the snapshot: read the root tree
	full atomic.Bool // the services take containers from the root list: decode it
	// services is the number of services of the last snapshot: the next
	// is decoded with room for as many.
	services atomic.Int64
}

// LongPollSlack is added to maxWait: the real server re-checks on a 5 s
// tick, so an unchanged long-poll can come back that much late.
const LongPollSlack = 10 * time.Second

// MaxBody bounds an answer (a large environment's tree is a few MB).
const MaxBody = 256 << 20

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) get(ctx context.Context, path string, timeout time.Duration) ([]byte, error) {
	var b []byte
	err := c.fetch(ctx, path, timeout, func(r io.Reader) (err error) {
		b, err = io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		return nil
	})
	return b, err
}

// fetch requests path and hands the body of a 200 answer (at most MaxBody)
// to read, within the request's timeout.
func (c *Client) fetch(ctx context.Context, path string, timeout time.Duration, read func(io.Reader) error) error {
	if timeout <= 0 {
		timeout = c.Timeout
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// The caller's deadline (start-up's TRAEFIK_RANCHER_WAIT) may be the
	// nearer one: the error names the limit that applied.
	limit := timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = max(time.Until(d), 0).Round(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := strings.TrimSuffix(c.Base, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("metadata request %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http().Do(req)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("metadata %s: %s: %w", redact(u), resp.Status, ErrNotFound)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("metadata %s: %s", redact(u), resp.Status)
		}
		err = read(io.LimitReader(resp.Body, MaxBody))
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("metadata %s: no answer within %s", redact(u), limit)
		}
		return fmt.Errorf("metadata %s: %w", redact(u), err)
	}
	return nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User = nil
	return p.String()
}

// Snapshot reads the version's services: its version, then its stacks
// (decodeStacks), which embed the services and their containers — a third
// of the root tree's bytes, which the server encodes anew on every request.
// The version is asked first: should the stacks be newer, the next
// long-poll answers at once and the snapshot is taken again.
//
// Where the stacks may not give what the root would (decodeStacks'
// errNeedsRoot, or no stacks at all), the whole tree is read in one
// request instead, and so is every answer after it: the root containers
// list skipped (decodeTree's lean mode) until an answer's services take
// containers from it (metadata 2015-07-25 names them); that answer is
// asked again, decoded in full, and so is every answer after it.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	snap, err := c.snapshot(ctx)
	if err == nil && snap != nil {
		c.services.Store(int64(len(snap.Services)))
	}
	return snap, err
}

// room is the number of services the next snapshot is decoded with room
// for: the last one's, and a few more for services added since.
func (c *Client) room() int {
	n := int(c.services.Load())
	return n + n/16
}

// snapshot is Snapshot, read from the stacks or the root tree.
func (c *Client) snapshot(ctx context.Context) (*Snapshot, error) {
	if !c.root.Load() {
		snap, err := c.stacksSnapshot(ctx)
		if !errors.Is(err, errNeedsRoot) && !errors.Is(err, ErrNotFound) {
			return snap, err
		}
		c.root.Store(true)
	}
	var snap *Snapshot
	read := func(lean bool) error {
		return c.fetch(ctx, "", 0, func(r io.Reader) (err error) {
			snap, err = decodeTreeSized(r, lean, 64<<10, c.room())
			return err
		})
	}
	if c.full.Load() {
		return snap, read(false)
	}
	err := read(true)
	if errors.Is(err, errNeedsRoot) {
		c.full.Store(true)
		err = read(false)
	}
	return snap, err
}

// stacksSnapshot reads /version, then /stacks.
func (c *Client) stacksSnapshot(ctx context.Context) (*Snapshot, error) {
	b, err := c.get(ctx, "/version", 0)
	if err != nil {
		return nil, err
	}
	var version string
	if err := json.Unmarshal(b, &version); err != nil || version == "" {
		return nil, fmt.Errorf("metadata /version: not a version (a non-empty JSON string)")
	}
	var snap *Snapshot
	err = c.fetch(ctx, "/stacks", 0, func(r io.Reader) (err error) {
		snap, err = decodeStacksSized(r, version, c.room())
		return err
	})
	return snap, err
}

// WaitVersion long-polls /version until it differs from old or maxWait
// seconds pass, and returns the version then.
func (c *Client) WaitVersion(ctx context.Context, old string, maxWait int) (string, error) {
	q := url.Values{"wait": {"true"}, "value": {old}, "maxWait": {strconv.Itoa(maxWait)}}
	b, err := c.get(ctx, "/version?"+q.Encode(), time.Duration(maxWait)*time.Second+LongPollSlack)
	if err != nil {
		return "", err
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("metadata /version: not a JSON string")
	}
	return v, nil
}
