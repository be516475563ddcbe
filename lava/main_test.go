package lava_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/edgeval/edgeval/devices"
)

// TestMain lets the test binary be the boards' agent in the shell test:
// run as `<binary> agent run …` it is `validate agent run`, and as
// `<binary> version` it prints a version.
func TestMain(m *testing.M) {
	if len(os.Args) >= 2 && os.Args[1] == "version" {
		fmt.Println("validate test")
		os.Exit(0)
	}
	if len(os.Args) >= 3 && os.Args[1] == "agent" && os.Args[2] == "run" {
		o := devices.OfflineOptions{Version: "test", Log: os.Stderr}
		fs := flag.NewFlagSet("agent run", flag.ExitOnError)
		fs.StringVar(&o.Model, "model", "", "")
		fs.StringVar(&o.Inputs, "inputs", "", "")
		fs.StringVar(&o.Out, "out", "", "")
		fs.StringVar(&o.Runtime, "runtime", "auto", "")
		fs.IntVar(&o.Bench.Warmup, "warmup", 0, "")
		fs.IntVar(&o.Bench.Runs, "runs", 0, "")
		fs.DurationVar(&o.Session.Timeout, "timeout", 0, "")
		_ = fs.Parse(os.Args[3:])
		rep, err := devices.RunOffline(context.Background(), o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "validate:", err)
			os.Exit(3)
		}
		_ = json.NewEncoder(os.Stdout).Encode(rep)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
