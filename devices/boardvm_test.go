package devices

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// The board VM tests run against a virtual Raspberry Pi 4 started by
// scripts/board-vm.sh (qemu-system-aarch64 -M virt -cpu cortex-a72, Debian 12
// arm64 or BusyBox userland): EDGEVAL_BOARD_VM names its run directory (the
// script prints it). scripts/test.sh's board stage sets it; without it these
// tests skip.

// vmBoard is a running board VM.
type vmBoard struct {
	dir, variant string
	devicesFile  string
	cfg          *Config
	// tflite and litert are its two profiles: the cgo agent with the TFLite
	// C runtime (XNNPACK, 2 threads), and validate built with CGO_ENABLED=0
	// running LiteRT under the board's Node.
	tflite, litert *Profile
}

func boardVM(t *testing.T) *vmBoard {
	t.Helper()
	dir := os.Getenv("EDGEVAL_BOARD_VM")
	if dir == "" {
		t.Skip("no board VM: start one with `bash scripts/board-vm.sh start` and set EDGEVAL_BOARD_VM to the directory it prints (scripts/test.sh's board stage does)")
	}
	b := &vmBoard{dir: dir, devicesFile: filepath.Join(dir, "devices.yaml")}
	v, err := os.ReadFile(filepath.Join(dir, "variant"))
	require.NoError(t, err)
	b.variant = strings.TrimSpace(string(v))
	b.cfg, err = ReadConfig(b.devicesFile)
	require.NoError(t, err)
	name := "rpi4-vm"
	if b.variant != "debian" {
		name += "-" + b.variant
	}
	b.tflite, b.litert = b.cfg.Devices[name], b.cfg.Devices[name+"-litert"]
	require.NotNil(t, b.tflite, "profile %s in %s", name, b.devicesFile)
	require.NotNil(t, b.litert, "profile %s-litert in %s", name, b.devicesFile)
	return b
}

// profile returns a copy of p with the changes made by edit.
func profileWith(p *Profile, name string, edit func(*Profile)) *Profile {
	q := *p
	q.Name = name
	edit(&q)
	return &q
}

// qemuPID is the VM's qemu process.
func (b *vmBoard) qemuPID(t *testing.T) int {
	s, err := os.ReadFile(filepath.Join(b.dir, "qemu.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(s)))
	require.NoError(t, err)
	return pid
}

// waitSSH waits until the VM's sshd sends its banner.
func (b *vmBoard) waitSSH(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", b.tflite.Addr(), 2*time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the board VM's sshd did not answer within %v", within)
}

// qmp sends one QMP command to the VM's qemu (the QMP socket in its run
// directory).
func (b *vmBoard) qmp(t *testing.T, command string) {
	t.Helper()
	c, err := net.DialTimeout("unix", filepath.Join(b.dir, "qmp.sock"), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	_, err = r.ReadString('\n') // greeting
	require.NoError(t, err)
	for _, cmd := range []string{"qmp_capabilities", command} {
		_, err = fmt.Fprintf(c, "{\"execute\":%q}\n", cmd)
		require.NoError(t, err)
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if strings.Contains(line, `"return"`) {
				break
			}
			require.NotContains(t, line, `"error"`, cmd)
		}
	}
}

// onBoard runs a constant shell command on the board as the profile's user
// (test set-up only: the product never sends variable shell strings).
func onBoard(t *testing.T, p *Profile, cmd, stdin string) string {
	t.Helper()
	ctx := context.Background()
	c, err := dialSSH(ctx, p, dialOptions{})
	require.NoError(t, err)
	defer c.Close()
	out, err := runFixed(ctx, c, cmd, strings.NewReader(stdin), time.Minute)
	require.NoError(t, err, cmd)
	return string(out)
}

// TestBoardVMProbe: the facts of the virtual Pi say what it is — aarch64,
// Cortex-A72, a QEMU virtual machine — and the probe uses the profile's
// runtime settings as a run does.
func TestBoardVMProbe(t *testing.T) {
	b := boardVM(t)
	ctx := context.Background()
	f, err := Probe(ctx, b.tflite, Options{AgentVersion: "dev"})
	require.NoError(t, err)
	assert.Equal(t, "aarch64", f.Arch)
	assert.Equal(t, "linux/arm64", f.GoArch)
	assert.Equal(t, "ARM Cortex-A72", f.CPUModel)
	assert.Equal(t, 2, f.Cores)
	assert.Contains(t, f.Virtual, "QEMU virt machine")
	assert.Contains(t, f.LatencyWarning(), "not on a physical board")
	rts := map[string]RuntimeFacts{}
	for _, r := range f.Runtimes {
		rts[r.Name] = r
	}
	assert.True(t, rts["tflite"].Available, "%+v", rts["tflite"])
	assert.Equal(t, "2.17.1", rts["tflite"].Version)
	require.True(t, rts["litert"].Available, "the profile's node_modules is used by the probe: %+v", rts["litert"])
	assert.Contains(t, rts["litert"].Detail, "node v18.")
	assert.Contains(t, rts["litert"].Detail, "/home/pi/edgeval/node_modules")

	t.Run("node_modules folder not named node_modules", func(t *testing.T) {
		p := profileWith(b.litert, "wrong-nm", func(p *Profile) { p.NodeModules = "/home/pi/edgeval/node_modules/@litertjs" })
		f, err := Probe(ctx, p, Options{AgentVersion: "dev"})
		require.NoError(t, err)
		assert.False(t, f.Runtimes[0].Available)
		assert.Contains(t, f.Runtimes[0].Detail, "must be named node_modules")
		model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
		_, err = Open(ctx, p, model, Options{AgentVersion: "dev"})
		var re *runtime.Error
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), "device wrong-nm")
		assert.Contains(t, err.Error(), "must be named node_modules")
	})
	t.Run("Node too old", func(t *testing.T) {
		onBoard(t, b.litert, "cat > old-node && chmod 755 old-node", "#!/bin/sh\necho v16.20.2\n")
		p := profileWith(b.litert, "old-node", func(p *Profile) { p.Node = "/home/pi/old-node" })
		f, err := Probe(ctx, p, Options{AgentVersion: "dev"})
		require.NoError(t, err)
		assert.False(t, f.Runtimes[0].Available)
		assert.Contains(t, f.Runtimes[0].Detail, "too old")
		model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
		_, err = Open(ctx, p, model, Options{AgentVersion: "dev"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Node.js v16.20.2, too old: the LiteRT runtime needs Node.js 18 or newer")
	})
}

// TestBoardVMAgentOverwritten: a cached agent overwritten on the board (here
// by a script that would leave a mark) is found by its sha256 before use,
// never executed, and replaced.
func TestBoardVMAgentOverwritten(t *testing.T) {
	b := boardVM(t)
	ctx := context.Background()
	p := profileWith(b.tflite, b.tflite.Name, func(p *Profile) { p.CacheDir = "~/.cache/edgeval-overwrite-test" })
	_, err := Probe(ctx, p, Options{AgentVersion: "dev"})
	require.NoError(t, err)
	bin, err := agentFor(p, "dev", "Linux", "aarch64")
	require.NoError(t, err)
	cached := ".cache/edgeval-overwrite-test/agent/" + bin.name
	onBoard(t, p, "rm -f pwned; cat > "+cached, "#!/bin/sh\necho pwned > $HOME/pwned\n")
	var log logBuffer
	f, err := Probe(ctx, p, Options{AgentVersion: "dev", Log: &log})
	require.NoError(t, err, log.String())
	assert.Equal(t, "aarch64", f.Arch)
	assert.Contains(t, log.String(), "did not match its sha256: sending it again")
	out := onBoard(t, p, "if [ -e pwned ]; then echo executed; else echo never-run; fi; wc -c < "+cached, "")
	assert.Contains(t, out, "never-run")
	assert.Contains(t, out, strconv.FormatInt(bin.size, 10), "the agent was sent again")
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// validateCLI builds cmd/validate for this machine once.
func validateCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edgeval-board-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "validate")
		cliErr = testutil.BuildValidate(t, cliPath, nil)
	})
	require.NoError(t, cliErr)
	return cliPath
}

// cli runs validate with args and returns its stdout, stderr and exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(validateCLI(t), args...)
	cmd.Dir = t.TempDir()
	// This machine's LiteRT (for --device host,…) finds the repository's node_modules.
	cmd.Env = append(os.Environ(), "EDGEVAL_NODE_MODULES="+filepath.Join(testutil.RepoRoot(t), "node_modules"))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return stdout.String(), stderr.String(), code
}

// TestBoardVMCLI runs validate end to end on the board VM: a Keras model,
// a PyTorch state_dict and a torch.export program, with both runtimes, and a
// .tflite side by side with this machine.
func TestBoardVMCLI(t *testing.T) {
	b := boardVM(t)
	vww := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	for _, p := range []*Profile{b.tflite, b.litert} {
		t.Run("vww_96.h5 on "+p.Name, func(t *testing.T) {
			out, stderr, code := cli(t, "--devices", b.devicesFile, "--device", p.Name, "--json", "-", vww)
			require.Equal(t, 0, code, stderr)
			var res struct {
				Verdict string `json:"verdict"`
				Runtime struct{ Name, Version, Delegate string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			assert.Equal(t, "pass", res.Verdict)
			if p.Runtime == "tflite" {
				assert.Equal(t, "tflite-c", res.Runtime.Name)
				assert.Equal(t, "2.17.1", res.Runtime.Version)
				assert.Equal(t, "xnnpack", res.Runtime.Delegate)
			} else {
				assert.Equal(t, "litert-wasm", res.Runtime.Name)
				assert.Equal(t, "2.5.3", res.Runtime.Version)
			}
		})
	}
	corpus := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus")
	for _, m := range [][]string{
		{"torch/block_lenet/model.pt2"},
		{"--arch", "torch/block_resnet_down/arch.yaml", "torch/block_resnet_down/state_dict.pth"},
	} {
		t.Run(strings.Join(m, " "), func(t *testing.T) {
			args := []string{"--devices", b.devicesFile, "--device", b.tflite.Name}
			for _, a := range m {
				if strings.HasPrefix(a, "torch/") {
					a = filepath.Join(corpus, a)
				}
				args = append(args, a)
			}
			_, stderr, code := cli(t, args...)
			require.Equal(t, 0, code, stderr)
		})
	}
	t.Run("validate --device host,board", func(t *testing.T) {
		out, stderr, code := cli(t, "--devices", b.devicesFile, "--device", "host,"+b.tflite.Name, vww)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "== host")
		assert.Contains(t, out, "== "+b.tflite.Name)
		assert.Equal(t, 2, strings.Count(out, "verdict   PASS"), out)
	})
	t.Run("run --device host,board", func(t *testing.T) {
		model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96_float.tflite")
		out, stderr, code := cli(t, "run", "--devices", b.devicesFile, "--device", "host,"+b.tflite.Name, "--samples", "3", model)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "== host")
		assert.Contains(t, out, "== "+b.tflite.Name)
		assert.Contains(t, out, "tflite-c 2.17.1 on "+b.tflite.Name+", delegate xnnpack")
		assert.Contains(t, out, "aarch64 6.1")
		assert.Contains(t, out, "ARM Cortex-A72, 2 cores")
	})
	t.Run("run --json: device facts", func(t *testing.T) {
		model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96_float.tflite")
		out, stderr, code := cli(t, "run", "--devices", b.devicesFile, "--device", b.litert.Name, "--samples", "2", "--json", "-", model)
		require.Equal(t, 0, code, stderr)
		var res struct {
			DeviceFacts *Facts `json:"device_facts"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		require.NotNil(t, res.DeviceFacts)
		assert.Equal(t, "aarch64", res.DeviceFacts.Arch)
		assert.Equal(t, "ARM Cortex-A72", res.DeviceFacts.CPUModel)
		assert.Contains(t, res.DeviceFacts.Virtual, "QEMU")
	})
}

// TestBoardVMFaults: the faults of a real board, on the virtual one, each
// with validate's exit code. Power loss comes last: it kills the VM, which
// is then started again.
func TestBoardVMFaults(t *testing.T) {
	b := boardVM(t)
	if b.variant != "debian" {
		t.Skip("the fault tests run on the Debian variant")
	}
	model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96_float.tflite")
	// writeProfile writes a devices.yaml with one edited copy of the tflite profile.
	writeProfile := func(t *testing.T, name string, extra ...string) string {
		p := b.tflite
		lines := []string{"devices:", "  " + name + ":",
			"    host: " + p.Host, fmt.Sprintf("    port: %d", p.Port), "    user: " + p.User,
			"    identity_file: " + p.IdentityFile, "    known_hosts: " + p.KnownHosts,
			"    runtime: tflite", "    delegate: xnnpack", "    threads: 2", "    retry_backoff: 200ms"}
		hasAgent := false
		for _, e := range extra {
			hasAgent = hasAgent || strings.HasPrefix(e, "agent_binary:")
			lines = append(lines, "    "+e)
		}
		if !hasAgent {
			lines = append(lines, "    agent_binary: "+p.AgentBinary)
		}
		f := filepath.Join(t.TempDir(), "devices.yaml")
		require.NoError(t, os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
		return f
	}

	t.Run("wrong architecture agent: exit 3", func(t *testing.T) {
		f := writeProfile(t, "rpi4-vm-amd64", "agent_binary: "+validateCLI(t))
		_, stderr, code := cli(t, "run", "--devices", f, "--device", "rpi4-vm-amd64", model)
		assert.Equal(t, 3, code, stderr)
		assert.Contains(t, stderr, "device rpi4-vm-amd64")
		assert.Contains(t, stderr, "is built for linux/amd64 (ELF EM_X86_64), and the board is arm64 (aarch64, uname -m): it cannot run there")
	})
	t.Run("full disk: exit 3", func(t *testing.T) {
		f := writeProfile(t, "rpi4-vm-full", "cache_dir: /mnt/tiny/edgeval")
		_, stderr, code := cli(t, "run", "--devices", f, "--device", "rpi4-vm-full", model)
		assert.Equal(t, 3, code, stderr)
		assert.Contains(t, stderr, "device rpi4-vm-full")
		assert.Contains(t, stderr, "edgeval upload: no space for the agent in /mnt/tiny/edgeval/agent")
	})
	t.Run("reboot between runs: exit 0", func(t *testing.T) {
		f := writeProfile(t, "rpi4-vm-reboot")
		_, stderr, code := cli(t, "run", "--devices", f, "--device", "rpi4-vm-reboot", "--samples", "2", model)
		require.Equal(t, 0, code, stderr)
		b.qmp(t, "system_reset") // the board is reset without a shutdown: unsynced writes are lost
		b.waitSSH(t, 3*time.Minute)
		_, stderr, code = cli(t, "run", "--devices", f, "--device", "rpi4-vm-reboot", "--samples", "2", model)
		assert.Equal(t, 0, code, stderr)
		resent := strings.Contains(stderr, "sending agent") || strings.Contains(stderr, "did not match its sha256")
		t.Logf("after the reset the agent cache %s", map[bool]string{true: "was re-sent: " + stderr, false: "survived"}[resent])
	})
	t.Run("power loss mid-run: exit 3, completed samples kept", func(t *testing.T) {
		f := writeProfile(t, "rpi4-vm-power", "retries: 1")
		out := filepath.Join(t.TempDir(), "out.npz")
		// The agent and the model are cached by a first run, so the long
		// run is inferring within a few seconds.
		_, stderr, code := cli(t, "run", "--devices", f, "--device", "rpi4-vm-power", "--samples", "1", model)
		require.Equal(t, 0, code, stderr)
		cmd := exec.Command(validateCLI(t), "run", "--devices", f, "--device", "rpi4-vm-power", "--samples", "400", "--out", out, model)
		var errb strings.Builder
		cmd.Stderr = &errb
		require.NoError(t, cmd.Start())
		time.Sleep(12 * time.Second)
		pid := b.qemuPID(t)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL), "power loss")
		err := cmd.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, errb.String())
		assert.Equal(t, 3, ee.ExitCode(), errb.String())
		assert.Contains(t, errb.String(), "device rpi4-vm-power")
		assert.Contains(t, errb.String(), "completed samples written to "+out)
		_, err = os.Stat(out)
		assert.NoError(t, err, "the completed samples are kept")
		t.Logf("after power loss: %s", errb.String())

		restart := exec.Command("bash", filepath.Join(testutil.RepoRoot(t), "scripts", "board-vm.sh"), "start")
		restart.Stderr = os.Stderr
		restartOut, err := restart.Output()
		require.NoError(t, err, "restarting the board VM")
		assert.Equal(t, b.dir, strings.TrimSpace(string(restartOut)))
	})
}

// boardCase is one corpus .tflite run on the board VM.
type boardCase struct {
	family    string // framework/prefix of the case name ("keras/conv2d")
	name      string // framework/case/file
	path      string
	precision precision.Precision
}

// boardCorpus picks the board corpus from testdata/corpus: per op family
// (the case name's prefix, per framework) the first perFamily cases'
// float32 files (TF's converter for Keras, litert-torch's for PyTorch),
// and every float16, dynamic-range and int8 file.
func boardCorpus(t *testing.T, perFamily int) []boardCase {
	t.Helper()
	root := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus")
	var out []boardCase
	for _, fw := range []string{"keras", "torch"} {
		entries, err := os.ReadDir(filepath.Join(root, fw))
		require.NoError(t, err)
		taken := map[string]int{}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			prefix, _, _ := strings.Cut(e.Name(), "_")
			family := fw + "/" + prefix
			for _, f := range []struct {
				file string
				p    precision.Precision
			}{{"tf_float32.tflite", precision.Float32}, {"litert_torch.tflite", precision.Float32},
				{"tf_float16.tflite", precision.Float16}, {"tf_dynamic.tflite", precision.Dynamic}, {"tf_int8.tflite", precision.Int8}} {
				path := filepath.Join(root, fw, e.Name(), f.file)
				if _, err := os.Stat(path); err != nil {
					continue
				}
				if f.p == precision.Float32 {
					if taken[family] >= perFamily {
						continue
					}
					taken[family]++
				}
				out = append(out, boardCase{family: family, name: fw + "/" + e.Name() + "/" + f.file, path: path, precision: f.p})
			}
		}
	}
	return out
}

// boardInputs makes n seeded samples for a session: floats in [-1, 1],
// quantized integers over their range, other integers (indices) in [0, 2].
func boardInputs(s runtime.Session, n int) [][]*tensor.Tensor {
	rng := tensor.NewRNG(7)
	out := make([][]*tensor.Tensor, n)
	for i := range out {
		for _, in := range s.Inputs() {
			lo, hi := -1.0, 1.0
			if in.DType.IsInteger() {
				lo, hi = 0, 2
				if in.Quant != nil {
					l, h := in.DType.Range()
					lo, hi = float64(l), float64(h)
				}
			}
			out[i] = append(out[i], tensor.Random(rng, in.DType, in.Shape, lo, hi))
		}
	}
	return out
}

// boardKnown lists corpus files whose ARM result is known to differ from
// x86's beyond the tolerance, or that the ARM runtime cannot run, with the
// reason.
var boardKnown = map[string]string{
	"keras/block_vit/tf_dynamic.tflite": "TFLite C 2.17.1 for aarch64 with the XNNPACK delegate crashes (SIGSEGV in the agent, every run) " +
		"on the TF converter's dynamic-range ViT (hybrid int8-weight operators around BATCH_MATMUL); it runs with --delegate none, and " +
		"x86 runs it with XNNPACK. validate reports the crash as a device failure (exit 3), never a pass",
}

// TestBoardVMCorpus runs corpus models on the board VM (aarch64 TFLite C
// 2.17.1, XNNPACK's NEON kernels, 2 threads) and on this machine (x86-64,
// the same library's AVX kernels) with the same inputs: the outputs must
// agree within each precision's tolerance. It logs the counts per op family
// and the worst difference, and writes them to corpus-summary.json in the
// VM's run directory. EDGEVAL_BOARD_CORPUS_PER_FAMILY (default 2) sets how
// many float32 cases of each family run.
func TestBoardVMCorpus(t *testing.T) {
	b := boardVM(t)
	if b.variant != "debian" {
		t.Skip("the board corpus runs on the Debian variant")
	}
	if _, err := runtime.Get("tflite"); err != nil {
		t.Skipf("this test binary has no TFLite C runtime to compare with (go test -tags tflite): %v", err)
	}
	perFamily := 2
	if s := os.Getenv("EDGEVAL_BOARD_CORPUS_PER_FAMILY"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		perFamily = n
	}
	cases := boardCorpus(t, perFamily)
	require.GreaterOrEqual(t, len(cases), 40, "the board corpus has at least 40 models")
	noIsolate := false
	host := &Profile{Name: HostName, Runtime: "tflite", Delegate: "xnnpack", Threads: 2, Isolate: &noIsolate}
	require.NoError(t, host.normalize())
	ctx := context.Background()

	type tally struct{ Pass, Fail, Known int }
	type worst struct {
		Model     string  `json:"model"`
		Output    string  `json:"output"`
		MaxAbs    float64 `json:"max_abs"`
		RelRange  float64 `json:"rel_to_range"`
		Precision string  `json:"precision"`
	}
	families := map[string]*tally{}
	var worstFloat, worstQuant worst
	var failures []string
	start := time.Now()
	for _, c := range cases {
		if families[c.family] == nil {
			families[c.family] = &tally{}
		}
		err := func() error {
			model, err := os.ReadFile(c.path)
			if err != nil {
				return err
			}
			hs, err := Open(ctx, host, model, Options{AgentVersion: "dev"})
			if err != nil {
				return fmt.Errorf("x86: %w", err)
			}
			defer hs.Close()
			bs, err := Open(ctx, b.tflite, model, Options{AgentVersion: "dev"})
			if err != nil {
				return fmt.Errorf("board: %w", err)
			}
			defer bs.Close()
			var why []string
			for _, in := range boardInputs(hs, 2) {
				want, err := hs.Run(ctx, in)
				if err != nil {
					return fmt.Errorf("x86: %w", err)
				}
				got, err := bs.Run(ctx, in)
				if err != nil {
					return fmt.Errorf("board: %w", err)
				}
				for k, info := range hs.Outputs() {
					r, err := compare.Output(info.Name, want.Outputs[k], got.Outputs[k], compare.Options{Precision: c.precision})
					if err != nil {
						return err
					}
					m := r.Metrics
					rel := m.MaxAbs
					if m.RefRange > 0 {
						rel = m.MaxAbs / m.RefRange
					}
					w := &worstFloat
					if c.precision != precision.Float32 && c.precision != precision.Float16 {
						w = &worstQuant
					}
					if rel > w.RelRange {
						*w = worst{c.name, info.Name, m.MaxAbs, rel, string(c.precision)}
					}
					if !r.Pass {
						why = append(why, fmt.Sprintf("%s: %s", info.Name, strings.Join(r.Why, "; ")))
					}
				}
			}
			if len(why) > 0 {
				return fmt.Errorf("ARM differs from x86: %s", strings.Join(why, "; "))
			}
			return nil
		}()
		_, known := boardKnown[c.name]
		switch {
		case err == nil && known:
			families[c.family].Fail++
			failures = append(failures, c.name+": passes but is listed in boardKnown: remove it")
		case err == nil:
			families[c.family].Pass++
		case known:
			families[c.family].Known++
		default:
			families[c.family].Fail++
			failures = append(failures, c.name+": "+err.Error())
		}
	}
	elapsed := time.Since(start)
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	var total tally
	var table strings.Builder
	for _, n := range names {
		f := families[n]
		fmt.Fprintf(&table, "%-22s pass %2d  fail %d  known %d\n", n, f.Pass, f.Fail, f.Known)
		total.Pass, total.Fail, total.Known = total.Pass+f.Pass, total.Fail+f.Fail, total.Known+f.Known
	}
	t.Logf("board corpus: %d models in %d op families in %v: pass %d, fail %d, known %d\n%s"+
		"worst float x86-vs-ARM difference: %s output %s max abs %.3g (%.3g of range)\n"+
		"worst quantized difference: %s (%s) output %s max abs %.3g (%.3g of range)",
		len(cases), len(families), elapsed.Round(time.Second), total.Pass, total.Fail, total.Known, table.String(),
		worstFloat.Model, worstFloat.Output, worstFloat.MaxAbs, worstFloat.RelRange,
		worstQuant.Model, worstQuant.Precision, worstQuant.Output, worstQuant.MaxAbs, worstQuant.RelRange)
	summary, err := json.MarshalIndent(map[string]any{
		"models": len(cases), "families": families, "pass": total.Pass, "fail": total.Fail, "known": total.Known,
		"worst_float": worstFloat, "worst_quantized": worstQuant, "seconds": elapsed.Seconds(), "failures": failures,
	}, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(b.dir, "corpus-summary.json"), summary, 0o644))
	assert.Empty(t, failures)
}
