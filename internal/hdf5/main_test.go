//go:build unix

package hdf5

import (
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets this test binary serve as the snapshot child of
// Child.Snapshot (`<binary> __hdf5-snapshot ... -- FILE`), and as a few
// misbehaving children for the tests of the parent side.
func TestMain(m *testing.M) {
	if len(os.Args) >= 2 {
		switch os.Args[1] {
		case SnapshotCommand:
			if err := ServeChild(os.Args[2:], os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			os.Exit(0)
		case "child-hang":
			time.Sleep(time.Hour)
		case "child-garbage":
			for {
				os.Stdout.WriteString(strings.Repeat("garbage ", 1024))
			}
		case "child-huge":
			os.Stdout.Write(append(frameMagic[:], 0, 0, 0, 0, 0, 0, 0, 1)) // 2^56 bytes
			time.Sleep(time.Hour)
		case "child-short":
			// A frame that declares 1 MiB and ends after 100 KiB.
			hdr := append(frameMagic[:], 0, 0, 0x10, 0, 0, 0, 0, 0)
			os.Stdout.Write(append(hdr, make([]byte, 100<<10)...))
			os.Exit(0)
		case "child-badpayload":
			// A whole frame whose 16 payload bytes are no snapshot.
			hdr := append(frameMagic[:], 16, 0, 0, 0, 0, 0, 0, 0)
			os.Stdout.Write(append(hdr, bytes.Repeat([]byte{0xff}, 16)...))
			os.Exit(0)
		case "child-exit3":
			fmt.Fprintln(os.Stderr, "child: something went wrong")
			os.Exit(3)
		case "child-abort":
			// A real death by signal: with GOTRACEBACK=crash the runtime
			// raises SIGABRT after printing the panic.
			// No core file: the limit is set to zero first.
			_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
			debug.SetTraceback("crash")
			panic("child: aborting")
		}
	}
	os.Exit(m.Run())
}
