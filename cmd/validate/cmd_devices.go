package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
)

// deviceFlags are the flags shared by the commands that reach devices.
type deviceFlags struct {
	file             string
	acceptNewHostKey bool
	// explicit holds the names of flags given on the command line, so
	// that only those override a profile's settings.
	explicit map[string]bool
}

func (d *deviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.file, "devices", "", "device profiles `FILE` (default ./devices.yaml, then $XDG_CONFIG_HOME/edgeval/devices.yaml)")
	fs.BoolVar(&d.acceptNewHostKey, "accept-new-host-key", false, "record a board's unknown SSH host key in known_hosts (a changed key is always refused)")
}

// noteExplicit records which flags fs saw.
func (d *deviceFlags) noteExplicit(fs *flag.FlagSet) {
	d.explicit = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { d.explicit[f.Name] = true })
}

// loadDevices reads the profiles; a bad file is a usage error.
func (d *deviceFlags) load() (*devices.Config, error) {
	cfg, err := devices.LoadConfig(d.file)
	if err != nil {
		return nil, configErr(err)
	}
	return cfg, nil
}

func configErr(err error) error {
	var ce *devices.ConfigError
	if errors.As(err, &ce) {
		return usagef("%v", err)
	}
	return err
}

// syncWriter serialises writes from concurrent device runs.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// openDevice opens the model on f.device through its profile. Flags given
// explicitly (--runtime, --threads, --delegate, --timeout) override the
// profile.
func openDevice(ctx context.Context, f *runFlags, model []byte, stderr io.Writer) (runtime.Session, error) {
	cfg, err := f.dev.load()
	if err != nil {
		return nil, err
	}
	p, err := cfg.Lookup(f.device)
	if err != nil {
		return nil, configErr(err)
	}
	o := devices.Options{
		Session:          runtime.Options{Signature: f.signature},
		AcceptNewHostKey: f.dev.acceptNewHostKey,
		AgentVersion:     version,
		Log:              stderr,
	}
	ex := f.dev.explicit
	if ex["runtime"] {
		o.Runtime = f.runtime
	}
	if ex["threads"] {
		o.Session.Threads = f.threads
	}
	if ex["delegate"] {
		o.Session.Delegate = f.delegate
	}
	if ex["timeout"] || p.Timeout == 0 {
		o.Session.Timeout = f.timeout
	}
	s, err := devices.Open(ctx, p, model, o)
	if err != nil {
		return nil, configErr(err)
	}
	return s, nil
}

// runOnDevices runs the model on each device of a comma-separated --device
// list, concurrently, one result each. With several devices, --out and
// --json FILE get the device name before their extension, and each device's
// report is printed in list order.
func runOnDevices(ctx context.Context, f *runFlags, modelPath string, stdout, stderr io.Writer) error {
	if !strings.Contains(f.device, ",") {
		return runModel(ctx, f, modelPath, stdout, stderr)
	}
	return onDevices(f.device, f.json == "-", stdout, stderr, func(name string, out, log io.Writer) error {
		g := *f
		g.device = name
		g.out = perDevice(f.out, name)
		if f.json != "-" {
			g.json = perDevice(f.json, name)
		}
		return runModel(ctx, &g, modelPath, out, log)
	})
}

// onDevices calls job for each device of a comma-separated list,
// concurrently, each with its own output buffer and a shared, serialised
// log; then prints the outputs in list order (with a "== NAME" header
// unless the output is JSON on stdout) and returns every device's error
// joined, each naming its device.
func onDevices(list string, jsonStdout bool, stdout, stderr io.Writer, job func(name string, out, log io.Writer) error) error {
	names := strings.Split(list, ",")
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			return usagef("--device %q: empty or repeated device name", list)
		}
		seen[n] = true
	}
	outs := make([]bytes.Buffer, len(names))
	errs := make([]error, len(names))
	log := &syncWriter{w: stderr}
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			if err := job(n, &outs[i], log); err != nil {
				errs[i] = fmt.Errorf("device %s: %w", n, err)
			}
		})
	}
	wg.Wait()
	for i, n := range names {
		if !jsonStdout {
			fmt.Fprintf(stdout, "== %s\n", n)
		}
		stdout.Write(outs[i].Bytes())
		if errs[i] != nil && !jsonStdout {
			fmt.Fprintf(stdout, "FAILED: %v\n", errs[i])
		}
	}
	return errors.Join(errs...)
}

// perDevice inserts "-NAME" before path's extension ("" stays "").
func perDevice(path, name string) string {
	if path == "" || path == "-" {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + name + ext
}

func devicesCommand() *command {
	c := &command{
		name:    "devices",
		summary: "list the device profiles, or `devices probe NAME` to print a device's facts (arch, kernel, CPU, governor, temperature, memory, runtimes)",
		usage:   "[flags] [probe NAME]",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var d deviceFlags
		var asJSON bool
		fs := flag.NewFlagSet("devices", flag.ContinueOnError)
		d.register(fs)
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		cfg, err := d.load()
		if err != nil {
			return err
		}
		switch {
		case len(pos) == 0:
			if asJSON {
				list := make([]*devices.Profile, 0, len(cfg.Devices))
				for _, n := range cfg.Names() {
					list = append(list, cfg.Devices[n])
				}
				return writeJSON("-", stdout, list)
			}
			return devices.WriteProfiles(stdout, cfg)
		case len(pos) == 2 && pos[0] == "probe":
			p, err := cfg.Lookup(pos[1])
			if err != nil {
				return configErr(err)
			}
			facts, err := devices.Probe(ctx, p, devices.Options{AcceptNewHostKey: d.acceptNewHostKey, AgentVersion: version, Log: stderr})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON("-", stdout, facts)
			}
			return devices.WriteFacts(stdout, p.Name, facts)
		}
		return usagef("devices: want no argument or 'probe NAME', got %q", pos)
	}
	return c
}
