package main

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
		name:    "agent",
		summary: "the on-device agent: serve jobs as binary frames on stdin/stdout (started over SSH), or `agent probe` to print this machine's facts",
		usage:   "[probe]",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := flag.NewFlagSet("agent", flag.ContinueOnError)
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		switch {
		case len(pos) == 0:
			a := &devices.Agent{Version: version, In: agentStdin, Out: stdout}
			return a.Serve(ctx)
		case len(pos) == 1 && pos[0] == "probe":
			return writeJSON("-", stdout, devices.CollectFacts(ctx, version))
		}
		return usagef("agent: want no argument or 'probe', got %q", pos)
	}
	return c
}
