// Command validate checks that a machine-learning model still computes the
// same thing after conversion to TensorFlow Lite and deployment to a device.
//
// Usage:
//
//	validate [flags] MODEL                  convert MODEL (.h5, .keras, .pth, .pt, .pt2), run it on a
//	                                        device and compare with the Go reference (the default command)
//	validate run [flags] MODEL.tflite       run a .tflite on a real TFLite runtime
//	validate convert [flags] MODEL -o OUT   convert MODEL to .tflite
//	validate locate [flags] MODEL [--tflite FILE]
//	                                        compare MODEL's .tflite with the Go reference layer by layer
//	validate reference [flags] MODEL --out OUT.npz
//	                                        evaluate MODEL with the Go reference
//	validate arch --source FILE.py [MODEL]  write the --arch YAML of a PyTorch model source
//	validate devices [probe NAME]           list device profiles, or print a device's facts
//	validate history [regressions]          list stored results, or compare each series with its baseline
//	validate history migrate FILE URL       copy a history file into a PostgreSQL database (postgres://…)
//	validate suite SUITE.yaml               run models × precisions × devices and record every result
//	validate lava submit|collect ...        run a suite on a LAVA board farm, collect and record its results
//	validate agent [run ...]                the on-device agent (over SSH, or offline: agent run)
//	validate help [COMMAND]                 print help
//
// Run `validate help COMMAND` for the flags of a command. Exit codes: 0
// pass, 1 mismatch or regression, 2 bad input or usage, 3 device, runtime
// or environment failure, or an internal error.
//
// This package is the program's entry point only: signals and the exit
// status. The command line itself (each command's flags, help and output,
// the dispatcher and the exit-code mapping) is package internal/cli, one
// file per command; the work is done by the library packages it calls
// (validation, devices, history, suite, lava, report).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeval/edgeval/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
