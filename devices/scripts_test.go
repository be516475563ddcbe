package devices

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shells are the /bin/sh dialects the board scripts must run under:
// dash (Debian's /bin/sh), bash, and BusyBox ash (Yocto, Buildroot,
// OpenWrt, Alpine), where installed.
func shells(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	if p, err := exec.LookPath("dash"); err == nil {
		out["dash"] = []string{p}
	}
	if p, err := exec.LookPath("bash"); err == nil {
		out["bash"] = []string{p, "--posix"}
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		out["busybox"] = []string{p, "sh"}
	}
	require.NotEmpty(t, out, "no shell to run the board scripts")
	return out
}

// toolDir makes a PATH directory holding only the named tools (links to
// this machine's), so a script sees a board that lacks the others.
func toolDir(t *testing.T, tools ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		require.NoError(t, err, tool)
		require.NoError(t, os.Symlink(p, filepath.Join(dir, tool)))
	}
	return dir
}

// basicTools are what the scripts need besides a sha256 tool.
var basicTools = []string{"head", "wc", "tr", "mkdir", "chmod", "mv", "rm", "df", "cat"}

type scriptRun struct {
	code   int
	stdout string
	stderr string
}

func runScript(t *testing.T, sh []string, script, name, home, path, stdin string) scriptRun {
	t.Helper()
	args := append(append([]string{}, sh[1:]...), "-c", script, "edgeval-"+name, name)
	cmd := exec.Command(sh[0], args...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + path}
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return scriptRun{code, o.String(), e.String()}
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestBoardScripts runs the upload and start scripts under each shell with
// only POSIX tools: the agent lands verified, a wrong hash, a missing sha256
// tool and a full disk are refused with their exit codes, and the start
// script runs only an agent whose sha256 matches.
func TestBoardScripts(t *testing.T) {
	agent := []byte("#!/bin/sh\necho \"agent ran: $1\"\ncat\n")
	sum := sumHex(agent)
	name := "validate-test-linux-amd64-" + sum[:16]
	for shName, sh := range shells(t) {
		t.Run(shName, func(t *testing.T) {
			busybox := shName == "busybox"
			home := t.TempDir()
			withSHA := toolDir(t, append(basicTools, "sha256sum")...)
			header := fmt.Sprintf("~/.cache/edgeval %s %s %d\n", name, sum, len(agent))
			cached := filepath.Join(home, ".cache", "edgeval", "agent", name)

			t.Run("upload", func(t *testing.T) {
				r := runScript(t, sh, uploadScript, "upload", home, withSHA, header+string(agent))
				require.Equal(t, 0, r.code, r.stderr)
				got, err := os.ReadFile(cached)
				require.NoError(t, err)
				assert.Equal(t, agent, got)
				st, err := os.Stat(cached)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
				left, _ := filepath.Glob(filepath.Join(filepath.Dir(cached), ".*"))
				assert.Empty(t, left, "no temporary file left")
			})
			t.Run("start runs the verified agent with the rest of stdin", func(t *testing.T) {
				r := runScript(t, sh, startScript, "start", home, withSHA, header+"FRAMES")
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, "agent ran: agent\nFRAMES", r.stdout, "read takes the header line only")
			})
			t.Run("start: overwritten agent removed, exit 91", func(t *testing.T) {
				marker := filepath.Join(home, "pwned")
				require.NoError(t, os.WriteFile(cached, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755))
				r := runScript(t, sh, startScript, "start", home, withSHA, header)
				assert.Equal(t, startMismatch, r.code, r.stderr)
				assert.Contains(t, r.stderr, "does not match its sha256")
				assert.NoFileExists(t, marker, "the overwritten agent never ran")
				assert.NoFileExists(t, cached)
			})
			t.Run("start: missing agent, exit 90", func(t *testing.T) {
				r := runScript(t, sh, startScript, "start", home, withSHA, header)
				assert.Equal(t, startMissing, r.code, r.stderr)
				assert.Contains(t, r.stderr, "is not in the cache")
			})
			t.Run("upload: wrong bytes, exit 3", func(t *testing.T) {
				bad := append([]byte{}, agent...)
				bad[3] ^= 1
				r := runScript(t, sh, uploadScript, "upload", home, withSHA, header+string(bad))
				assert.Equal(t, 3, r.code, r.stderr)
				assert.Contains(t, r.stderr, "sha256 mismatch")
				assert.NoFileExists(t, cached)
			})
			t.Run("malformed header, exit 2", func(t *testing.T) {
				r := runScript(t, sh, uploadScript, "upload", home, withSHA, "~/x;rm validate-a "+sum+" 3\nabc")
				assert.Equal(t, 2, r.code, r.stderr)
				r = runScript(t, sh, startScript, "start", home, withSHA, "~/x other "+sum+" 3\n")
				assert.Equal(t, 2, r.code, r.stderr)
			})
			if busybox {
				// BusyBox's shell runs its own applets (sha256sum, df) before
				// PATH: a board without them cannot be made by PATH.
				return
			}
			t.Run("openssl instead of sha256sum", func(t *testing.T) {
				if _, err := exec.LookPath("openssl"); err != nil {
					t.Skip("no openssl here")
				}
				r := runScript(t, sh, uploadScript, "upload", home, toolDir(t, append(basicTools, "openssl")...), header+string(agent))
				require.Equal(t, 0, r.code, r.stderr)
				r = runScript(t, sh, startScript, "start", home, toolDir(t, append(basicTools, "openssl")...), header)
				assert.Equal(t, 0, r.code, r.stderr)
			})
			t.Run("no sha256 tool: refused, exit 4", func(t *testing.T) {
				bare := toolDir(t, basicTools...)
				r := runScript(t, sh, startScript, "start", home, bare, header)
				assert.Equal(t, 4, r.code, r.stderr)
				assert.Contains(t, r.stderr, "the board has no sha256 tool (sha256sum, openssl or shasum), so the agent cannot be verified")
				assert.NotContains(t, r.stdout, "agent ran", "never run unverified")
				require.NoError(t, os.Remove(cached))
				r = runScript(t, sh, uploadScript, "upload", home, bare, header+string(agent))
				assert.Equal(t, 4, r.code, r.stderr)
				assert.NoFileExists(t, cached)
			})
			t.Run("full disk: refused, exit 5", func(t *testing.T) {
				dir := toolDir(t, "head", "wc", "tr", "mkdir", "chmod", "mv", "rm", "cat", "sha256sum")
				df := "#!/bin/sh\necho 'Filesystem 1024-blocks Used Available Capacity Mounted on'\necho '/dev/vdb 2939 2911 28 99% /mnt/tiny'\n"
				require.NoError(t, os.WriteFile(filepath.Join(dir, "df"), []byte(df), 0o755))
				r := runScript(t, sh, uploadScript, "upload", home, dir, header+string(agent))
				assert.Equal(t, 5, r.code, r.stderr)
				assert.Contains(t, r.stderr, "no space for the agent in "+filepath.Join(home, ".cache/edgeval/agent")+": 28 KiB free, 64 KiB needed")
			})
		})
	}
}

// TestCheckAgentArch: an agent_binary for another architecture, or not an
// executable at all, is refused before it is sent.
func TestCheckAgentArch(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	b, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.NoError(t, checkAgentArch(exe, b, "linux", goruntime.GOARCH, "x"))
	other := "arm64"
	if goruntime.GOARCH == "arm64" {
		other = "amd64"
	}
	err = checkAgentArch(exe, b, "linux", other, "aarch64")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is built for linux/"+goruntime.GOARCH)
	assert.Contains(t, err.Error(), "GOARCH="+other)
	err = checkAgentArch("agent.sh", []byte("#!/bin/sh\n"), "linux", "arm64", "aarch64")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "agent_binary agent.sh is not a Linux executable")
	assert.NoError(t, checkAgentArch("x", []byte("not elf"), "darwin", "arm64", "arm64"), "other systems are not checked")
}
