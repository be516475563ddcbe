//go:build amd64 && !purego && linux

package sgemm

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHasAsmMatchesCPUInfo checks the CPUID detection against the kernel's
// view of the CPU: the assembly path is on exactly when Linux lists both
// avx2 and fma.
func TestHasAsmMatchesCPUInfo(t *testing.T) {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("cannot read /proc/cpuinfo to cross-check CPUID: %v", err)
	}
	var flags []string
	for _, line := range strings.Split(string(data), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(value)
			break
		}
	}
	require.NotEmpty(t, flags, "no flags line in /proc/cpuinfo")
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	assert.Equal(t, has("avx2") && has("fma"), HasAsm(), "cpuinfo avx2=%v fma=%v", has("avx2"), has("fma"))
}
