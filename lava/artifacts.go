package lava

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"
	"time"
)

// ArtifactServer serves a submission's files (the agent, the models, the
// inputs: the --out directory's files/ folder) over HTTP for the devices
// to fetch, for as long as validate waits for the jobs.
type ArtifactServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
	// Log receives one line per request (nil: none).
	Log io.Writer
}

// ServeArtifacts serves dir's regular files (GET and HEAD only, no
// listings) on the address listen ("0.0.0.0:8099", ":0").
func ServeArtifacts(listen, dir string, log io.Writer) (*ArtifactServer, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("artifact server: %w", err)
	}
	s := &ArtifactServer{ln: ln, done: make(chan error, 1), Log: log}
	files := http.FileServer(http.Dir(dir))
	s.srv = &http.Server{
		ReadHeaderTimeout: 30 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.Log != nil {
				fmt.Fprintf(s.Log, "validate: artifact server: %s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
			}
			if (r.Method != http.MethodGet && r.Method != http.MethodHead) || strings.HasSuffix(r.URL.Path, "/") || path.Clean(r.URL.Path) != r.URL.Path {
				http.NotFound(w, r)
				return
			}
			files.ServeHTTP(w, r)
		}),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Port is the port the server listens on.
func (s *ArtifactServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (s *ArtifactServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// GuestURL returns the URL a device reaches the server at: the template
// has "PORT" replaced by the listening port
// (http://10.0.2.2:PORT for qemu's user networking).
func (s *ArtifactServer) GuestURL(template string) string {
	return strings.ReplaceAll(template, "PORT", fmt.Sprint(s.Port()))
}
