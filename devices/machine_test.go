package devices

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// armBlock is one processor block of an ARM /proc/cpuinfo.
func armBlock(n int, part string) string {
	return "processor\t: " + string(rune('0'+n)) + "\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n" +
		"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: " + part + "\nCPU revision\t: 3\n\n"
}

// TestMachineFacts reads CPU, board and virtualisation from captured files
// of real machines' /proc and /sys.
func TestMachineFacts(t *testing.T) {
	pi4 := armBlock(0, "0xd08") + armBlock(1, "0xd08") + armBlock(2, "0xd08") + armBlock(3, "0xd08") +
		"Hardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 100000001234abcd\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
	rk3588 := armBlock(0, "0xd05") + armBlock(1, "0xd05") + armBlock(2, "0xd05") + armBlock(3, "0xd05") +
		armBlock(4, "0xd0b") + armBlock(5, "0xd0b") + armBlock(6, "0xd0b") + armBlock(7, "0xd0b")
	qualcomm := "processor\t: 0\nCPU implementer\t: 0x51\nCPU part\t: 0x805\n\n"
	x86 := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu vme sse sse2 hypervisor avx2\n\n"
	tests := []struct {
		name                string
		files               map[string]string
		cpu, board, virtual string
	}{
		{"Raspberry Pi 4", map[string]string{"proc/cpuinfo": pi4,
			"proc/device-tree/model": "Raspberry Pi 4 Model B Rev 1.4\x00", "proc/device-tree/compatible": "raspberrypi,4-model-b\x00brcm,bcm2711\x00"},
			"ARM Cortex-A72", "Raspberry Pi 4 Model B Rev 1.4", ""},
		{"QEMU virt -cpu cortex-a72", map[string]string{"proc/cpuinfo": armBlock(0, "0xd08") + armBlock(1, "0xd08"),
			"proc/device-tree/model": "linux,dummy-virt\x00", "proc/device-tree/compatible": "linux,dummy-virt\x00"},
			"ARM Cortex-A72", "linux,dummy-virt", "QEMU virt machine (device tree: linux,dummy-virt)"},
		{"RK3588 big.LITTLE", map[string]string{"proc/cpuinfo": rk3588, "proc/device-tree/model": "Radxa ROCK 5B\x00"},
			"ARM Cortex-A55 ×4 + Cortex-A76 ×4", "Radxa ROCK 5B", ""},
		{"unknown implementer part", map[string]string{"proc/cpuinfo": qualcomm}, "Qualcomm part 0x805", "", ""},
		{"x86 KVM guest", map[string]string{"proc/cpuinfo": x86, "sys/class/dmi/id/sys_vendor": "QEMU\n", "sys/class/dmi/id/product_name": "Standard PC (Q35 + ICH9, 2009)\n"},
			"Intel(R) Xeon(R) CPU @ 2.20GHz", "QEMU Standard PC (Q35 + ICH9, 2009)", "QEMU virtual machine (DMI: QEMU Standard PC (Q35 + ICH9, 2009))"},
		{"x86 guest without DMI", map[string]string{"proc/cpuinfo": x86}, "Intel(R) Xeon(R) CPU @ 2.20GHz", "", "virtual machine (x86 CPU flag hypervisor)"},
		{"nothing readable", map[string]string{}, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range tc.files {
				require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(content), 0o644))
			}
			cpu, board, virtual := machineFacts(root)
			assert.Equal(t, tc.cpu, cpu)
			assert.Equal(t, tc.board, board)
			assert.Equal(t, tc.virtual, virtual)
			f := &Facts{Virtual: virtual}
			if virtual == "" {
				assert.Empty(t, f.LatencyWarning())
			} else {
				assert.True(t, strings.HasPrefix(f.LatencyWarning(), "latency was measured on a "+virtual+", not on a physical board"))
			}
		})
	}
}
