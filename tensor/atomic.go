package tensor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds how many symbolic links WriteFileAtomic follows, like the
// kernel's own limit (ELOOP past it).
const maxLinks = 40

// WriteError is a failure to write an output file. Path is the file as the
// caller named it; Target, when not empty, is where its symbolic links led.
type WriteError struct {
	Path   string
	Target string
	Err    error
}

// Error names the file and, when the cause is the machine's (see
// EnvironmentFault), says so in plain words.
func (e *WriteError) Error() string {
	name := e.Path
	if e.Target != "" && e.Target != e.Path {
		name = fmt.Sprintf("%s (a link to %s)", e.Path, e.Target)
	}
	if f := EnvironmentFault(e.Err); f != "" {
		return fmt.Sprintf("writing %s: %s: %v", name, f, e.Err)
	}
	return fmt.Sprintf("writing %s: %v", name, e.Err)
}

// Unwrap returns the cause, so errors.Is finds the errno.
func (e *WriteError) Unwrap() error { return e.Err }

// EnvironmentFault describes err in plain words when its cause is the
// machine's storage rather than the path or the data: the disk is full
// (ENOSPC), the quota is exceeded (EDQUOT), the file system is read-only
// (EROFS) or the device failed (EIO). It returns "" for any other error.
func EnvironmentFault(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full"
	case errors.Is(err, syscall.EDQUOT):
		return "the disk quota is exceeded"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only"
	case errors.Is(err, syscall.EIO):
		return "the storage device reported an I/O error"
	}
	return ""
}

// WriteFileAtomic writes b to path, changing nothing but the file path
// names, and never leaving a partial regular file behind:
//   - a regular file or a new path is written through a temporary file in
//     the same directory, synced, renamed into place and the directory
//     synced, so readers never see a partial file and an interrupted write
//     leaves the old file intact (mode 0644);
//   - a symbolic link is followed to its final target (relative links from
//     the link's directory, chains up to 40 links, a dangling link creates
//     its target), and the target is written as above in the target's
//     directory; the links themselves are left as they are;
//   - a character device (/dev/null), a FIFO or a socket, and a file reached
//     through a /proc magic link (/dev/stdout, /dev/fd/N), is opened for
//     writing and written directly, never replaced: a FIFO's open waits for
//     a reader, a regular file behind /dev/stdout is appended to;
//   - a directory, a block device or any other kind of file is refused.
//
// Errors are *WriteError; EnvironmentFault tells a full or read-only disk
// from a bad path.
func WriteFileAtomic(path string, b []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for content too large to hold at once:
// write is called once with a buffered writer on the file (or the special
// file, or the socket) and streams the content into it; an error from it
// fails the write and, for a regular file, leaves the old file intact.
func WriteAtomic(path string, write func(io.Writer) error) error {
	target, magic, err := resolveLinks(path)
	if err != nil {
		return &WriteError{Path: path, Err: err}
	}
	fail := func(err error) error {
		we := &WriteError{Path: path, Err: err}
		if target != path {
			we.Target = target
		}
		return we
	}
	fi, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) && !magic {
		return wrapErr(writeReplacing(target, write), fail)
	}
	if err != nil {
		return fail(err)
	}
	m := fi.Mode()
	switch {
	case m.IsRegular() && magic:
		return wrapErr(writeDirect(target, write, os.O_WRONLY|os.O_APPEND), fail)
	case m.IsRegular():
		return wrapErr(writeReplacing(target, write), fail)
	case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return wrapErr(writeDirect(target, write, os.O_WRONLY), fail)
	case m&fs.ModeSocket != 0:
		return wrapErr(writeSocket(target, write), fail)
	case m.IsDir():
		return fail(syscall.EISDIR)
	}
	return fail(fmt.Errorf("refusing to write to a %s: only regular files, character devices, FIFOs and sockets are written", kindOf(m)))
}

func wrapErr(err error, wrap func(error) error) error {
	if err == nil {
		return nil
	}
	return wrap(err)
}

// kindOf names a file mode's type for an error message.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeIrregular != 0:
		return "file of unknown type"
	}
	return fmt.Sprintf("file of type %v", m.Type())
}

// resolveLinks follows path's symbolic links to the file they name. It
// stops, with magic set, at a link inside /proc: such links (/proc/self/fd/1
// behind /dev/stdout) name open files, not paths, and only opening the link
// itself reaches them.
func resolveLinks(path string) (target string, magic bool, err error) {
	p := path
	for i := 0; ; i++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, false, nil
		}
		// The link's directory, its own links resolved, so that ".." in a
		// relative link means what the kernel makes of it.
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", false, err
		}
		if dir == "/proc" || strings.HasPrefix(dir, "/proc/") {
			return p, true, nil
		}
		if i == maxLinks {
			return "", false, fmt.Errorf("following the links of %s: %w", path, syscall.ELOOP)
		}
		l, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(l) {
			l = filepath.Join(dir, l)
		}
		p = l
	}
}

// buffered calls write with a buffered writer on w and flushes it.
func buffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// writeReplacing writes to a temporary file in path's directory, syncs
// it, renames it onto path and syncs the directory.
func writeReplacing(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = buffered(f, write)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (EINVAL) have nothing to make durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// writeDirect opens an existing special file for writing and writes to it.
func writeDirect(path string, write func(io.Writer) error, flag int) error {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return err
	}
	err = buffered(f, write)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeSocket writes to a Unix socket: as a file (some systems open
// sockets), else connected to as a stream or, failing that, a datagram
// socket.
func writeSocket(path string, write func(io.Writer) error) error {
	err := writeDirect(path, write, os.O_WRONLY)
	if !errors.Is(err, syscall.ENXIO) && !errors.Is(err, syscall.EOPNOTSUPP) {
		return err
	}
	c, err := net.Dial("unix", path)
	if errors.Is(err, syscall.EPROTOTYPE) {
		c, err = net.Dial("unixgram", path)
	}
	if err != nil {
		return err
	}
	err = buffered(c, write)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}
