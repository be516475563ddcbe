// Command edgeval-agent is the on-device half of `validate --device`, alone:
// the same agent as `validate agent` (package devices), without the
// converters and the HDF5 reader, so that it cross-compiles with cgo for a
// board with only the TFLite C library (no libhdf5 for the board needed):
//
//	CC=aarch64-linux-gnu-gcc CGO_ENABLED=1 GOARCH=arm64 \
//	  CGO_CFLAGS=-I$TFLITE/include CGO_LDFLAGS="-L$TFLITE/lib -Wl,-rpath,/usr/local/lib" \
//	  go build -tags tflite -o edgeval-agent-arm64-tflite ./cmd/edgeval-agent
//
// Point a profile's agent_binary at the result. Usage on the board (validate
// starts it over SSH):
//
//	edgeval-agent agent          serve the agent protocol on stdin/stdout
//	edgeval-agent agent probe    print this machine's facts as JSON
//	edgeval-agent agent run ...  run a .tflite offline, as `validate agent run` (board farms)
//	edgeval-agent version        print the version
//
// Exit codes: 0 a clean end, 2 usage, 3 a broken protocol.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	_ "github.com/edgeval/edgeval/runtime/tflitec"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves one command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "agent":
		a := &devices.Agent{Version: version, In: stdin, Out: stdout}
		if err := a.Serve(ctx); err != nil {
			fmt.Fprintln(stderr, "edgeval-agent:", err)
			return 3
		}
		return 0
	case len(args) == 2 && args[0] == "agent" && args[1] == "probe":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(devices.CollectFacts(ctx, version)); err != nil {
			fmt.Fprintln(stderr, "edgeval-agent:", err)
			return 3
		}
		return 0
	case len(args) >= 2 && args[0] == "agent" && args[1] == "run":
		return runOffline(ctx, args[2:], stdout, stderr)
	case len(args) == 1 && (args[0] == "version" || args[0] == "--version"):
		fmt.Fprintln(stdout, "edgeval-agent", version)
		return 0
	}
	fmt.Fprintln(stderr, "usage: edgeval-agent agent | agent probe | agent run --model M.tflite --inputs X.npz --out O.npz [flags] | version")
	return 2
}

// runOffline is `agent run`: validate's offline agent mode (a board farm
// job runs it), the same flags.
func runOffline(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := devices.OfflineOptions{Version: version, Log: stderr}
	fs := flag.NewFlagSet("agent run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Model, "model", "", "the .tflite `FILE`")
	fs.StringVar(&o.Inputs, "inputs", "", "the samples `X.npz`")
	fs.StringVar(&o.Out, "out", "", "the outputs `O.npz`")
	fs.StringVar(&o.Runtime, "runtime", devices.AutoRuntime, "the `RUNTIME`: auto, litert or tflite")
	fs.IntVar(&o.Session.Threads, "threads", 0, "interpreter threads `N`")
	fs.StringVar(&o.Session.Delegate, "delegate", "", "`DELEGATE` none, xnnpack or edgetpu")
	fs.DurationVar(&o.Session.Timeout, "timeout", 0, "bound loading the model and each inference by `D`")
	fs.IntVar(&o.Bench.Warmup, "warmup", 1, "untimed warm-up runs `N`")
	fs.IntVar(&o.Bench.Runs, "runs", 0, "at least `N` timed runs (0: one per sample)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || o.Model == "" || o.Inputs == "" || o.Out == "" {
		fmt.Fprintln(stderr, "edgeval-agent: agent run needs --model, --inputs and --out")
		return 2
	}
	rep, err := devices.RunOffline(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "edgeval-agent:", err)
		var ie *runtime.InputError
		var me *runtime.ModelError
		if errors.As(err, &ie) || errors.As(err, &me) {
			return 2
		}
		return 3
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(stderr, "edgeval-agent:", err)
		return 3
	}
	return 0
}
