// Package sshtest starts a real OpenSSH server (Debian's openssh-server,
// /usr/sbin/sshd) for tests: on a free loopback port, with a throwaway host
// key and a throwaway user key authorised for the current user, killed (with
// every process it started) when the test ends.
package sshtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHD is the server binary the helper runs.
const SSHD = "/usr/sbin/sshd"

// Server is a running sshd.
type Server struct {
	// Host and Port are where it listens (127.0.0.1 and a free port).
	Host string
	Port int
	// User is the user it lets in (the current user).
	User string
	// Dir holds the keys, the config and the known_hosts file.
	Dir string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// UserKeyFile is an unencrypted private key the server accepts.
	UserKeyFile string
	// KnownHosts is a known_hosts file that lists HostKey for the server.
	KnownHosts string

	cmd    *exec.Cmd
	log    *lockedBuffer
	mu     sync.Mutex
	killed bool
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// PID is the sshd process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what sshd printed (-e sends its log to stderr).
func (s *Server) Log() string { return s.log.String() }

// Start starts sshd, or skips the test with the reason when it cannot run
// here (no openssh-server installed).
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(SSHD); err != nil {
		t.Skipf("%s not found: install Debian's openssh-server (apt-get install -y openssh-server) to run the SSH integration tests", SSHD)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start without its privilege-separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("creating /run/sshd: %v", err)
		}
	}
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1", User: u.Username, Dir: dir, log: &lockedBuffer{}}
	hostKeyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	hostPub := WriteKey(t, hostKeyFile)
	s.HostKey = hostPub
	s.UserKeyFile = filepath.Join(dir, "id_ed25519")
	userPub := WriteKey(t, s.UserKeyFile)
	authorized := filepath.Join(dir, "authorized_keys")
	writeFile(t, authorized, ssh.MarshalAuthorizedKey(userPub), 0o600)

	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	s.Port = port
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	writeFile(t, s.KnownHosts, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, hostPub)+"\n"), 0o600)

	config := filepath.Join(dir, "sshd_config")
	writeFile(t, config, []byte(strings.Join([]string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKeyFile,
		"PidFile none",
		"AuthorizedKeysFile " + authorized,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + u.Username,
		"StrictModes no",
		"UsePAM no",
		"UseDNS no",
		"MaxStartups 50",
		"LogLevel VERBOSE",
		"",
	}, "\n")), 0o600)

	cmd := exec.Command(SSHD, "-D", "-e", "-f", config)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(s.Kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			t.Fatalf("sshd exited at start:\n%s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %s within 10s:\n%s", s.Addr(), s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops sshd and every process it started (connection handlers and the
// commands they run), as a board that loses power would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.killed || s.cmd == nil {
		return
	}
	s.killed = true
	pids := append(Descendants(s.cmd.Process.Pid), s.cmd.Process.Pid)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// Descendants lists the processes below pid (children, grandchildren...),
// read from /proc.
func Descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// WriteKey writes a new unencrypted ed25519 private key in OpenSSH format
// to path and returns its public key.
func WriteKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, pem.EncodeToMemory(block), 0o600)
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func writeFile(t testing.TB, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
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

// lockedBuffer is a bytes.Buffer safe for sshd's writer and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Profile returns devices.yaml text for a device called name on this
// server, with extra YAML lines (indented by the caller's choice of keys)
// appended.
func (s *Server) Profile(name string, extra ...string) string {
	lines := []string{
		"devices:",
		"  " + name + ":",
		"    host: " + s.Host,
		fmt.Sprintf("    port: %d", s.Port),
		"    user: " + s.User,
		"    identity_file: " + s.UserKeyFile,
		"    known_hosts: " + s.KnownHosts,
	}
	for _, e := range extra {
		lines = append(lines, "    "+e)
	}
	return strings.Join(lines, "\n") + "\n"
}
