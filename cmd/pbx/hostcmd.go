package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"pbx/api"
	"pbx/store"
)

// dataFlags are the flags of the commands that work on a data directory
// from the host (selftest, token): the same names and PBX_* fallbacks as
// `pbx serve`, so the directory and database a server runs on are found.
type dataFlags struct {
	DataDir, DB string
}

func (d *dataFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	def := func(name, v string) string {
		if e := getenv(name); e != "" {
			return e
		}
		return v
	}
	fs.StringVar(&d.DataDir, "data", def("PBX_DATA", "data"), "data directory of the server [PBX_DATA]")
	fs.StringVar(&d.DB, "db", def("PBX_DB", ""), "the server's postgres:// URL, or empty for SQLite in the data directory [PBX_DB]")
}

// open opens the store of an existing data directory. It never creates a
// key: a directory without one belongs to no server, and a new key would
// make the passwords of an existing database unreadable.
func (d dataFlags) open(ctx context.Context) (*store.Store, error) {
	key, err := os.ReadFile(filepath.Join(d.DataDir, "secret.key"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no secret.key: is it the --data directory of a server that has started once?", d.DataDir)
	}
	if err != nil {
		return nil, err
	}
	if d.DB != "" && !store.IsPostgresURL(d.DB) {
		return nil, fmt.Errorf("--db %s: want a postgres:// URL", store.RedactURL(d.DB))
	}
	path := filepath.Join(d.DataDir, "pbx.db")
	if d.DB == "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database in %s: %w", d.DataDir, err)
		}
	}
	return store.Open(ctx, store.Options{Path: path, URL: d.DB, SecretKey: key})
}

// tokenCommand is `pbx token create --admin`: it mints an admin API token
// straight into the database of a data directory, for an operator who lost
// the printed one. It works from the host only, never over the network:
// whoever can read the data directory holds every secret anyway.
func tokenCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: pbx token create --admin [--name NAME] [--data DIR] [--db URL]")
	}
	fs := flag.NewFlagSet("pbx token create", flag.ContinueOnError)
	var df dataFlags
	df.register(fs, getenv)
	admin := fs.Bool("admin", false, "an admin token (the only kind made here; tenant tokens are made over the API)")
	name := fs.String("name", "host", "a name for the token, to tell it apart")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !*admin {
		return errors.New("pbx token create: say --admin (tenant tokens are made over the API)")
	}
	st, err := df.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := api.IssueToken(ctx, st, store.ScopeAdmin, "", *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Admin API token (shown once): %s\n", secret)
	return nil
}
