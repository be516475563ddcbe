//go:build linux

package tensor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests make device nodes, FIFOs, sockets and tmpfs mounts inside
// t.TempDir() only. None of them names /dev/null or any other real device:
// a regression that replaced special files would replace a node of the
// test's own temporary directory.

var payload = []byte("result file contents\n")

// dirNames lists dir's entries, to show that no temporary file was left.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomicRegular(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte // nil: the path does not exist
	}{
		{"new path", nil},
		{"existing longer file", bytes.Repeat([]byte("old "), 100)},
		{"existing empty file", []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			var before fs.FileInfo
			if tc.existing != nil {
				require.NoError(t, os.WriteFile(path, tc.existing, 0o600))
				var err error
				before, err = os.Stat(path)
				require.NoError(t, err)
			}
			require.NoError(t, WriteFileAtomic(path, payload))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, payload, got)
			after, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o644), after.Mode())
			if before != nil {
				assert.False(t, os.SameFile(before, after), "an existing regular file is replaced by rename, not rewritten in place")
			}
			assert.Equal(t, []string{"out.json"}, dirNames(t, dir), "no temporary file left")
		})
	}
}

func TestWriteFileAtomicSymlinks(t *testing.T) {
	type link struct{ path, to string } // relative to the test's root
	tests := []struct {
		name   string
		links  []link // made in order
		write  string // the path given to WriteFileAtomic
		target string // the file that must hold the payload
		old    bool   // the target exists before the write
	}{
		{"relative, same directory", []link{{"a/out.json", "real.json"}}, "a/out.json", "a/real.json", true},
		{"relative with .., other directory", []link{{"a/out.json", "../b/real.json"}}, "a/out.json", "b/real.json", true},
		{"absolute", []link{{"a/out.json", "/ROOT/b/real.json"}}, "a/out.json", "b/real.json", true},
		{"chain: relative to absolute to relative", []link{
			{"c/last.json", "../b/real.json"},
			{"b/mid.json", "/ROOT/c/last.json"},
			{"a/out.json", "../b/mid.json"},
		}, "a/out.json", "b/real.json", true},
		{"through a linked directory", []link{{"d", "b"}, {"a/out.json", "../d/real.json"}}, "a/out.json", "b/real.json", true},
		{"dangling: the target is created", []link{{"a/out.json", "../b/new.json"}}, "a/out.json", "b/new.json", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"a", "b", "c"} {
				require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
			}
			target := filepath.Join(root, tc.target)
			var before fs.FileInfo
			if tc.old {
				require.NoError(t, os.WriteFile(target, []byte("old contents, longer than the new ones"), 0o644))
				var err error
				before, err = os.Stat(target)
				require.NoError(t, err)
			}
			for _, l := range tc.links {
				require.NoError(t, os.Symlink(strings.ReplaceAll(l.to, "/ROOT", root), filepath.Join(root, l.path)))
			}
			require.NoError(t, WriteFileAtomic(filepath.Join(root, tc.write), payload))

			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, payload, got)
			for _, l := range tc.links {
				fi, err := os.Lstat(filepath.Join(root, l.path))
				require.NoError(t, err)
				assert.NotZero(t, fi.Mode()&fs.ModeSymlink, "%s is still a link", l.path)
				to, err := os.Readlink(filepath.Join(root, l.path))
				require.NoError(t, err)
				assert.Equal(t, strings.ReplaceAll(l.to, "/ROOT", root), to, "%s still points where it did", l.path)
			}
			if before != nil {
				after, err := os.Stat(target)
				require.NoError(t, err)
				assert.False(t, os.SameFile(before, after), "the target is replaced atomically in its own directory")
			}
			for _, d := range []string{"a", "b", "c"} {
				for _, n := range dirNames(t, filepath.Join(root, d)) {
					assert.False(t, strings.Contains(n, ".tmp"), "temporary file %s/%s left behind", d, n)
				}
			}
		})
	}
}

func TestWriteFileAtomicSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.Symlink("b", a))
	require.NoError(t, os.Symlink("a", b))
	err := WriteFileAtomic(a, payload)
	var we *WriteError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, syscall.ELOOP)
	assert.Equal(t, a, we.Path)
	assert.ElementsMatch(t, []string{"a", "b"}, dirNames(t, dir))
}

func TestWriteFileAtomicFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("pipe", link))
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB: more than a pipe buffer

	for _, path := range []string{fifo, link} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := make(chan []byte, 1)
			go func() {
				f, err := os.Open(fifo)
				if err != nil {
					got <- nil
					return
				}
				defer f.Close()
				b, _ := io.ReadAll(f)
				got <- b
			}()
			require.NoError(t, WriteFileAtomic(path, big))
			assert.Equal(t, big, received(t, got), "the reader gets every byte")
			fi, err := os.Lstat(fifo)
			require.NoError(t, err)
			assert.NotZero(t, fi.Mode()&fs.ModeNamedPipe, "still a FIFO")
			assert.ElementsMatch(t, []string{"pipe", "link"}, dirNames(t, dir))
		})
	}
}

// mknodChar makes a character device node in dir, or skips the test when
// the kernel refuses.
func mknodChar(t *testing.T, dir, name string, major, minor uint32) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(mkdev(major, minor))); err != nil {
		t.Skipf("mknod of a character device in %s refused (%v): needs root with CAP_MKNOD", dir, err)
	}
	return p
}

func mkdev(major, minor uint32) uint64 {
	return uint64(major&0xfff)<<8 | uint64(minor&0xff) | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// assertCharDevice checks p is still the character device node it was.
func assertCharDevice(t *testing.T, p string, major, minor uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeCharDevice, "%s is still a character device", p)
	st, ok := fi.Sys().(*syscall.Stat_t)
	require.True(t, ok)
	assert.Equal(t, mkdev(major, minor), st.Rdev, "%s is still the same device", p)
}

func TestWriteFileAtomicCharDevice(t *testing.T) {
	dir := t.TempDir()
	null := mknodChar(t, dir, "null", 1, 3) // the null device's numbers, in our own directory
	link := filepath.Join(dir, "out.tflite")
	require.NoError(t, os.Symlink(null, link))

	for _, path := range []string{null, link} {
		require.NoError(t, WriteFileAtomic(path, payload), path)
		assertCharDevice(t, null, 1, 3)
	}
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeSymlink, "the link is still a link")
	assert.ElementsMatch(t, []string{"null", "out.tflite"}, dirNames(t, dir))
}

func TestWriteFileAtomicFullDevice(t *testing.T) {
	dir := t.TempDir()
	full := mknodChar(t, dir, "full", 1, 7) // the /dev/full device's numbers: every write fails with ENOSPC
	err := WriteFileAtomic(full, payload)
	var we *WriteError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, "the disk is full", EnvironmentFault(err))
	assert.Contains(t, err.Error(), full)
	assert.Contains(t, err.Error(), "the disk is full")
	assertCharDevice(t, full, 1, 7)
	assert.Equal(t, []string{"full"}, dirNames(t, dir))
}

func TestWriteFileAtomicSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	require.NoError(t, WriteFileAtomic(sock, payload))
	assert.Equal(t, payload, received(t, got))
	fi, err := os.Lstat(sock)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeSocket, "still a socket")
}

// TestWriteFileAtomicProcFD writes through /dev/fd/N, as -o /dev/stdout
// does: a pipe gets the bytes, a regular file is appended to in place.
func TestWriteFileAtomicProcFD(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		got := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(r); got <- b }()
		err = WriteFileAtomic(fmt.Sprintf("/dev/fd/%d", w.Fd()), payload)
		w.Close()
		require.NoError(t, err)
		assert.Equal(t, payload, received(t, got))
	})
	t.Run("regular file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "stdout.txt")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.WriteString("before\n")
		require.NoError(t, err)
		before, err := f.Stat()
		require.NoError(t, err)
		require.NoError(t, WriteFileAtomic(fmt.Sprintf("/dev/fd/%d", f.Fd()), payload))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, append([]byte("before\n"), payload...), got)
		after, err := os.Stat(path)
		require.NoError(t, err)
		assert.True(t, os.SameFile(before, after), "the open file is written, not replaced")
		assert.Equal(t, []string{"stdout.txt"}, dirNames(t, dir))
	})
}

// freeBlockMajor returns a block major number in the range devices.txt
// reserves for local use (60-63) that no driver has registered, so that
// even a writer that opened the node could reach no disk.
func freeBlockMajor(t *testing.T) uint32 {
	t.Helper()
	f, err := os.Open("/proc/devices")
	require.NoError(t, err)
	defer f.Close()
	used, block := map[uint32]bool{}, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "Block devices:" {
			block = true
			continue
		}
		fields := strings.Fields(line)
		if block && len(fields) == 2 {
			if n, err := strconv.Atoi(fields[0]); err == nil {
				used[uint32(n)] = true
			}
		}
	}
	for m := uint32(60); m <= 63; m++ {
		if !used[m] {
			return m
		}
	}
	t.Skip("every local-use block major (60-63) is registered: no safe block device node to make")
	return 0
}

func TestWriteFileAtomicRefuses(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	err := WriteFileAtomic(sub, payload)
	assert.ErrorIs(t, err, syscall.EISDIR)
	fi, serr := os.Stat(sub)
	require.NoError(t, serr)
	assert.True(t, fi.IsDir())

	major := freeBlockMajor(t)
	blk := filepath.Join(dir, "disk")
	if err := syscall.Mknod(blk, syscall.S_IFBLK|0o600, int(mkdev(major, 0))); err != nil {
		t.Skipf("mknod of a block device refused (%v)", err)
	}
	err = WriteFileAtomic(blk, payload)
	var we *WriteError
	require.ErrorAs(t, err, &we)
	assert.Contains(t, err.Error(), "block device")
	fi, serr = os.Lstat(blk)
	require.NoError(t, serr)
	assert.True(t, fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0, "still a block device")
	assert.ElementsMatch(t, []string{"sub", "disk"}, dirNames(t, dir))
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted at
// cleanup, or skips the test when the kernel refuses.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("mounting a %d-byte tmpfs on %s was refused (%v): needs root with CAP_SYS_ADMIN", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the test tmpfs %s: %v", dir, err)
		}
	})
	return dir
}

func TestWriteFileAtomicFullDisk(t *testing.T) {
	dir := mountTmpfs(t, 64<<10)
	path := filepath.Join(dir, "result.json")
	old := []byte("the previous result\n")
	require.NoError(t, WriteFileAtomic(path, old))

	err := WriteFileAtomic(path, bytes.Repeat([]byte("x"), 256<<10))
	var we *WriteError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, "the disk is full", EnvironmentFault(err))
	assert.Contains(t, err.Error(), "writing "+path+": the disk is full")
	got, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, old, got, "the old file is intact")
	assert.Equal(t, []string{"result.json"}, dirNames(t, dir), "the partial temporary file is removed")

	require.NoError(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
	err = WriteFileAtomic(path, payload)
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, syscall.EROFS)
	assert.Equal(t, "the file system is read-only", EnvironmentFault(err))
	assert.Contains(t, err.Error(), path)
	got, rerr = os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, old, got)
}

func TestEnvironmentFault(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, "the disk is full"},
		{fmt.Errorf("--out: %w", &os.PathError{Op: "mkdir", Path: "x", Err: syscall.EROFS}), "the file system is read-only"},
		{&WriteError{Path: "x", Err: syscall.EDQUOT}, "the disk quota is exceeded"},
		{syscall.EIO, "the storage device reported an I/O error"},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}, ""},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, ""},
		{errors.New("no space left on device"), ""}, // only the errno counts, not words
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, EnvironmentFault(tc.err), "%v", tc.err)
	}
}

// received waits for a reader goroutine's bytes; a writer that replaced the
// special file instead of writing it leaves the reader waiting forever.
func received(t *testing.T, got <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-got:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got nothing in 10 s: the special file was not written")
	}
	return nil
}
