package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/converter/torch"
)

func archCommand() *command {
	var f modelFlags
	return &command{
		name:    "arch",
		summary: "write the --arch YAML of a PyTorch model source (--source FILE.py), for MODEL's weights when given",
		usage:   "--source FILE.py|FILE.ipynb [--class NAME] [--class-args ARGS] [--input-shape N,C,H,W] [MODEL.pth]",
		flags:   f.registerPySource,
		do: func(ctx context.Context, _ *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			o := &f.o.PySource
			if o.Path == "" || len(pos) > 1 {
				return usagef("arch: want --source FILE.py and at most one MODEL")
			}
			var err error
			if o.InputShape, err = torch.ParseInputShape(f.inputShape); err != nil {
				return usagef("%v", err)
			}
			var model *torch.File
			if len(pos) == 1 {
				if model, err = torch.ReadFile(pos[0]); err != nil {
					return inputError(err)
				}
			}
			sa, err := torch.ArchFromSource(model, *o, 0)
			if err != nil {
				return inputError(fmt.Errorf("--source %s: %w", o.Path, err))
			}
			for _, n := range sa.Notes {
				fmt.Fprintf(stderr, "%s\n", n)
			}
			b, err := sa.Arch.YAML()
			if err != nil {
				return err
			}
			_, err = stdout.Write(b)
			return err
		},
	}
}
