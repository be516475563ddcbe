// Package pgtest starts a real, throw-away PostgreSQL server for tests: the
// Debian `postgresql` package's binaries, `initdb` into a temporary
// directory, a loopback port and a unix socket in that directory. The
// server refuses to run as root, and CI runs as root, so as root it runs as
// the unprivileged user `nobody` with the directory given to it. Tests skip,
// naming the reason, when no PostgreSQL binaries are installed.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edgeval/edgeval/internal/child"
)

// User is the database superuser the server is initialised with (trust
// authentication: only this machine's loopback and the socket reach it).
const User = "edgeval"

// Server is a running test server.
type Server struct {
	// Dir holds the data directory, the socket and the server's log.
	Dir  string
	Port int
	cmd  *exec.Cmd
}

// BinDir returns the directory holding initdb and postgres: beside the
// initdb on $PATH, else the newest /usr/lib/postgresql/N/bin (where Debian
// puts them, off $PATH).
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	slices.SortFunc(matches, func(a, b string) int { return version(b) - version(a) })
	if len(matches) == 0 {
		return "", errors.New("no PostgreSQL server binaries (initdb, postgres) on $PATH or in /usr/lib/postgresql/*/bin: install Debian's postgresql package (scripts/setup.sh does)")
	}
	return filepath.Dir(matches[0]), nil
}

// version is N of /usr/lib/postgresql/N/bin/postgres.
func version(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return n
}

// Start starts a server for the test and stops it when the test ends; it
// skips the test when no server binaries are installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Skipf("PostgreSQL tests skipped: %v", err)
	}
	s, err := start(bin)
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// start runs initdb and the server as the unprivileged user when root.
func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp(tempBase(), "edgeval-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	cred, err := credential(dir)
	if err != nil {
		return nil, err
	}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(sock, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-locale")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if s.Port, err = freePort(); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// fsync off: the tests are about clients dying, not the machine; it
	// makes commits cheap on a shared disk.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.Port), "-k", sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50", "-c", "shared_buffers=16MB")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	child.DieWithParent(s.cmd)
	s.cmd.Stdout, s.cmd.Stderr, s.cmd.Dir = logf, logf, dir
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			break
		}
		select {
		case werr := <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("postgres exited (%v):\n%s", werr, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("postgres did not answer within 30 s: %w", err)
		}
	}
	ok = true
	return s, nil
}

// credential returns the user to run the server as (nil: this one) and
// gives dir to it.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, and no unprivileged user 'nobody' to run PostgreSQL as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// tempBase is where the server's directory goes: the temporary directory,
// unless (as root) the unprivileged user could not reach into it (a
// $TMPDIR under /root), then /tmp.
func tempBase() string {
	base := os.TempDir()
	if os.Geteuid() != 0 {
		return base
	}
	for d := base; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return base
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the URL of database db on the server, over TCP on loopback.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.Port, db)
}

// CreateDB creates a fresh database and returns its URL.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return s.URL(name)
}

// Stop ends the server (a fast shutdown, then a kill) and removes its
// directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && s.cmd.Process.Signal(syscall.Signal(0)) == nil {
			time.Sleep(20 * time.Millisecond)
		}
		_ = s.cmd.Process.Kill()
		s.cmd = nil
	}
	if s.Dir != "" && strings.Contains(filepath.Base(s.Dir), "edgeval-pg-") {
		_ = os.RemoveAll(s.Dir)
	}
}
