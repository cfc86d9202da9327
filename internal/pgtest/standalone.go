package pgtest

import "errors"

// Server is a throwaway PostgreSQL started outside a test binary (a local
// cluster for development, a benchmark): the same server Database starts,
// from Debian's binaries in a temporary directory, which Stop removes.
type Server struct {
	// URL is the administrative database's, as the postgres role.
	URL string
	s   *server
}

// Start starts a throwaway PostgreSQL on a free loopback port.
func Start() (*Server, error) {
	s, err := start()
	if err != nil {
		return nil, errors.Join(err, errors.New(InstallHint))
	}
	return &Server{URL: s.url, s: s}, nil
}

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() error { return s.s.stop() }
