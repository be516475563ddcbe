package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/edgeval/edgeval/internal/child"
)

// localAgent is `<executable> agent` running as a child process of this
// one and serving the agent protocol on pipes: the transport of an isolated
// host session. No shell is involved: the executable and its one argument
// go to the kernel as an argument vector.
type localAgent struct {
	exe    string
	cmd    *exec.Cmd
	stdin  *os.File // our end of the child's stdin
	stdout *os.File // our end of the child's stdout
	stderr *child.Stderr
	exited chan struct{} // closed once the child is reaped; then state is set
	state  *os.ProcessState
	// dead is set once the child is gone or unusable; every later call
	// returns it.
	dead error
}

// localGrace is added to the runtime's time-out before the parent gives up
// on a child that does not answer (the child enforces the time-out itself;
// this bounds a runtime stuck where it cannot be cancelled).
const localGrace = 10 * time.Second

// startLocalAgent starts exe (this executable when "") as `exe agent`.
func startLocalAgent(exe string) (*localAgent, error) {
	if exe == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locating this executable to run the agent: %w", err)
		}
		exe = self
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	a := &localAgent{exe: exe, stdin: inW, stdout: outR, stderr: child.NewStderr(stderrKeep), exited: make(chan struct{})}
	a.cmd = exec.Command(exe, "agent")
	a.cmd.Stdin, a.cmd.Stdout, a.cmd.Stderr = inR, outW, a.stderr
	// A grandchild holding the child's stderr open must not stall Wait.
	a.cmd.WaitDelay = 2 * time.Second
	child.OwnGroup(a.cmd)
	err = a.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting the agent process `%s agent`: %w", exe, err)
	}
	go func() {
		_ = a.cmd.Wait()
		a.state = a.cmd.ProcessState
		close(a.exited)
	}()
	return a, nil
}

// call sends one frame and reads the reply within timeout and ctx. When the
// child dies, the error describes how (signal or status, and its stderr);
// on a time-out or cancellation the child is killed. Either way the agent
// is dead afterwards.
func (a *localAgent) call(ctx context.Context, timeout time.Duration, m *message, data ...[]byte) (*message, []byte, error) {
	if a.dead != nil {
		return nil, nil, a.dead
	}
	type result struct {
		m    *message
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
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
			a.dead = a.failure(r.err)
			return nil, nil, a.dead
		}
		return r.m, r.data, nil
	case <-ctx.Done():
		a.kill()
		waitBriefly(done)
		a.dead = fmt.Errorf("%s: %w (agent process killed)", m.Op, ctx.Err())
	case <-t.C:
		a.kill()
		waitBriefly(done)
		a.dead = fmt.Errorf("%s: agent process did not answer within %v: killed", m.Op, timeout)
	}
	return nil, nil, a.dead
}

// waitBriefly waits for an exchange to end after its process was killed
// (its pipes then fail at once), so nothing touches them afterwards.
func waitBriefly[T any](c <-chan T) {
	select {
	case <-c:
	case <-time.After(5 * time.Second):
	}
}

// failure explains a broken exchange: the child's death (the usual case),
// or a child that is alive but does not speak the protocol (then it is
// killed).
func (a *localAgent) failure(cause error) error {
	// The end of the child's output comes with its exit; a malformed frame
	// usually comes from a live process.
	wait := 100 * time.Millisecond
	if errors.Is(cause, io.EOF) || errors.Is(cause, io.ErrUnexpectedEOF) || errors.Is(cause, syscall.EPIPE) {
		wait = 2 * time.Second
	}
	select {
	case <-a.exited:
		return a.exitError()
	case <-time.After(wait):
	}
	a.kill()
	return fmt.Errorf("the agent process `%s agent` broke the protocol (is it validate?): %w%s", a.exe, cause, stderrNote(a.stderr))
}

// kill ends the child (and its process group) and waits for it to be
// reaped.
func (a *localAgent) kill() {
	select {
	case <-a.exited:
		return
	default:
	}
	child.KillGroup(a.cmd.Process)
	waitBriefly(a.exited)
}

// close asks the agent to close its session, ends its input, and kills it
// if it does not exit promptly.
func (a *localAgent) close() {
	if a.dead == nil {
		_, _, _ = a.call(context.Background(), 5*time.Second, &message{Op: "close"})
	}
	a.stdin.Close()
	select {
	case <-a.exited:
	case <-time.After(5 * time.Second):
		a.kill()
	}
	a.stdout.Close()
}

// stderrKeep is how much of the start and of the end of the child's stderr
// is kept.
const stderrKeep = 4096

// exitError describes how the (exited) child ended.
func (a *localAgent) exitError() error {
	return &agentExitError{child.Describe(a.state, a.stderr)}
}

// agentExitError is a local agent process that ended while it was
// serving: killed by a signal (Signal set) or exited with Status.
type agentExitError struct{ *child.Exit }

func (e *agentExitError) Error() string {
	var b strings.Builder
	if e.Signal != "" {
		fmt.Fprintf(&b, "agent process killed by %s", e.Signal)
		if e.SignalDesc != "" {
			fmt.Fprintf(&b, " (%s)", e.SignalDesc)
		}
		if e.InC {
			b.WriteString(" in C code (the runtime's native library)")
		}
	} else {
		fmt.Fprintf(&b, "agent process exited with status %d", e.Status)
	}
	if e.Stderr != "" {
		fmt.Fprintf(&b, "; its stderr: %s", strings.Join(strings.Split(e.Stderr, "\n"), " | "))
	}
	return b.String()
}

// stderrNote is the end of a child's stderr for an error message, "" when
// empty.
func stderrNote(s *child.Stderr) string {
	if t := child.LastLines(strings.TrimSpace(s.Last()), 10, 1000); t != "" {
		return " (agent stderr: " + strings.Join(strings.Split(t, "\n"), " | ") + ")"
	}
	return ""
}
