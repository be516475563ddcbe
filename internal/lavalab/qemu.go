package lavalab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// QemuPID returns the pid of the qemu-system-* process the lab's worker
// runs for job id: the process whose command line boots files from the
// job's directory under the dispatcher's tmp (/var/lib/lava/dispatcher/tmp/ID/).
func QemuPID(id int) (int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	mark := fmt.Sprintf("/dispatcher/tmp/%d/", id)
	var found []int
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "qemu-system-") || !strings.Contains(string(b), mark) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("no qemu process of job %d (no qemu-system-* with %s in its command line)", id, mark)
	case 1:
		return found[0], nil
	default:
		return 0, fmt.Errorf("%d qemu processes of job %d: %v", len(found), id, found)
	}
}
