package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
)

// load reads the profiles; a bad file is a usage error.
func (d *deviceFlags) load() (*devices.Config, error) {
	cfg, err := devices.LoadConfig(d.file)
	return cfg, configErr(err)
}

// check looks up each device of a comma-separated list before any work,
// so that an unknown device is a usage error before a conversion, a
// repro bundle or a metrics table.
func (d *deviceFlags) check(list string) error {
	cfg, err := d.load()
	if err != nil {
		return err
	}
	return configErr(cfg.CheckList(list))
}

// configErr makes a bad device profile or list a usage error.
func configErr(err error) error {
	var ce *devices.ConfigError
	if errors.As(err, &ce) {
		return usagef("%v", err)
	}
	return err
}

// openDevice opens the model on the device through its profile. Only the
// flags given (--runtime, --threads, --delegate, --timeout) override the
// profile; --timeout's default applies when the profile has none.
func (f *modelFlags) openDevice(ctx context.Context, model []byte, log io.Writer) (runtime.Session, error) {
	p, o, err := f.deviceOptions(log)
	if err != nil {
		return nil, err
	}
	s, err := devices.Open(ctx, p, model, o)
	return s, configErr(err)
}

// prestartDevice starts what opening the model on the device will need
// before the model exists (devices.Prestart: the agent child of an
// isolated session), so that it overlaps reading and converting the model;
// stop ends what no open took.
func (f *modelFlags) prestartDevice(log io.Writer) (stop func()) {
	p, o, err := f.deviceOptions(log)
	if err != nil {
		return func() {} // openDevice reports it
	}
	return devices.Prestart(p, o)
}

// deviceOptions returns the device's profile and the options of opening a
// model on it.
func (f *modelFlags) deviceOptions(log io.Writer) (*devices.Profile, devices.Options, error) {
	cfg, err := f.dev.load()
	if err != nil {
		return nil, devices.Options{}, err
	}
	p, err := cfg.Lookup(f.o.Device)
	if err != nil {
		return nil, devices.Options{}, configErr(err)
	}
	o, ex := f.dev.open, f.dev.explicit
	o.AgentVersion, o.Log, o.Steps = version, log, f.steps(log)
	if !ex["runtime"] {
		o.Runtime = ""
	}
	if !ex["threads"] {
		o.Session.Threads = 0
	}
	if !ex["delegate"] {
		o.Session.Delegate = ""
	}
	if !ex["timeout"] && p.Timeout != 0 {
		o.Session.Timeout = 0
	}
	return p, o, nil
}

func devicesCommand() *command {
	var d deviceFlags
	var asJSON bool
	var timeout time.Duration
	return &command{
		name:    "devices",
		summary: "list the device profiles, or `devices probe NAME` to print a device's facts (arch, kernel, CPU, governor, temperature, memory, runtimes)",
		usage:   "[flags] [probe NAME]",
		flags: func(fs *flag.FlagSet) {
			d.register(fs)
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			fs.DurationVar(&timeout, "timeout", time.Minute, "probe: give up after `D`")
		},
		do: func(ctx context.Context, _ *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			cfg, err := d.load()
			if err != nil {
				return err
			}
			switch {
			case len(pos) == 0 && asJSON:
				return writeJSON("-", stdout, cfg.Profiles())
			case len(pos) == 0:
				return devices.WriteProfiles(stdout, cfg)
			case len(pos) == 2 && pos[0] == "probe":
				p, err := cfg.Lookup(pos[1])
				if err != nil {
					return configErr(err)
				}
				var facts *devices.Facts
				if err := within(ctx, timeout, "probe "+p.Name, func(ctx context.Context) (err error) {
					facts, err = devices.Probe(ctx, p, devices.Options{AcceptNewHostKey: d.open.AcceptNewHostKey, AgentVersion: version, Log: stderr})
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
		},
	}
}
