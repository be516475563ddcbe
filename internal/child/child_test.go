//go:build unix

package child

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStderr: the first and last Max bytes are kept, whatever the writes'
// sizes, and a dropped middle is marked.
func TestStderr(t *testing.T) {
	tests := []struct {
		name             string
		writes           []string
		head, last, text string
	}{
		{"empty", nil, "", "", ""},
		{"fits the head", []string{"ab", "c"}, "abc", "abc", "abc"},
		{"fits both ends", []string{"abcdef"}, "abcd", "cdef", "abcdef"},
		{"one byte dropped", []string{"abcdefghi"}, "abcd", "fghi", "abcd\n…\nfghi"},
		{"small writes", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, "abcd", "ghij", "abcd\n…\nghij"},
		{"big write after small", []string{"ab", "cdefghijklmn"}, "abcd", "klmn", "abcd\n…\nklmn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStderr(4)
			for _, w := range tt.writes {
				n, err := s.Write([]byte(w))
				require.NoError(t, err)
				assert.Equal(t, len(w), n)
			}
			assert.Equal(t, tt.head, s.Head())
			assert.Equal(t, tt.last, s.Last())
			assert.Equal(t, tt.text, s.String())
		})
	}
}

func TestLastLines(t *testing.T) {
	assert.Equal(t, "c\nd", LastLines("a\nb\nc\nd", 2, 100))
	assert.Equal(t, "…\nd", LastLines("a\nb\nc\nd", 2, 2))
	assert.Equal(t, "abc", LastLines("abc", 10, 3))
	assert.Equal(t, "…é", LastBytes("aéé", 3), "cut inside a rune drops its broken bytes")
}

// TestFindFatal: the Go runtime's reports of a fatal signal are
// recognised, banner or panic, in C code or not; a message that merely
// mentions a signal is not.
func TestFindFatal(t *testing.T) {
	tests := []struct {
		stderr       string
		signal, desc string
		inC          bool
		report       string
	}{
		{"SIGSEGV: segmentation violation\nPC=0x7f m=0 sigcode=1 addr=0x3d\nsignal arrived during cgo execution\n\ngoroutine 1",
			"SIGSEGV", "segmentation violation", true, "SIGSEGV: segmentation violation\nPC=0x7f m=0 sigcode=1 addr=0x3d\nsignal arrived during cgo execution"},
		{"ERROR: tensor 3\nSIGABRT: abort\nPC=0x7f30 m=4 sigcode=18446744073709551610\n\ngoroutine 1 [running]:\n",
			"SIGABRT", "abort", false, "SIGABRT: abort"},
		{"SIGBUS: bus error\nsignal arrived during cgo execution", "SIGBUS", "bus error", true, "SIGBUS: bus error\nsignal arrived during cgo execution"},
		{"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4]\n\ngoroutine 1",
			"SIGSEGV", "", false, "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4]"},
		{"validate: usage: SIGSEGV: is not a flag", "", "", false, ""},
		{"SIGSEGV: is not followed by a program counter\nanything", "", "", false, ""},
		{"", "", "", false, ""},
	}
	for _, tt := range tests {
		f, ok := FindFatal(tt.stderr)
		assert.Equal(t, tt.signal != "", ok, tt.stderr)
		assert.Equal(t, tt.signal, f.Signal, tt.stderr)
		assert.Equal(t, tt.desc, f.Desc, tt.stderr)
		assert.Equal(t, tt.inC, f.InC, tt.stderr)
		if ok {
			assert.Equal(t, tt.report, tt.stderr[f.Start:f.End], tt.stderr)
		}
	}
}

// TestDescribe runs real children that end in different ways and checks
// what Describe makes of their wait status and stderr.
func TestDescribe(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	banner := `echo "ERROR: tensor 3 has no quantization" >&2
printf 'SIGABRT: abort\nPC=0x7f30c00a8eec m=4 sigcode=18446744073709551610\nsignal arrived during cgo execution\n\ngoroutine 1 gp=0xe59e55a01e0 m=4 [syscall]:\n' >&2
exit 2`
	long := `i=0; while [ $i -lt 400 ]; do echo "line $i of noise" >&2; i=$((i+1)); done; echo "the end" >&2; exit 7`
	tests := []struct {
		name   string
		script string
		want   Exit
	}{
		{"killed by a signal", `echo "about to abort" >&2; kill -ABRT $$`,
			Exit{Signal: "SIGABRT", SignalDesc: syscall.SIGABRT.String(), Status: -1, Stderr: "about to abort"}},
		{"Go banner", banner,
			Exit{Signal: "SIGABRT", SignalDesc: "abort", InC: true, Status: 2,
				Stderr: "ERROR: tensor 3 has no quantization\nSIGABRT: abort\nPC=0x7f30c00a8eec m=4 sigcode=18446744073709551610\nsignal arrived during cgo execution"}},
		{"banner but status 1 is not a signal", "printf 'SIGSEGV: segv\\nPC=0x1\\n' >&2; exit 1",
			Exit{Status: 1, Stderr: "SIGSEGV: segv\nPC=0x1"}},
		{"exit status, long stderr", long,
			Exit{Status: 7, Stderr: "line 391 of noise\nline 392 of noise\nline 393 of noise\nline 394 of noise\nline 395 of noise\nline 396 of noise\nline 397 of noise\nline 398 of noise\nline 399 of noise\nthe end"}},
		{"clean exit", "exit 0", Exit{Status: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tt.script)
			stderr := NewStderr(4096)
			cmd.Stderr = stderr
			_ = cmd.Run()
			assert.Equal(t, &tt.want, Describe(cmd.ProcessState, stderr))
		})
	}
	assert.Equal(t, &Exit{Status: -1}, Describe(nil, NewStderr(10)), "no state: unknown")
}

// TestOwnGroup: KillGroup ends the child and the grandchild it started.
func TestOwnGroup(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command("/bin/sh", "-c", fmt.Sprintf("sleep 60 & echo $! > %s; wait", pidFile))
	OwnGroup(cmd)
	DieWithParent(cmd)
	require.NoError(t, cmd.Start())
	var grandchild int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		_, err = fmt.Sscan(string(b), &grandchild)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	KillGroup(cmd.Process)
	require.Error(t, cmd.Wait())
	sig, ok := ExitSignal(cmd.ProcessState)
	require.True(t, ok)
	assert.Equal(t, "SIGKILL", SignalName(sig))
	assert.Equal(t, syscall.SIGKILL, SignalNum("SIGKILL"))
	assert.Eventually(t, func() bool {
		return syscall.Kill(grandchild, 0) == syscall.ESRCH
	}, 5*time.Second, 10*time.Millisecond, "the grandchild %d died with its group", grandchild)
}
