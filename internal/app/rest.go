package app

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"

	"path/filepath"
	"strconv"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/render"
	"rancher-traefik/internal/restpush"
)

// restFile routes Traefik's REST provider (TRAEFIK_ROUTES_DELIVERY=rest).
const restFile = "rancher-traefik-rest.toml"

// restUser is the user of the REST entry point's basic auth.
const restUser = "rancher-traefik"

// restDelivery is a run's part of TRAEFIK_ROUTES_DELIVERY=rest: the REST
// entry point's loopback port and credential, made once per run (a
// restarted Traefik gets the same), and the pusher that uses them.
type restDelivery struct {
	port     int
	password string // never logged
	pusher   *restpush.Pusher
}

// newRESTDelivery chooses a free loopback port for the REST entry point
// and makes the credential: 32 random bytes, kept in memory; the users
// file holds its hash only.
func newRESTDelivery(log *slog.Logger) (*restDelivery, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, Kind(ErrConfig, fmt.Errorf("TRAEFIK_ROUTES_DELIVERY=rest: choosing the REST entry point's port: %w", err))
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("TRAEFIK_ROUTES_DELIVERY=rest: making the credential: %w", err)
	}
	d := &restDelivery{port: port, password: hex.EncodeToString(secret)}
	d.pusher = &restpush.Pusher{
		URL:  "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + restpush.Path,
		User: restUser, Password: d.password, Log: log,
		// Loopback, never through a proxy of the environment.
		Client: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: restPushTimeout},
	}
	return d, nil
}

// restPushTimeout bounds one push: a 10,000-service configuration is a
// few MB each way, decoded by a Traefik that may be busy applying.
const restPushTimeout = 30 * time.Second

// freeLoopbackPort is a TCP port nothing listens on at 127.0.0.1 now.
// Traefik binds it a moment later; inside a container's network namespace
// nothing else takes it meanwhile.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// entryPoint is the static configuration's REST entry point.
func (d *restDelivery) entryPoint() *render.REST {
	if d == nil {
		return nil
	}
	return render.NewREST(d.port)
}

// restPlaceholder is the REST entry point printed or checked outside a
// run (render --stdout, check): a run chooses its port as it starts.
func restPlaceholder(cfg *config.Config) *render.REST {
	if !cfg.RESTDelivery() {
		return nil
	}
	return render.NewREST(0)
}

// restUsersLine is the htpasswd line of the credential: {SHA}, which
// Traefik's basicAuth checks in microseconds (bcrypt would cost each push
// tens of milliseconds). A fast hash is no weakness here: the password is
// 256 random bits, beyond any guessing, and the file is 0600.
func restUsersLine(password string) string {
	sum := sha1.Sum([]byte(password))
	return restUser + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
}

// writeREST writes, with TRAEFIK_ROUTES_DELIVERY=rest, the credential's
// users file and restFile; otherwise it removes them. The routes file of
// the other delivery is moved where this one keeps it (a switch keeps the
// routes for the first start), or removed when both are there:
// rancher.toml in the watched directory would serve the routes a second
// time beside the pushed ones.
func writeREST(cfg *config.Config, r render.Renderer, d *restDelivery) error {
	path := filepath.Join(cfg.DynamicDir(), restFile)
	inDir, outside := filepath.Join(cfg.DynamicDir(), "rancher.toml"), filepath.Join(cfg.Home, "etc", "rancher.toml")
	if d == nil {
		for _, f := range []string{path, cfg.RESTUsersFile()} {
			if err := removeIfExists(f); err != nil {
				return err
			}
		}
		return moveRoutes(outside, inDir)
	}
	if err := moveRoutes(inDir, outside); err != nil {
		return err
	}
	if _, err := atomicfile.Write(cfg.RESTUsersFile(), []byte(restUsersLine(d.password)), 0o600); err != nil {
		return Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	_, err := writeOrRemove(r, cfg.StagingDir(), path, render.RESTTemplate, render.RESTData{UsersFile: render.String(cfg.RESTUsersFile())}, true)
	return err
}

// moveRoutes moves the routes file from to to when to is missing, and
// removes from otherwise.
func moveRoutes(from, to string) error {
	if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(to); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(from, to); err != nil {
			return Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: moving the routes for TRAEFIK_ROUTES_DELIVERY: %w", err))
		}
		return nil
	}
	return removeIfExists(from)
}

// started is the supervisor's Started: with REST delivery, every Traefik
// started gets the routes pushed as soon as it answers.
func (d *restDelivery) started() func() {
	if d == nil {
		return nil
	}
	return d.pusher.Restarted
}

// restPort is the REST entry point's port, 0 without REST delivery.
func (d *restDelivery) restPort() int {
	if d == nil {
		return 0
	}
	return d.port
}

// restDeliveryOf is the run's REST delivery with
// TRAEFIK_ROUTES_DELIVERY=rest, nil otherwise.
func restDeliveryOf(cfg *config.Config, log *slog.Logger) (*restDelivery, error) {
	if !cfg.RESTDelivery() {
		return nil, nil
	}
	return newRESTDelivery(log)
}
