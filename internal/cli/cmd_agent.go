package cli

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/edgeval/edgeval/devices"
)

// agentStdin is where `validate agent` reads its frames (tests replace it).
var agentStdin io.Reader = os.Stdin

func agentCommand() *command {
	c := &command{
		name: "agent",
		summary: "the on-device agent: serve jobs as binary frames on stdin/stdout (started over SSH), `agent probe` to print this machine's facts, " +
			"or `agent run` to run a .tflite offline on an inputs .npz (for board farms: LAVA) and print facts and timings as JSON",
		usage: "[probe | run --model M.tflite --inputs X.npz --out O.npz [flags]]",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var o devices.OfflineOptions
		fs := flag.NewFlagSet("agent", flag.ContinueOnError)
		fs.StringVar(&o.Model, "model", "", "run: the .tflite `FILE`")
		fs.StringVar(&o.Inputs, "inputs", "", "run: the samples, one array per model input stacked over samples, `X.npz`")
		fs.StringVar(&o.Out, "out", "", "run: write the outputs, one array per model output, to `O.npz` (atomically)")
		fs.StringVar(&o.Runtime, "runtime", devices.AutoRuntime, "run: the `RUNTIME`: auto, litert or tflite")
		fs.IntVar(&o.Session.Threads, "threads", 0, "run: interpreter threads `N` (0: the runtime's default)")
		fs.StringVar(&o.Session.Delegate, "delegate", "", "run: `DELEGATE` none, xnnpack or edgetpu")
		fs.DurationVar(&o.Session.Timeout, "timeout", 0, "run: bound loading the model and each inference by `D` (0: the runtime's default, 1m)")
		fs.IntVar(&o.Bench.Warmup, "warmup", 1, "run: untimed warm-up runs `N` of the first sample")
		fs.IntVar(&o.Bench.Runs, "runs", 0, "run: at least `N` timed runs, cycling the samples (0: one per sample)")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		switch {
		case len(pos) == 1 && pos[0] == "run":
			if o.Model == "" || o.Inputs == "" || o.Out == "" {
				return usagef("agent run: --model, --inputs and --out are required")
			}
			o.Version, o.Log = version, stderr
			rep, err := devices.RunOffline(ctx, o)
			if err != nil {
				return err
			}
			return writeJSON("-", stdout, rep)
		case fs.NFlag() > 0:
			return usagef("agent: flags are for 'agent run'")
		case len(pos) == 0:
			a := &devices.Agent{Version: version, In: agentStdin, Out: stdout}
			return a.Serve(ctx)
		case len(pos) == 1 && pos[0] == "probe":
			return writeJSON("-", stdout, devices.CollectFacts(ctx, version))
		}
		return usagef("agent: want no argument, 'probe' or 'run', got %q", pos)
	}
	return c
}
