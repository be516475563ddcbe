package devices

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteProfiles(t *testing.T) {
	cfg, err := ParseConfig("devices.yaml", []byte("devices:\n  rpi4:\n    host: 10.0.0.2\n    user: pi\n    runtime: tflite\n    threads: 4\n  jetson:\n    host: jetson.local\n    port: 2222\n  local:\n    isolate: true\n"))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteProfiles(&b, cfg))
	assert.Equal(t, `profiles from devices.yaml

NAME    ADDRESS            USER          RUNTIME  DELEGATE  THREADS
host    this machine       -             auto     xnnpack   default
jetson  jetson.local:2222  (local user)  litert   none      default
local   this machine       -             auto     xnnpack   default
rpi4    10.0.0.2:22        pi            tflite   none      4
`, b.String())

	b.Reset()
	require.NoError(t, WriteProfiles(&b, &Config{Devices: map[string]*Profile{"host": hostProfile()}}))
	assert.Equal(t, "profiles from none found; only the built-in host\n\nNAME  ADDRESS       USER  RUNTIME  DELEGATE  THREADS\nhost  this machine  -     auto     xnnpack   default\n", b.String())
}

func TestWriteFacts(t *testing.T) {
	temp := 47.25
	tests := []struct {
		name  string
		facts *Facts
		want  string
	}{
		{"a board", &Facts{
			Hostname: "pi", OS: "Linux", Arch: "aarch64", Kernel: "6.1.0-rpi7", GoArch: "linux/arm64",
			CPUModel: "ARM Cortex-A72", Cores: 4, Board: "Raspberry Pi 4 Model B Rev 1.4", Governor: "ondemand",
			TemperatureC: &temp, MemTotalMB: 3794, MemAvailMB: 3300, AgentVersion: "v1.2",
			Runtimes: []RuntimeFacts{
				{Name: "litert", Available: true, Version: "2.5.3", Detail: "node v18.19.0, /home/pi/edgeval/node_modules"},
				{Name: "tflite", Available: true, Version: "2.17.1"},
			},
			Delegates: []DelegateFacts{{Name: "edgetpu", Path: "/usr/lib/aarch64-linux-gnu/libedgetpu.so.1", Version: "1.0"}},
		}, `device            rpi4
hostname          pi
system            Linux aarch64 6.1.0-rpi7
cpu               ARM Cortex-A72, 4 cores
board             Raspberry Pi 4 Model B Rev 1.4
governor          ondemand
temperature       47.2 °C
memory            3794 MB, 3300 MB available
agent             v1.2 (linux/arm64)
runtime litert    2.5.3  node v18.19.0, /home/pi/edgeval/node_modules
runtime tflite    2.17.1
delegate edgetpu  1.0  /usr/lib/aarch64-linux-gnu/libedgetpu.so.1
`},
		{"a virtual machine with little to say", &Facts{
			OS: "Linux", Arch: "aarch64", GoArch: "linux/arm64", Cores: 2, Virtual: "QEMU virt machine",
			Runtimes: []RuntimeFacts{{Name: "tflite", Detail: "runtime tflite: start: not built in"}},
		}, `device           rpi4
system           Linux aarch64
cpu              , 2 cores
virtual machine  QEMU virt machine
agent             (linux/arm64)
runtime tflite   unavailable  runtime tflite: start: not built in
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteFacts(&b, "rpi4", tt.facts))
			assert.Equal(t, tt.want, b.String())
		})
	}
}
