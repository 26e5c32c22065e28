package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Self is what the metadata service says about the container asking
// (/self/container) and its service (/self/service): the members a
// cluster-wide choice is made among. The real server chooses self by the
// request's source address (rancher-metadata's answers are keyed by client
// IP), so every instance of a global service sees itself.
type Self struct {
	Container Member
	// Service is stack/service.
	Service string
	// Global: the service runs one container on every host that matches
	// (label io.rancher.scheduler.global=true).
	Global bool
	// Scale is the service's scale (0 for a global service in Rancher).
	Scale   int
	Members []Member
}

// Member is one container of a service, with what choosing among them
// needs.
type Member struct {
	Name        string
	UUID        string
	PrimaryIP   string
	State       string
	HealthState string
	// CreateIndex orders the containers of a service by creation: Rancher
	// gives each new container the next one, and keeps it for the
	// container's life.
	CreateIndex int64
}

// ErrNoSelf: the metadata service has no container for the address that
// asks (not running in Rancher, or on a network Rancher does not manage).
var ErrNoSelf = errors.New("the metadata service has no container for this address (not running in Rancher?)")

// GlobalLabel is the scheduler label of a global service (one container a
// host), as Rancher 1.6's catalog writes it.
const GlobalLabel = "io.rancher.scheduler.global"

type wireMember struct {
	Name        *string `json:"name"`
	UUID        *string `json:"uuid"`
	PrimaryIP   *string `json:"primary_ip"`
	State       *string `json:"state"`
	HealthState *string `json:"health_state"`
	CreateIndex *int64  `json:"create_index"`
}

func (w *wireMember) model() Member {
	m := Member{Name: str(w.Name), UUID: str(w.UUID), PrimaryIP: str(w.PrimaryIP), State: str(w.State), HealthState: str(w.HealthState)}
	if w.CreateIndex != nil {
		m.CreateIndex = *w.CreateIndex
	}
	return m
}

type wireSelfService struct {
	Name       *string           `json:"name"`
	StackName  *string           `json:"stack_name"`
	Scale      *int              `json:"scale"`
	Labels     map[string]any    `json:"labels"`
	Containers []json.RawMessage `json:"containers"`
}

// ReadSelf reads /self/container and /self/service. Containers listed by
// name (metadata 2015-07-25) are an error: the choice needs their state
// and creation order.
func (c *Client) ReadSelf(ctx context.Context) (*Self, error) {
	b, err := c.get(ctx, "/self/container", 0)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("metadata /self/container: %w", ErrNoSelf)
	}
	if err != nil {
		return nil, err
	}
	var me wireMember
	if err := json.Unmarshal(b, &me); err != nil {
		return nil, fmt.Errorf("metadata /self/container: %w", err)
	}
	if me.UUID == nil || *me.UUID == "" {
		return nil, fmt.Errorf("metadata /self/container: %w", ErrNoSelf)
	}
	b, err = c.get(ctx, "/self/service", 0)
	if err != nil {
		return nil, err
	}
	return DecodeSelf(me.model(), b)
}

// DecodeSelf decodes a /self/service answer for the container me.
func DecodeSelf(me Member, service []byte) (*Self, error) {
	var sv wireSelfService
	if err := json.Unmarshal(service, &sv); err != nil {
		return nil, fmt.Errorf("metadata /self/service: %w", err)
	}
	s := &Self{Container: me, Service: str(sv.StackName) + "/" + str(sv.Name)}
	if sv.Scale != nil {
		s.Scale = *sv.Scale
	}
	s.Global = labels(sv.Labels)[GlobalLabel] == "true"
	for i, raw := range sv.Containers {
		if len(raw) > 0 && raw[0] == '"' {
			return nil, fmt.Errorf("metadata /self/service: containers are listed by name (metadata version 2015-07-25): use 2015-12-19 or later in TRAEFIK_RANCHER_METADATA_URL")
		}
		var w wireMember
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("metadata /self/service: container %d: %w", i, err)
		}
		s.Members = append(s.Members, w.model())
	}
	return s, nil
}

// str is *p, or "" for a null.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
