package devices

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// agentConn is one running `validate agent` on a board, reached through an
// SSH exec channel.
type agentConn struct {
	client *sshClient
	sess   *ssh.Session
	stdin  io.WriteCloser
	stdout io.Reader
	stderr *tailBuffer
	waited chan error // the session's exit, once
}

// grace is added to the agent's own time-out for the network round trip.
const grace = 10 * time.Second

// uploadScript is the only shell code sent to a board. It is a constant:
// its parameters (cache directory, file name, sha256, size) arrive on stdin
// as one header line and are checked against a strict character set before
// use; the file's bytes follow. The file lands by atomic rename.
const uploadScript = `set -eu
umask 022
IFS=" " read -r dir name sum size
rest=${dir#"~/"}
case "$rest$name$sum$size" in
  *[!A-Za-z0-9._/+-]*|"") echo "edgeval upload: malformed header" >&2; exit 2;;
esac
case "$name" in validate-*) ;; *) echo "edgeval upload: bad name" >&2; exit 2;; esac
case "$dir" in "~/"*) dir="$HOME/$rest";; esac
d="$dir/agent"
mkdir -p "$d"
t="$d/.$name.$$"
trap "rm -f \"$t\"" EXIT
head -c "$size" > "$t"
got=$(wc -c < "$t" | tr -d " ")
[ "$got" = "$size" ] || { echo "edgeval upload: got $got of $size bytes" >&2; exit 3; }
if command -v sha256sum >/dev/null 2>&1; then
  echo "$sum  $t" | sha256sum -c --status || { echo "edgeval upload: sha256 mismatch" >&2; exit 3; }
fi
chmod 755 "$t"
mv -f "$t" "$d/$name"
trap - EXIT
`

// uploadCommand runs uploadScript under /bin/sh whatever the login shell.
var uploadCommand = "exec /bin/sh -c '" + uploadScript + "'"

func init() {
	if strings.Contains(uploadScript, "'") {
		panic("devices: uploadScript must not contain single quotes")
	}
}

// agentBinary is the local agent binary for a board and its cache name.
type agentBinary struct {
	path string
	name string // validate-<version>-<os>-<arch>-<sha256 prefix>
	sha  string
	size int64
}

var versionRE = regexp.MustCompile(`[^A-Za-z0-9._+]`)

// agentFor picks the agent binary for a board with the given uname -s and
// -m: the profile's agent_binary, else this executable when it matches.
func agentFor(p *Profile, version, sysname, machine string) (*agentBinary, error) {
	goos := strings.ToLower(sysname)
	goarch := goArch(machine)
	path := p.AgentBinary
	if path == "" {
		if goos != goruntime.GOOS || goarch != goruntime.GOARCH {
			return nil, fmt.Errorf("the board runs %s/%s (uname: %s %s) and this binary is %s/%s: build an agent with `CGO_ENABLED=0 GOOS=%s GOARCH=%s go build -o validate-%s ./cmd/validate` and set agent_binary in the profile",
				goos, goarch, sysname, machine, goruntime.GOOS, goruntime.GOARCH, goos, goarch, goarch)
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locating this binary to deploy it: %w", err)
		}
		path = exe
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agent_binary: %w", err)
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	v := versionRE.ReplaceAllString(version, "_")
	if v == "" {
		v = "dev"
	}
	return &agentBinary{path: path, name: fmt.Sprintf("validate-%s-%s-%s-%s", v, goos, goarch, sha[:16]), sha: sha, size: int64(len(b))}, nil
}

// goArch maps uname -m to GOARCH.
func goArch(machine string) string {
	switch machine {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64", "aarch64_be":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "riscv64":
		return "riscv64"
	}
	if strings.HasPrefix(machine, "armv") {
		return "arm"
	}
	return machine
}

// runFixed runs a constant command with stdin and returns its stdout.
func runFixed(ctx context.Context, c *sshClient, cmd string, stdin io.Reader, timeout time.Duration) ([]byte, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, transient(fmt.Errorf("opening an SSH channel: %w", err))
	}
	defer s.Close()
	var out bytes.Buffer
	errBuf := &tailBuffer{max: 4096}
	s.Stdin, s.Stdout, s.Stderr = stdin, &out, errBuf
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err = <-done:
	case <-ctx.Done():
		c.Close()
		<-done
		return nil, ctx.Err()
	case <-t.C:
		c.Close()
		<-done
		return nil, fmt.Errorf("%s: timed out after %v", firstWord(cmd), timeout)
	}
	if err != nil {
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%s exited with status %d: %s", firstWord(cmd), ee.ExitStatus(), errBuf.String())
		}
		return nil, transient(fmt.Errorf("%s: %w", firstWord(cmd), err))
	}
	return out.Bytes(), nil
}

func firstWord(cmd string) string {
	if strings.HasPrefix(cmd, "exec /bin/sh") {
		return "upload"
	}
	w, _, _ := strings.Cut(cmd, " ")
	return w
}

// startAgent connects to the board, deploys the agent when its cache lacks
// it, starts it, and returns the connection and the board's facts.
func startAgent(ctx context.Context, p *Profile, o *Options) (*agentConn, *Facts, error) {
	client, err := dialSSH(ctx, p, dialOptions{acceptNewHostKey: o.AcceptNewHostKey, log: o.Log})
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			client.Close()
		}
	}()
	sys, err := boardSystem(ctx, client, p)
	if err != nil {
		return nil, nil, err
	}
	bin, err := agentFor(p, o.AgentVersion, sys[0], sys[1])
	if err != nil {
		return nil, nil, err
	}
	remote := strings.TrimSuffix(p.CacheDir, "/") + "/agent/" + bin.name
	for attempt := 0; ; attempt++ {
		ac, err := execAgent(client, "exec "+remote+" agent")
		if err != nil {
			return nil, nil, err
		}
		m, _, err := ac.call(ctx, p.ConnectTimeout+grace, &message{Op: "probe"})
		if err == nil && m.Facts != nil {
			ok = true
			return ac, m.Facts, nil
		}
		status := ac.exitStatus(2 * time.Second)
		ac.closeSession()
		if attempt == 0 && (status == 126 || status == 127) {
			if err := upload(ctx, client, p, bin, o.Log); err != nil {
				return nil, nil, fmt.Errorf("deploying the agent: %w", err)
			}
			continue
		}
		if err == nil {
			err = fmt.Errorf("agent answered %q to probe", m.Op)
		}
		return nil, nil, fmt.Errorf("starting the agent %s: %w%s", remote, err, ac.stderrNote())
	}
}

// systems remembers each board's `uname -sm` for the life of the process,
// so that reconnecting costs one SSH exec (the agent), not two.
var systems sync.Map // "user@host:port" -> [2]string

// boardSystem returns the board's uname -s and -m.
func boardSystem(ctx context.Context, client *sshClient, p *Profile) ([2]string, error) {
	key := p.User + "@" + p.Addr()
	if v, ok := systems.Load(key); ok {
		return v.([2]string), nil
	}
	out, err := runFixed(ctx, client, "uname -sm", nil, p.ConnectTimeout+grace)
	if err != nil {
		return [2]string{}, fmt.Errorf("asking the board for its system: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return [2]string{}, fmt.Errorf("uname -sm answered %q", out)
	}
	sys := [2]string{fields[0], fields[1]}
	systems.Store(key, sys)
	return sys, nil
}

// execAgent starts cmd (`exec <cache>/agent/<name> agent`) on the board.
func execAgent(client *sshClient, cmd string) (*agentConn, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, transient(fmt.Errorf("opening an SSH channel: %w", err))
	}
	ac := &agentConn{client: client, sess: s, stderr: &tailBuffer{max: 8192}}
	if ac.stdin, err = s.StdinPipe(); err != nil {
		s.Close()
		return nil, err
	}
	if ac.stdout, err = s.StdoutPipe(); err != nil {
		s.Close()
		return nil, err
	}
	s.Stderr = ac.stderr
	if err := s.Start(cmd); err != nil {
		s.Close()
		return nil, transient(fmt.Errorf("starting the agent: %w", err))
	}
	ac.waited = make(chan error, 1)
	go func() { ac.waited <- s.Wait() }()
	return ac, nil
}

// upload sends the agent binary through the fixed upload script.
func upload(ctx context.Context, c *sshClient, p *Profile, bin *agentBinary, log io.Writer) error {
	f, err := os.Open(bin.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if log != nil {
		fmt.Fprintf(log, "validate: device %s: sending agent %s (%d bytes)\n", p.Name, bin.name, bin.size)
	}
	header := fmt.Sprintf("%s %s %s %d\n", p.CacheDir, bin.name, bin.sha, bin.size)
	// A board on a slow link gets a minute per 10 MB on top of the time-out.
	timeout := p.ConnectTimeout + grace + time.Duration(bin.size/(10<<20)+1)*time.Minute
	_, err = runFixed(ctx, c, uploadCommand, io.MultiReader(strings.NewReader(header), f), timeout)
	return err
}

// call sends one frame and reads the reply, within timeout and ctx. On a
// time-out or cancellation the connection is closed (which ends the agent).
func (a *agentConn) call(ctx context.Context, timeout time.Duration, m *message, data ...[]byte) (*message, []byte, error) {
	type result struct {
		m    *message
		data []byte
		err  error
	}
	done := make(chan result, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		m.Protocol = ProtocolVersion
		if err := writeFrame(a.stdin, m, data...); err != nil {
			done <- result{err: err}
			return
		}
		r, d, err := readFrame(a.stdout)
		done <- result{r, d, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, nil, a.classify(r.err)
		}
		return r.m, r.data, nil
	case <-ctx.Done():
		a.abandon(finished)
		return nil, nil, ctx.Err()
	case <-t.C:
		a.abandon(finished)
		return nil, nil, &timeoutError{op: m.Op, after: timeout}
	}
}

// abandon closes the connection under an exchange in flight and waits
// (briefly) for it to fail, so nothing else touches the channel meanwhile.
func (a *agentConn) abandon(done <-chan struct{}) {
	a.client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// timeoutError is an agent that did not answer in time.
type timeoutError struct {
	op    string
	after time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s: agent timed out after %v (connection closed)", e.op, e.after)
}

// classify turns a broken frame exchange into an agent crash (the agent
// exited: not retried) or a dropped connection (transient).
func (a *agentConn) classify(err error) error {
	st := a.exitStatus(2 * time.Second)
	if st >= 0 {
		return fmt.Errorf("agent exited with status %d: %w%s", st, err, a.stderrNote())
	}
	return transient(fmt.Errorf("connection lost: %w", err))
}

// exitStatus waits up to d for the agent's exit and returns its status, or
// -1 when the channel ended without one (connection lost) or d passed.
func (a *agentConn) exitStatus(d time.Duration) int {
	select {
	case err := <-a.waited:
		a.waited <- err // keep it for the next caller
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			return ee.ExitStatus()
		}
		if err == nil {
			return 0
		}
		return -1
	case <-a.client.gone:
		select {
		case err := <-a.waited:
			a.waited <- err
			var ee *ssh.ExitError
			if errors.As(err, &ee) {
				return ee.ExitStatus()
			}
		default:
		}
		return -1
	case <-time.After(d):
		return -1
	}
}

func (a *agentConn) stderrNote() string {
	s := strings.TrimSpace(a.stderr.String())
	if s == "" {
		return ""
	}
	return " (agent stderr: " + s + ")"
}

func (a *agentConn) closeSession() {
	a.stdin.Close()
	a.sess.Close()
}

// close ends the agent and the connection.
func (a *agentConn) close() {
	a.closeSession()
	a.client.Close()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
