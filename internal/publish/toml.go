package publish

import "github.com/BurntSushi/toml"

func decodeTOML(b []byte, v any) error {
	_, err := toml.Decode(string(b), v)
	return err
}
