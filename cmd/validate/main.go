// Command validate checks that a machine-learning model still computes the
// same thing after conversion to TensorFlow Lite and deployment to a device.
//
// Usage:
//
//	validate run [flags] MODEL.tflite     run a .tflite on a real TFLite runtime
//	validate help [COMMAND]               print help
//
// Run `validate help run` for the flags of a command. Exit codes: 0 pass,
// 1 mismatch or regression, 2 bad input or usage, 3 device or runtime
// failure.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(reportError(err, os.Stderr))
}
