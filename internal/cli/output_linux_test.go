//go:build linux

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// These tests make device nodes, FIFOs and tmpfs mounts inside
// t.TempDir() only; none names /dev/null or another real device, so a
// writer that replaced special files would replace the test's own node.

// mknodIn makes a character device node with the given numbers in dir, or
// skips when the kernel refuses.
func mknodIn(t *testing.T, dir, name string, major, minor int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, major<<8|minor); err != nil {
		t.Skipf("mknod of a character device in %s refused (%v): needs root with CAP_MKNOD", dir, err)
	}
	return p
}

func requireCharDevice(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeCharDevice, "%s is still a character device", p)
}

// fifoReader makes a FIFO in dir and reads it in a goroutine; the returned
// function waits (10 s at most) for what was written.
func fifoReader(t *testing.T, dir, name string) (string, func() []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, syscall.Mkfifo(p, 0o644))
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	return p, func() []byte {
		select {
		case b := <-got:
			return b
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing came through the FIFO %s in 10 s", p)
			return nil
		}
	}
}

// TestOutputSpecialFiles: -o, --out and the report flags write through a
// character device node, a FIFO and a chain of symbolic links without
// replacing them (`validate convert -o /dev/null` as root replaced the
// device node with a regular file).
func TestOutputSpecialFiles(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	dir := t.TempDir()
	null := mknodIn(t, dir, "null", 1, 3)

	t.Run("convert -o device node", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "convert", model, "-o", null)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "wrote "+null)
		requireCharDevice(t, null)
	})
	t.Run("convert -o FIFO", func(t *testing.T) {
		fifo, read := fifoReader(t, dir, "model.fifo")
		_, stderr, code := runCLI(t, "convert", model, "-o", fifo)
		require.Equal(t, 0, code, stderr)
		b := read()
		_, err := tflite.Read(b)
		assert.NoError(t, err, "the reader got the whole .tflite")
		fi, err := os.Lstat(fifo)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&fs.ModeNamedPipe, "still a FIFO")
	})
	t.Run("convert -o symlink chain", func(t *testing.T) {
		real := filepath.Join(dir, "models", "m.tflite")
		require.NoError(t, os.Mkdir(filepath.Dir(real), 0o755))
		require.NoError(t, os.Symlink(real, filepath.Join(dir, "abs.tflite")))
		require.NoError(t, os.Symlink("abs.tflite", filepath.Join(dir, "rel.tflite")))
		_, stderr, code := runCLI(t, "convert", model, "-o", filepath.Join(dir, "rel.tflite"))
		require.Equal(t, 0, code, stderr)
		b, err := os.ReadFile(real)
		require.NoError(t, err)
		_, err = tflite.Read(b)
		assert.NoError(t, err)
		for _, l := range []string{"abs.tflite", "rel.tflite"} {
			fi, err := os.Lstat(filepath.Join(dir, l))
			require.NoError(t, err)
			assert.NotZero(t, fi.Mode()&fs.ModeSymlink, "%s is still a link", l)
		}
	})
	t.Run("reference --out device node", func(t *testing.T) {
		_, stderr, code := runCLI(t, "reference", "--samples", "2", model, "--out", null)
		require.Equal(t, 0, code, stderr)
		requireCharDevice(t, null)
	})
	t.Run("validate --json --junit --markdown", func(t *testing.T) {
		junit, read := fifoReader(t, dir, "junit.fifo")
		md := filepath.Join(dir, "report.md")
		require.NoError(t, os.Symlink(filepath.Join(dir, "reports", "r.md"), md))
		require.NoError(t, os.Mkdir(filepath.Join(dir, "reports"), 0o755))
		stdout, stderr, code := runCLI(t, "--samples", "2", "--json", null, "--junit", junit, "--markdown", md, model)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "PASS")
		assert.Contains(t, string(read()), "<testsuite")
		requireCharDevice(t, null)
		b, err := os.ReadFile(filepath.Join(dir, "reports", "r.md"))
		require.NoError(t, err)
		assert.Contains(t, string(b), "PASS")
	})
}

// fullTmpfs mounts a 64 KiB tmpfs in a temporary directory and fills it,
// so that any write of data fails with ENOSPC; unmounted at cleanup. It
// skips when the kernel refuses the mount.
func fullTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("mounting a 64 KiB tmpfs on %s was refused (%v): needs root with CAP_SYS_ADMIN", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the test tmpfs %s: %v", dir, err)
		}
	})
	err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, 1<<20), 0o644)
	require.ErrorIs(t, err, syscall.ENOSPC, "the filler fills the tmpfs")
	return dir
}

// TestOutputFullDisk: a full or read-only disk while writing results is
// exit 3 (the environment) with a message that says so and names the
// file, never exit 2 (bad input); and nothing reports a PASS on stdout
// before the files are written.
func TestOutputFullDisk(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	full := fullTmpfs(t)

	tests := []struct {
		name string
		args func(path string) []string
		file string // the file the message must name
	}{
		{"convert -o", func(p string) []string { return []string{"convert", model, "-o", p} }, "m.tflite"},
		{"reference --out", func(p string) []string { return []string{"reference", "--samples", "2", model, "--out", p} }, "ref.npz"},
		{"validate --json", func(p string) []string { return []string{"--samples", "2", "--json", p, model} }, "result.json"},
		{"validate --markdown", func(p string) []string { return []string{"--samples", "2", "--markdown", p, model} }, "report.md"},
		{"validate --junit", func(p string) []string { return []string{"--samples", "2", "--junit", p, model} }, "junit.xml"},
		{"validate --out", func(p string) []string { return []string{"--samples", "2", "--out", p, model} }, "model.tflite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args(filepath.Join(full, tc.file))...)
			assert.Equal(t, exitcode.Failure, code, stderr)
			assert.Contains(t, stderr, "the disk is full")
			assert.Contains(t, stderr, tc.file)
			if tc.name != "validate --out" {
				// validate --out: the artifacts are written inside the
				// pipeline, before the report; see TestOutputFullDiskOut.
				assert.NotContains(t, stdout, "PASS", "no verdict printed when the results could not be written")
			}
		})
	}
	ents, err := os.ReadDir(full)
	require.NoError(t, err)
	for _, e := range ents {
		if e.IsDir() { // --out made its directory: it must hold no partial file
			sub, err := os.ReadDir(filepath.Join(full, e.Name()))
			require.NoError(t, err)
			assert.Empty(t, sub, "--out left %v", sub)
			continue
		}
		assert.Equal(t, "filler", e.Name(), "no partial or temporary file is left")
	}

	t.Run("read-only", func(t *testing.T) {
		require.NoError(t, syscall.Mount("", full, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
		out := filepath.Join(full, "m.tflite")
		_, stderr, code := runCLI(t, "convert", model, "-o", out)
		assert.Equal(t, exitcode.Failure, code, stderr)
		assert.Contains(t, stderr, "the file system is read-only")
		assert.Contains(t, stderr, out)
		_, stderr, code = runCLI(t, "--samples", "2", "--out", filepath.Join(full, "new"), model)
		assert.Equal(t, exitcode.Failure, code, stderr)
		assert.Contains(t, stderr, "the file system is read-only")
	})
}

// TestOutputFullDevice: a device that is always full (the /dev/full
// numbers, as a node of our own) gets the direct write, and its ENOSPC is
// exit 3 naming the file.
func TestOutputFullDevice(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	dev := mknodIn(t, t.TempDir(), "full", 1, 7)
	stdout, stderr, code := runCLI(t, "convert", model, "-o", dev)
	assert.Equal(t, exitcode.Failure, code, stderr)
	assert.Contains(t, stderr, "writing "+dev+": the disk is full")
	assert.NotContains(t, stdout, "wrote")
	requireCharDevice(t, dev)
}

// TestExitCodeEnvironment: ENOSPC, EDQUOT, EROFS and EIO are exit 3
// however a step wrapped them (an output file is wrapped as input, since a
// bad path is the user's); other path errors stay exit 2; a mismatch found
// alongside still counts first.
func TestExitCodeEnvironment(t *testing.T) {
	pathErr := func(op string, errno syscall.Errno) error {
		return &os.PathError{Op: op, Path: "/mnt/out/result.json", Err: errno}
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"--json on a full disk", inputError(&tensor.WriteError{Path: "r.json", Err: pathErr("write", syscall.ENOSPC)}), exitcode.Failure},
		{"--out mkdir on a read-only disk", inputError(fmt.Errorf("--out: %w", pathErr("mkdir", syscall.EROFS))), exitcode.Failure},
		{"quota", inputError(pathErr("write", syscall.EDQUOT)), exitcode.Failure},
		{"I/O error", inputError(pathErr("fsync", syscall.EIO)), exitcode.Failure},
		{"history on a full disk", fmt.Errorf("--history: %w", pathErr("write", syscall.ENOSPC)), exitcode.Failure},
		{"permission denied is the user's path", inputError(&tensor.WriteError{Path: "r.json", Err: pathErr("open", syscall.EACCES)}), exitcode.BadInput},
		{"missing directory is the user's path", inputError(pathErr("open", syscall.ENOENT)), exitcode.BadInput},
		{"a mismatch with a full disk", errors.Join(&exitcode.MismatchError{Msg: "output 0"}, inputError(pathErr("write", syscall.ENOSPC))), exitcode.Mismatch},
		{"bad input with a full disk", errors.Join(inputError(errors.New("m.h5: bad")), inputError(pathErr("write", syscall.ENOSPC))), exitcode.Failure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, exitcode.Of(tc.err), "%v", tc.err)
		})
	}
}

// TestReportEnvironment: the message says the disk is full or read-only
// once: a *tensor.WriteError says it itself, anything else gets a line.
func TestReportEnvironment(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"write error", inputError(&tensor.WriteError{Path: "r.json", Err: &os.PathError{Op: "write", Path: "/x/.r.json.tmp1", Err: syscall.ENOSPC}}),
			"validate: writing r.json: the disk is full: write /x/.r.json.tmp1: no space left on device\n"},
		{"mkdir", inputError(fmt.Errorf("--out: %w", &os.PathError{Op: "mkdir", Path: "/ro/out", Err: syscall.EROFS})),
			"validate: --out: mkdir /ro/out: read-only file system\nvalidate: the file system is read-only: the environment, not the input (exit 3)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, exitcode.Failure, reportError(tc.err, &stderr))
			assert.Equal(t, tc.want, stderr.String())
		})
	}
}

// TestOutputNoPassBeforeFiles: when a result file cannot be written, no
// PASS verdict reaches stdout: neither the text report's nor a "pass" JSON
// on --json -. A failed --out makes the verdict "error", and the report
// files are written before anything is printed.
func TestOutputNoPassBeforeFiles(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	full := fullTmpfs(t)
	tests := []struct {
		name string
		args []string
	}{
		{"--out", []string{"--samples", "2", "--out", filepath.Join(full, "out"), model}},
		{"--json - with --junit", []string{"--samples", "2", "--json", "-", "--junit", filepath.Join(full, "junit.xml"), model}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, exitcode.Failure, code, stderr)
			assert.Contains(t, stderr, "the disk is full")
			assert.NotRegexp(t, `(?m)^verdict\s+PASS`, stdout, "no PASS verdict (an output row may still say its comparison passed)")
			assert.NotContains(t, stdout, `"verdict": "pass"`)
		})
	}
}
