package devices

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
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

// The shell code sent to a board: two constant scripts, run by /bin/sh
// (POSIX sh: dash, bash or BusyBox ash), using only POSIX utilities and
// options BusyBox also has (head -c, wc -c, df -P, no GNU-only options).
// Their parameters (cache directory, file name, sha256, size) arrive on stdin
// as one header line and are checked against a strict character set before
// use.
//
// shaFunc computes a file's sha256 with whatever the board has: sha256sum
// (GNU or BusyBox: only its plain output is used, no option), openssl dgst
// or shasum. A board with none of them gets exit status 4 and a message:
// the agent is never run unverified.
const shaFunc = `sha() {
  if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum < "$1") || return 1
  elif command -v openssl >/dev/null 2>&1; then s=$(openssl dgst -sha256 < "$1") || return 1; s=${s##* }
  elif command -v shasum >/dev/null 2>&1; then s=$(shasum -a 256 < "$1") || return 1
  else echo "edgeval: the board has no sha256 tool (sha256sum, openssl or shasum), so the agent cannot be verified: install one (BusyBox: enable the sha256sum applet)" >&2; return 4
  fi
  echo "${s%% *}"
}
`

// headerCheck reads and checks the header line; $1 names the script in
// messages.
const headerCheck = `rest=${dir#"~/"}
case "$rest$name$sum$size" in
  *[!A-Za-z0-9._/+-]*|"") echo "edgeval $1: malformed header" >&2; exit 2;;
esac
case "$name" in validate-*) ;; *) echo "edgeval $1: bad name" >&2; exit 2;; esac
case "$sum" in *[!0-9a-f]*|"") echo "edgeval $1: bad sha256" >&2; exit 2;; esac
case "$size" in *[!0-9]*|"") echo "edgeval $1: bad size" >&2; exit 2;; esac
case "$dir" in "~/"*) dir="$HOME/$rest";; esac
`

// uploadScript writes the agent's bytes (after the header) to a temporary
// file next to its place, refusing up front when the file system lacks the
// room (exit 5), checks the size and the sha256, and renames the file into
// place. Exit 3: the bytes that arrived are not the agent's.
const uploadScript = `set -eu
umask 022
IFS=" " read -r dir name sum size
` + headerCheck + shaFunc + `d="$dir/agent"
mkdir -p "$d" || { echo "edgeval upload: cannot create $d" >&2; exit 5; }
need=$((size / 1024 + 64))
free=$(df -Pk "$d" 2>/dev/null | { read -r _; read -r _ _ _ a _; echo "$a"; }) || free=""
case "$free" in
  ""|*[!0-9]*) ;;
  *) [ "$free" -ge "$need" ] || { echo "edgeval upload: no space for the agent in $d: $free KiB free, $need KiB needed (disk full?)" >&2; exit 5; };;
esac
t="$d/.$name.$$"
trap "rm -f \"$t\"" EXIT
head -c "$size" > "$t" || { echo "edgeval upload: writing $t failed (disk full?)" >&2; exit 5; }
got=$(wc -c < "$t" | tr -d " ")
[ "$got" = "$size" ] || { echo "edgeval upload: got $got of $size bytes" >&2; exit 3; }
got=$(sha "$t") || exit $?
[ "$got" = "$sum" ] || { echo "edgeval upload: sha256 mismatch: the bytes received hash to $got, not $sum" >&2; exit 3; }
chmod 755 "$t"
mv -f "$t" "$d/$name"
trap - EXIT
`

// startScript verifies the cached agent's sha256 (the hash prefix in its
// name is not enough: the file may have been overwritten or truncated) and
// execs it as `<agent> agent`, its stdin then carrying the frames. An agent
// missing from the cache exits 90; one whose hash differs is removed and
// exits 91: the client sends it and starts again.
const startScript = `set -eu
IFS=" " read -r dir name sum size
` + headerCheck + shaFunc + `a="$dir/agent/$name"
[ -f "$a" ] || { echo "edgeval start: $a is not in the cache" >&2; exit 90; }
got=$(sha "$a") || exit $?
if [ "$got" != "$sum" ]; then
  rm -f "$a"
  echo "edgeval start: the cached agent $a does not match its sha256 (it hashes to $got): removed" >&2
  exit 91
fi
exec "$a" agent
`

// Exit statuses of startScript that make the client send the agent.
const (
	startMissing  = 90
	startMismatch = 91
)

// uploadCommand and startCommand run the scripts under /bin/sh whatever
// the login shell.
var (
	uploadCommand = "exec /bin/sh -c '" + uploadScript + "' edgeval-upload upload"
	startCommand  = "exec /bin/sh -c '" + startScript + "' edgeval-start start"
)

func init() {
	if strings.Contains(uploadScript+startScript, "'") {
		panic("devices: the board scripts must not contain single quotes")
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
	if err := checkAgentArch(path, b, goos, goarch, machine); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	v := versionRE.ReplaceAllString(version, "_")
	if v == "" {
		v = "dev"
	}
	return &agentBinary{path: path, name: fmt.Sprintf("validate-%s-%s-%s-%s", v, goos, goarch, sha[:16]), sha: sha, size: int64(len(b))}, nil
}

// elfArch maps ELF machine types to GOARCH.
var elfArch = map[elf.Machine]string{
	elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_ARM: "arm", elf.EM_386: "386",
	elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_MIPS: "mips",
}

// checkAgentArch refuses an agent binary that cannot run on a Linux board
// of architecture goarch (uname -m machine): not an ELF executable, or built
// for another architecture. Boards of other systems are not checked.
func checkAgentArch(path string, b []byte, goos, goarch, machine string) error {
	if goos != "linux" {
		return nil
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("agent_binary %s is not a Linux executable (%v): build one with `CGO_ENABLED=0 GOOS=linux GOARCH=%s go build ./cmd/validate`", path, err, goarch)
	}
	got, ok := elfArch[f.Machine]
	if !ok {
		got = f.Machine.String()
	}
	if got != goarch {
		return fmt.Errorf("agent_binary %s is built for linux/%s (ELF %s), and the board is %s (%s, uname -m): it cannot run there; build one with `CGO_ENABLED=0 GOOS=linux GOARCH=%s go build ./cmd/validate`", path, got, f.Machine, goarch, machine, goarch)
	}
	return nil
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
	switch cmd {
	case uploadCommand:
		return "upload"
	case startCommand:
		return "start"
	}
	w, _, _ := strings.Cut(cmd, " ")
	return w
}

// startAgent connects to the board, has the start script verify the cached
// agent and run it, sending the agent first when the cache lacks it or holds
// a corrupted copy, and returns the connection and the board's facts. The
// probe carries settings (the runtime, node_modules, node), so the facts
// describe the runtimes as a session with them finds them.
func startAgent(ctx context.Context, p *Profile, o *Options, settings *openRequest) (*agentConn, *Facts, error) {
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
	header := fmt.Sprintf("%s %s %s %d\n", p.CacheDir, bin.name, bin.sha, bin.size)
	for attempt := 0; ; attempt++ {
		ac, err := execAgent(client, startCommand)
		if err != nil {
			return nil, nil, err
		}
		if _, err := io.WriteString(ac.stdin, header); err != nil {
			ac.closeSession()
			return nil, nil, transient(fmt.Errorf("starting the agent: %w", err))
		}
		m, _, err := ac.call(ctx, p.ConnectTimeout+grace, &message{Op: "probe", Open: settings})
		if err == nil && m.Facts != nil {
			ok = true
			return ac, m.Facts, nil
		}
		status := ac.exitStatus(2 * time.Second)
		ac.closeSession()
		if attempt == 0 && (status == startMissing || status == startMismatch) {
			if status == startMismatch && o.Log != nil {
				fmt.Fprintf(o.Log, "validate: device %s: the cached agent %s did not match its sha256: sending it again\n", p.Name, remote)
			}
			if err := upload(ctx, client, p, bin, o.Log); err != nil {
				return nil, nil, fmt.Errorf("deploying the agent: %w", err)
			}
			continue
		}
		var te *transientError
		if errors.As(err, &te) || ctx.Err() != nil {
			return nil, nil, err
		}
		if err == nil {
			err = fmt.Errorf("agent answered %q to probe", m.Op)
		} else if status >= 0 {
			err = fmt.Errorf("exit status %d", status)
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
