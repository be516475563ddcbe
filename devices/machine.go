package devices

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// armCores names the cores of ARM Ltd. (MIDR implementer 0x41) by their
// part number, as /proc/cpuinfo's "CPU part" shows it.
var armCores = map[uint64]string{
	0xb02: "ARM11 MPCore", 0xb36: "ARM1136", 0xb56: "ARM1156", 0xb76: "ARM1176",
	0xc05: "Cortex-A5", 0xc07: "Cortex-A7", 0xc08: "Cortex-A8", 0xc09: "Cortex-A9",
	0xc0d: "Cortex-A17", 0xc0e: "Cortex-A17", 0xc0f: "Cortex-A15",
	0xd01: "Cortex-A32", 0xd02: "Cortex-A34", 0xd03: "Cortex-A53", 0xd04: "Cortex-A35",
	0xd05: "Cortex-A55", 0xd06: "Cortex-A65", 0xd07: "Cortex-A57", 0xd08: "Cortex-A72",
	0xd09: "Cortex-A73", 0xd0a: "Cortex-A75", 0xd0b: "Cortex-A76", 0xd0c: "Neoverse-N1",
	0xd0d: "Cortex-A77", 0xd0e: "Cortex-A76AE", 0xd40: "Neoverse-V1", 0xd41: "Cortex-A78",
	0xd42: "Cortex-A78AE", 0xd43: "Cortex-A65AE", 0xd44: "Cortex-X1", 0xd46: "Cortex-A510",
	0xd47: "Cortex-A710", 0xd48: "Cortex-X2", 0xd49: "Neoverse-N2", 0xd4a: "Neoverse-E1",
	0xd4b: "Cortex-A78C", 0xd4c: "Cortex-X1C", 0xd4d: "Cortex-A715", 0xd4e: "Cortex-X3",
	0xd4f: "Neoverse-V2", 0xd80: "Cortex-A520", 0xd81: "Cortex-A720", 0xd82: "Cortex-X4",
}

// armImplementers names MIDR implementer codes other than ARM Ltd.
var armImplementers = map[uint64]string{
	0x41: "ARM", 0x42: "Broadcom", 0x43: "Cavium", 0x46: "Fujitsu", 0x48: "HiSilicon",
	0x4e: "NVIDIA", 0x50: "APM", 0x51: "Qualcomm", 0x61: "Apple", 0x69: "Intel", 0xc0: "Ampere",
}

// cpuinfo holds what CPUName needs from /proc/cpuinfo.
type cpuinfo struct {
	first map[string]string // first value of each key
	cores []armCore         // one per processor block that names an ARM core
	flags []string          // x86 "flags" of the first processor
}

type armCore struct{ implementer, part uint64 }

func parseCPUInfo(r io.Reader) *cpuinfo {
	ci := &cpuinfo{first: map[string]string{}}
	sc := bufio.NewScanner(r)
	var impl, part string
	flush := func() {
		if part != "" {
			i, err1 := strconv.ParseUint(impl, 0, 64)
			p, err2 := strconv.ParseUint(part, 0, 64)
			if err1 == nil && err2 == nil {
				ci.cores = append(ci.cores, armCore{i, p})
			}
		}
		impl, part = "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			if part != "" {
				flush()
			}
		case "CPU implementer":
			impl = v
		case "CPU part":
			part = v
		case "flags":
			if ci.flags == nil {
				ci.flags = strings.Fields(v)
			}
		}
		if _, seen := ci.first[k]; !seen && v != "" {
			ci.first[k] = v
		}
	}
	flush()
	return ci
}

// coreName names one ARM core: "Cortex-A72" for ARM Ltd.'s, else the
// implementer and part ("Qualcomm part 0x805").
func coreName(c armCore) string {
	if c.implementer == 0x41 {
		if n, ok := armCores[c.part]; ok {
			return n
		}
	}
	impl, ok := armImplementers[c.implementer]
	if !ok {
		impl = fmt.Sprintf("implementer 0x%02x", c.implementer)
	}
	return fmt.Sprintf("%s part 0x%03x", impl, c.part)
}

// name is the CPU as users know it: x86's "model name"; on ARM the cores
// from the MIDR part table ("ARM Cortex-A72", "ARM Cortex-A55 ×4 +
// Cortex-A76 ×4" on big.LITTLE boards); else what the kernel shows.
func (ci *cpuinfo) name() string {
	if v := ci.first["model name"]; v != "" {
		return v
	}
	if len(ci.cores) > 0 {
		count := map[string]int{}
		var order []string
		for _, c := range ci.cores {
			n := coreName(c)
			if count[n] == 0 {
				order = append(order, n)
			}
			count[n]++
		}
		prefix := ""
		if ci.cores[0].implementer == 0x41 {
			prefix = "ARM "
		}
		if len(order) == 1 {
			return prefix + order[0]
		}
		sort.Strings(order)
		parts := make([]string, len(order))
		for i, n := range order {
			parts[i] = fmt.Sprintf("%s ×%d", n, count[n])
		}
		return prefix + strings.Join(parts, " + ")
	}
	for _, k := range []string{"cpu model", "Hardware", "Model"} {
		if v := ci.first[k]; v != "" {
			return v
		}
	}
	return ""
}

// machineFacts reads the CPU name, the board's name and whether the machine
// is virtual from a Linux file system rooted at root ("/" on the machine;
// tests pass a directory of captured files).
func machineFacts(root string) (cpu, board, virtual string) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || len(b) > 1<<16 {
			return ""
		}
		return strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	}
	var ci *cpuinfo
	if f, err := os.Open(filepath.Join(root, "proc/cpuinfo")); err == nil {
		ci = parseCPUInfo(f)
		f.Close()
	} else {
		ci = parseCPUInfo(strings.NewReader(""))
	}
	cpu = ci.name()

	dtModel := read("proc/device-tree/model")
	dtCompat := strings.Split(read("proc/device-tree/compatible"), "\x00")
	vendor, product := read("sys/class/dmi/id/sys_vendor"), read("sys/class/dmi/id/product_name")
	board = dtModel
	if board == "" {
		board = ci.first["Model"] // Raspberry Pi OS kernels
	}
	if board == "" && product != "" {
		board = strings.TrimSpace(vendor + " " + product)
	}
	virtual = virtualMachine(dtCompat, vendor, product, read("sys/hypervisor/type"), ci.flags)
	return cpu, board, virtual
}

// virtualMachine says what virtual machine this is, "" for real hardware
// (as far as the device tree, DMI, /sys/hypervisor and x86's hypervisor
// CPU flag can tell).
func virtualMachine(dtCompat []string, vendor, product, hypervisor string, flags []string) string {
	for _, c := range dtCompat {
		switch c {
		case "linux,dummy-virt":
			return "QEMU virt machine (device tree: linux,dummy-virt)"
		case "xen,xenvm":
			return "Xen virtual machine (device tree: xen,xenvm)"
		}
	}
	dmi := strings.ToLower(vendor + " " + product)
	for _, v := range []struct{ key, name string }{
		{"qemu", "QEMU"}, {"kvm", "KVM"}, {"virtualbox", "VirtualBox"}, {"innotek", "VirtualBox"},
		{"vmware", "VMware"}, {"xen", "Xen"}, {"bochs", "Bochs"}, {"parallels", "Parallels"},
		{"microsoft corporation virtual machine", "Hyper-V"}, {"amazon ec2", "Amazon EC2"},
		{"google compute engine", "Google Compute Engine"},
	} {
		if strings.Contains(dmi, v.key) {
			return fmt.Sprintf("%s virtual machine (DMI: %s)", v.name, strings.TrimSpace(vendor+" "+product))
		}
	}
	if hypervisor != "" {
		return fmt.Sprintf("%s virtual machine (/sys/hypervisor/type)", hypervisor)
	}
	for _, f := range flags {
		if f == "hypervisor" {
			return "virtual machine (x86 CPU flag hypervisor)"
		}
	}
	return ""
}

// LatencyWarning is the warning a report prints for latencies measured on
// this machine: non-empty when it is a virtual machine, whose latency is
// not a real board's (under emulation, such as QEMU's TCG running an ARM
// guest on x86, not even close).
func (f *Facts) LatencyWarning() string {
	if f == nil || f.Virtual == "" {
		return ""
	}
	return fmt.Sprintf("latency was measured on a %s, not on a physical board: a virtual CPU's timings differ from the board's (an emulated one can be many times slower)", f.Virtual)
}
