package devices

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// HostName is the built-in profile that runs on this machine.
const HostName = "host"

// Defaults applied to profiles that leave a field out.
const (
	DefaultPort    = 22
	DefaultRuntime = "litert"
	// AutoRuntime is the runtime of a profile on this machine that names
	// none (the built-in host included): tflite when libtensorflowlite_c
	// loads here, else litert (see ChooseRuntime).
	AutoRuntime           = "auto"
	DefaultDelegate       = "none"
	DefaultCacheDir       = "~/.cache/edgeval"
	DefaultConnectTimeout = 10 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	DefaultRetries        = 2
	DefaultRetryBackoff   = time.Second
)

// Profile describes one device. The YAML keys are the field tags.
type Profile struct {
	// Name is the key under `devices:`.
	Name string `yaml:"-"`
	// Host is the board's address; empty means this machine.
	Host string `yaml:"host"`
	// Port is the SSH port (default 22).
	Port int `yaml:"port"`
	// User is the SSH user (default: the local user).
	User string `yaml:"user"`
	// IdentityFile is a private key file (unencrypted; use ssh-agent for
	// keys with a passphrase). Without it the keys of $SSH_AUTH_SOCK and
	// then ~/.ssh/id_ed25519, id_ecdsa, id_rsa are tried.
	IdentityFile string `yaml:"identity_file"`
	// KnownHosts is the known_hosts file (default ~/.ssh/known_hosts).
	KnownHosts string `yaml:"known_hosts"`
	// Runtime is the TFLite runtime on the device: litert, tflite, or auto
	// (only for this machine, its default: tflite when the TFLite C library
	// loads, else litert). A board's default is litert.
	Runtime string `yaml:"runtime"`
	// Delegate is none, xnnpack or edgetpu (default none; xnnpack for
	// runtime auto).
	Delegate string `yaml:"delegate"`
	// Threads is the interpreter thread count (0: the runtime's default).
	Threads int `yaml:"threads"`
	// CacheDir is the cache directory on the board (default
	// ~/.cache/edgeval). Letters, digits and ._/~+- only: it is part of
	// the agent's command path.
	CacheDir string `yaml:"cache_dir"`
	// NodeModules is the node_modules directory holding @litertjs/core on
	// the board (litert runtime), sent to the agent as data.
	NodeModules string `yaml:"node_modules"`
	// Node is the node binary on the board (default: node on its PATH).
	Node string `yaml:"node"`
	// TFLiteC is the path of libtensorflowlite_c on the device (tflite
	// runtime), sent to the agent as data; without it the agent looks in
	// third_party/tflite-c/lib above its directory, /usr/local/lib, then
	// where the dynamic loader looks.
	TFLiteC string `yaml:"tflite_c"`
	// AgentBinary is a local validate binary built for the board's
	// architecture (CGO_ENABLED=0 GOARCH=arm64 go build ./cmd/validate).
	// Without it, the running binary is sent when the board has this
	// machine's OS and architecture.
	AgentBinary string `yaml:"agent_binary"`
	// ConnectTimeout bounds the TCP connect and SSH handshake (default 10s).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// Timeout bounds loading the model and each inference on the board,
	// on top of the network; 0 uses the caller's time-out.
	Timeout time.Duration `yaml:"timeout"`
	// KeepAlive is the interval of SSH keepalives (default 15s; three
	// missed answers drop the connection).
	KeepAlive time.Duration `yaml:"keepalive"`
	// Retries is how many times a transient failure (refused or timed-out
	// connect, dropped connection) is retried (default 2; 0 disables).
	Retries *int `yaml:"retries"`
	// RetryBackoff is the first wait before a retry; it doubles each time
	// (default 1s).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// Isolate runs the runtime of a profile on this machine in a child
	// process (this binary as `validate agent`, over pipes), so that a crash
	// of native code ends the child, not validate. Unset means true for the
	// tflite runtime (the TFLite C library runs in-process otherwise) and
	// false for litert (which already runs Node in a child process). Only
	// for profiles without a host: a board's agent is always its own process.
	Isolate *bool `yaml:"isolate"`
}

// Isolated reports whether a session of runtime rt ("litert", "tflite") on
// this profile runs in a child process: the profile's isolate when set, else
// true for tflite on this machine. Remote profiles report false: their
// agent runs on the board.
func (p *Profile) Isolated(rt string) bool {
	if p.Remote() {
		return false
	}
	if p.Isolate != nil {
		return *p.Isolate
	}
	return rt == "tflite"
}

// Remote reports whether the profile is reached over SSH.
func (p *Profile) Remote() bool { return p.Host != "" }

// Addr returns host:port.
func (p *Profile) Addr() string {
	port := p.Port
	if port == 0 {
		port = DefaultPort
	}
	return fmt.Sprintf("%s:%d", strings.Trim(p.Host, "[]"), port)
}

func (p *Profile) retries() int {
	if p.Retries == nil {
		return DefaultRetries
	}
	return *p.Retries
}

// Config is a set of profiles and the file they came from.
type Config struct {
	// File is the devices.yaml read, "" when none was found.
	File string
	// Devices by name, including the built-in host.
	Devices map[string]*Profile
}

// Names lists the profiles, host first then sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Devices))
	for n := range c.Devices {
		if n != HostName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{HostName}, names...)
}

// Lookup returns the profile called name, or a *ConfigError listing the
// known names.
func (c *Config) Lookup(name string) (*Profile, error) {
	if p, ok := c.Devices[name]; ok {
		return p, nil
	}
	where := "no devices.yaml found (looked for --devices, ./devices.yaml, $XDG_CONFIG_HOME/edgeval/devices.yaml; docs/devices.md shows how to write one)"
	if c.File != "" {
		where = "not in " + c.File
	}
	return nil, &ConfigError{Msg: fmt.Sprintf("unknown device %q: %s; known devices: %s", name, where, strings.Join(c.Names(), ", "))}
}

// Profiles lists the profiles in Names order.
func (c *Config) Profiles() []*Profile {
	list := make([]*Profile, 0, len(c.Devices))
	for _, n := range c.Names() {
		list = append(list, c.Devices[n])
	}
	return list
}

// CheckList looks up each device of a comma-separated list (SplitList), so
// that an unknown or repeated name is a *ConfigError before any work.
func (c *Config) CheckList(list string) error {
	names, err := SplitList(list)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := c.Lookup(n); err != nil {
			return err
		}
	}
	return nil
}

// ConfigPaths returns where LoadConfig looks when no file is given:
// ./devices.yaml, then $XDG_CONFIG_HOME/edgeval/devices.yaml (XDG_CONFIG_HOME
// defaulting to ~/.config).
func ConfigPaths() []string {
	paths := []string{"devices.yaml"}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			xdg = filepath.Join(home, ".config")
		}
	}
	if xdg != "" {
		paths = append(paths, filepath.Join(xdg, "edgeval", "devices.yaml"))
	}
	return paths
}

// LoadConfig reads the device profiles: file when given (it must exist),
// else the first of ConfigPaths that exists, else only the built-in host.
func LoadConfig(file string) (*Config, error) {
	if file != "" {
		return ReadConfig(file)
	}
	for _, p := range ConfigPaths() {
		if _, err := os.Stat(p); err == nil {
			return ReadConfig(p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, &ConfigError{File: p, Msg: err.Error()}
		}
	}
	return &Config{Devices: map[string]*Profile{HostName: hostProfile()}}, nil
}

// maxConfigSize bounds the devices.yaml read.
const maxConfigSize = 1 << 20

// ReadConfig reads one devices.yaml file.
func ReadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	if len(b) > maxConfigSize {
		return nil, &ConfigError{File: path, Msg: fmt.Sprintf("%d bytes is too large for a device list (limit %d)", len(b), maxConfigSize)}
	}
	return ParseConfig(path, b)
}

// ParseConfig parses devices.yaml content; name is used in messages.
// Unknown keys are errors (they are usually typos).
func ParseConfig(name string, b []byte) (*Config, error) {
	var doc struct {
		Devices map[string]*Profile `yaml:"devices"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ConfigError{File: name, Msg: yamlMessage(err)}
	}
	c := &Config{File: name, Devices: map[string]*Profile{HostName: hostProfile()}}
	var errs []string
	for n, p := range doc.Devices {
		if p == nil {
			p = &Profile{}
		}
		p.Name = n
		if err := p.normalize(); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		c.Devices[n] = p
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, &ConfigError{File: name, Msg: strings.Join(errs, "; ")}
	}
	return c, nil
}

func hostProfile() *Profile {
	p := &Profile{Name: HostName}
	_ = p.normalize()
	return p
}

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	cacheDirRE = regexp.MustCompile(`^(~/)?[A-Za-z0-9._/+-]+$`)
	hostRE     = regexp.MustCompile(`^[A-Za-z0-9._:\[\]%-]+$`)
	userRE     = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._@-]*$`)
)

// normalize checks the profile and fills in defaults.
func (p *Profile) normalize() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("device %q: %s", p.Name, fmt.Sprintf(format, args...))
	}
	if !nameRE.MatchString(p.Name) || strings.Contains(p.Name, ",") {
		return bad("names are letters, digits, '_', '.' and '-'")
	}
	if p.Name == HostName && p.Host != "" {
		return bad("%q is this machine; give the board another name", HostName)
	}
	if p.Host != "" && !hostRE.MatchString(p.Host) {
		return bad("host %q is not a host name or address", p.Host)
	}
	if p.User != "" && !userRE.MatchString(p.User) {
		return bad("user %q is not a user name", p.User)
	}
	if p.Port == 0 {
		p.Port = DefaultPort
	}
	if p.Port < 1 || p.Port > 65535 {
		return bad("port %d is not in 1..65535", p.Port)
	}
	if p.Runtime == "" {
		p.Runtime = DefaultRuntime
		if p.Host == "" {
			p.Runtime = AutoRuntime
		}
	}
	switch p.Runtime {
	case "litert", "tflite":
	case AutoRuntime:
		if p.Host != "" {
			return bad("runtime auto is for this machine only; name the board's runtime (litert or tflite)")
		}
	default:
		return bad("runtime %q: want litert, tflite or auto", p.Runtime)
	}
	if p.Delegate == "" {
		p.Delegate = DefaultDelegate
		if p.Runtime == AutoRuntime {
			// Both runtimes auto picks from run XNNPACK then (LiteRT-WASM
			// always does): the TFLite C library's fast CPU path.
			p.Delegate = "xnnpack"
		}
	}
	switch p.Delegate {
	case "none", "xnnpack", "edgetpu":
	default:
		return bad("delegate %q: want none, xnnpack or edgetpu", p.Delegate)
	}
	if p.Threads < 0 || p.Threads > 1024 {
		return bad("threads %d is not in 0..1024", p.Threads)
	}
	if p.CacheDir == "" {
		p.CacheDir = DefaultCacheDir
	}
	if !cacheDirRE.MatchString(p.CacheDir) || strings.HasPrefix(p.CacheDir, "-") || strings.Contains(p.CacheDir, "..") {
		return bad("cache_dir %q: use letters, digits and ._/+- only (optionally starting with ~/), no '..'", p.CacheDir)
	}
	if p.ConnectTimeout == 0 {
		p.ConnectTimeout = DefaultConnectTimeout
	}
	if p.KeepAlive == 0 {
		p.KeepAlive = DefaultKeepAlive
	}
	if p.RetryBackoff == 0 {
		p.RetryBackoff = DefaultRetryBackoff
	}
	if p.ConnectTimeout < 0 || p.Timeout < 0 || p.KeepAlive < 0 || p.RetryBackoff < 0 {
		return bad("time-outs must not be negative")
	}
	if p.Isolate != nil && p.Remote() {
		return bad("isolate is for profiles of this machine (no host); a board's agent always runs in its own process")
	}
	if p.Retries != nil && (*p.Retries < 0 || *p.Retries > 100) {
		return bad("retries %d is not in 0..100", *p.Retries)
	}
	p.IdentityFile = expandHome(p.IdentityFile)
	p.KnownHosts = expandHome(p.KnownHosts)
	p.AgentBinary = expandHome(p.AgentBinary)
	return nil
}

// expandHome replaces a leading ~/ with the local home directory.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
