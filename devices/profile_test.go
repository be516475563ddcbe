package devices

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleConfig = `devices:
  rpi4:
    host: 192.168.1.50
    port: 22
    user: pi
    identity_file: ~/.ssh/id_ed25519
    runtime: tflite
    delegate: xnnpack
    threads: 4
  coral:
    host: coral.local
    user: mendel
    delegate: edgetpu
    runtime: tflite
    retries: 0
    timeout: 30s
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("devices.yaml", []byte(sampleConfig))
	require.NoError(t, err)
	assert.Equal(t, []string{"host", "coral", "rpi4"}, c.Names())
	home, _ := os.UserHomeDir()
	rpi := c.Devices["rpi4"]
	assert.Equal(t, "rpi4", rpi.Name)
	assert.Equal(t, "192.168.1.50:22", rpi.Addr())
	assert.Equal(t, filepath.Join(home, ".ssh", "id_ed25519"), rpi.IdentityFile)
	assert.Equal(t, "tflite", rpi.Runtime)
	assert.Equal(t, "xnnpack", rpi.Delegate)
	assert.Equal(t, 4, rpi.Threads)
	assert.Equal(t, DefaultCacheDir, rpi.CacheDir)
	assert.Equal(t, DefaultRetries, rpi.retries())
	assert.Equal(t, DefaultConnectTimeout, rpi.ConnectTimeout)
	coral := c.Devices["coral"]
	assert.Equal(t, 0, coral.retries())
	assert.Equal(t, 30*time.Second, coral.Timeout)
	assert.Equal(t, 22, coral.Port)
	host := c.Devices["host"]
	assert.False(t, host.Remote())
	assert.Equal(t, AutoRuntime, host.Runtime, "this machine picks its runtime when it runs")
	assert.Equal(t, "xnnpack", host.Delegate, "auto runs XNNPACK in either runtime")
	coralRT, rpiRT := c.Devices["coral"].Runtime, rpi.Runtime
	assert.Equal(t, []string{"tflite", "tflite"}, []string{coralRT, rpiRT})
	c, err = ParseConfig("devices.yaml", []byte("devices:\n  board:\n    host: b\n  here: {}\n"))
	require.NoError(t, err)
	assert.Equal(t, DefaultRuntime, c.Devices["board"].Runtime, "a board's default")
	assert.Equal(t, AutoRuntime, c.Devices["here"].Runtime, "a local profile's default")
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "devices:\n  a:\n    hots: x\n", `unknown key "hots" in a device profile`},
		{"bad runtime", "devices:\n  a:\n    host: x\n    runtime: onnx\n", `device "a": runtime "onnx"`},
		{"auto on a board", "devices:\n  a:\n    host: x\n    runtime: auto\n", `device "a": runtime auto is for this machine only`},
		{"bad delegate", "devices:\n  a:\n    host: x\n    delegate: gpu\n", `delegate "gpu"`},
		{"bad port", "devices:\n  a:\n    host: x\n    port: 70000\n", "port 70000"},
		{"shell in cache dir", "devices:\n  a:\n    host: x\n    cache_dir: \"~/x; rm -rf /\"\n", "cache_dir"},
		{"dotdot cache dir", "devices:\n  a:\n    host: x\n    cache_dir: ~/../etc\n", "cache_dir"},
		{"host is reserved", "devices:\n  host:\n    host: x\n", "is this machine"},
		{"bad name", "devices:\n  \"a b\":\n    host: x\n", "names are"},
		{"bad host", "devices:\n  a:\n    host: \"x y\"\n", "not a host name"},
		{"bad duration", "devices:\n  a:\n    host: x\n    timeout: soon\n", "soon"},
		{"negative retries", "devices:\n  a:\n    host: x\n    retries: -1\n", "retries -1"},
		{"not a map", "devices: [1, 2]\n", "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("d.yaml", []byte(tc.yaml))
			require.Error(t, err)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), "d.yaml")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseConfigEmpty(t *testing.T) {
	c, err := ParseConfig("empty.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"host"}, c.Names())
}

func TestLoadConfigSearch(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	xdg := filepath.Join(dir, "xdg")
	t.Setenv("XDG_CONFIG_HOME", xdg)

	c, err := LoadConfig("")
	require.NoError(t, err)
	assert.Empty(t, c.File, "no file anywhere: only the built-in host")
	assert.Equal(t, []string{"host"}, c.Names())

	require.NoError(t, os.MkdirAll(filepath.Join(xdg, "edgeval"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(xdg, "edgeval", "devices.yaml"), []byte("devices:\n  fromxdg:\n    host: a\n"), 0o644))
	c, err = LoadConfig("")
	require.NoError(t, err)
	assert.Contains(t, c.Devices, "fromxdg")

	require.NoError(t, os.WriteFile("devices.yaml", []byte("devices:\n  fromcwd:\n    host: b\n"), 0o644))
	c, err = LoadConfig("")
	require.NoError(t, err)
	assert.Contains(t, c.Devices, "fromcwd", "./devices.yaml comes before XDG")
	assert.NotContains(t, c.Devices, "fromxdg")

	explicit := filepath.Join(dir, "other.yaml")
	require.NoError(t, os.WriteFile(explicit, []byte("devices:\n  fromflag:\n    host: c\n"), 0o644))
	c, err = LoadConfig(explicit)
	require.NoError(t, err)
	assert.Contains(t, c.Devices, "fromflag")

	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "missing.yaml")

	_, err = c.Lookup("nope")
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), `unknown device "nope"`)
	assert.Contains(t, err.Error(), "fromflag")
}

// TestConfigErrorsNameKeysAndLines: a typo or a wrong value in devices.yaml
// is reported with its line and the YAML key, never a Go type.
func TestConfigErrorsNameKeysAndLines(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"devices:\n  rpi4:\n    usr: pi\n    host: x\n", `d.yaml: line 3: unknown key "usr" in a device profile (known keys: agent_binary, cache_dir,`},
		{"device:\n  rpi4: {}\n", `d.yaml: line 1: unknown key "device" at the top level (known keys: devices)`},
		{"devices:\n  rpi4:\n    host: x\n    port: twenty\n", `d.yaml: line 4: want an integer, got "twenty"`},
		{"devices:\n  rpi4:\n    host: x\n    timeout: soon\n", `d.yaml: line 4: want a duration such as 30s or 2m, got "soon"`},
		{"devices:\n  rpi4:\n    host: x\n    isolate: maybe\n", `d.yaml: line 4: want true or false, got "maybe"`},
	} {
		_, err := ParseConfig("d.yaml", []byte(tc.yaml))
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), "devices.Profile")
	}
}

func TestConfigProfilesAndCheckList(t *testing.T) {
	c, err := ParseConfig("devices.yaml", []byte(sampleConfig))
	require.NoError(t, err)
	var names []string
	for _, p := range c.Profiles() {
		names = append(names, p.Name)
	}
	assert.Equal(t, c.Names(), names, "profiles in Names order")
	tests := []struct {
		list, wantErr string
	}{
		{"host", ""},
		{"rpi4,coral", ""},
		{"rpi4,nope", `unknown device "nope": not in devices.yaml; known devices: host, coral, rpi4`},
		{"rpi4,rpi4", `--device "rpi4,rpi4": empty or repeated device name`},
		{"", `--device "": empty or repeated device name`},
	}
	for _, tc := range tests {
		err := c.CheckList(tc.list)
		if tc.wantErr == "" {
			assert.NoError(t, err, tc.list)
			continue
		}
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, tc.list)
		assert.EqualError(t, err, tc.wantErr)
	}
}
