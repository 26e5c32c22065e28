package app

import "rancher-traefik/internal/config"

// Render prepares every file Traefik needs (see Prepare) and exits; with
// toStdout it writes nothing and prints traefik.toml instead, once the
// certificates are found usable.
func (a *App) Render(toStdout bool) error {
	cfg, log, err := a.LoadConfig()
	a.warnUnknown(log)
	if err != nil {
		return err
	}
	if toStdout {
		if _, _, problems := loadTLS(cfg); len(problems) > 0 {
			return Kind(ErrTLS, &config.Error{Problems: problems})
		}
		b, err := renderStatic(cfg, a.Version, true, restPlaceholder(cfg))
		if err != nil {
			return err
		}
		_, err = a.Stdout.Write(b)
		return err
	}
	if _, err := a.Prepare(cfg, log); err != nil {
		return err
	}
	log.Info("configuration written", "file", cfg.StaticFile(), "dynamic", cfg.DynamicDir())
	return nil
}
