package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"time"

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

// check looks up each device of a comma-separated list before any work,
// so that an unknown device is a usage error before a conversion, a
// repro bundle or a metrics table.
func (d *deviceFlags) check(list string) error {
	cfg, err := d.load()
	if err != nil {
		return err
	}
	names, err := devices.SplitList(list)
	if err != nil {
		return configErr(err)
	}
	for _, n := range names {
		if _, err := cfg.Lookup(n); err != nil {
			return configErr(err)
		}
	}
	return nil
}

func configErr(err error) error {
	var ce *devices.ConfigError
	if errors.As(err, &ce) {
		return usagef("%v", err)
	}
	return err
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
	if !f.quiet {
		o.Steps = stderr
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
	return configErr(devices.FanOut(f.device, f.json == "-", stdout, stderr, func(name string, out, log io.Writer) error {
		g := *f
		g.device = name
		g.out = devices.PerDevicePath(f.out, name)
		if f.json != "-" {
			g.json = devices.PerDevicePath(f.json, name)
		}
		return runModel(ctx, &g, modelPath, out, log)
	}))
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
		var timeout time.Duration
		fs.DurationVar(&timeout, "timeout", time.Minute, "probe: give up after `D`")
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
			var facts *devices.Facts
			if err := within(ctx, timeout, "probe "+p.Name, func(ctx context.Context) (err error) {
				facts, err = devices.Probe(ctx, p, devices.Options{AcceptNewHostKey: d.acceptNewHostKey, AgentVersion: version, Log: stderr})
				return err
			}); err != nil {
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
