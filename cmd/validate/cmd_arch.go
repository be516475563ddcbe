package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/converter/torch"
)

// pySourceFlags are the flags that read a PyTorch state_dict's
// architecture from the model's own Python source.
type pySourceFlags struct {
	path, class, classArgs, inputShape string
}

// registerPySource registers --source, --class, --class-args and
// --input-shape.
func (f *validateFlags) registerPySource(fs *flag.FlagSet) { f.pySource.register(fs) }

func (p *pySourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "source", "", "PyTorch: read a state_dict's architecture from the model's own Python `FILE.py|FILE.ipynb` (never executed; see converter/torch/SOURCE.md)")
	fs.StringVar(&p.class, "class", "", "with --source: the nn.Module subclass `NAME` (default: the one whose parameters match the file)")
	fs.StringVar(&p.classArgs, "class-args", "", "with --source: the class's constructor arguments as Python literals (`'10, width=32'`)")
	fs.StringVar(&p.inputShape, "input-shape", "", "with --source: the input shape `N,C,H,W` (default: inferred where the weights fix it)")
}

// options checks the flags and gives the library's options.
func (p *pySourceFlags) options() (torch.SourceOptions, error) {
	o := torch.SourceOptions{Path: p.path, Class: p.class, ClassArgs: p.classArgs}
	if p.path == "" {
		if p.class != "" || p.classArgs != "" || p.inputShape != "" {
			return o, usagef("--class, --class-args and --input-shape go with --source")
		}
		return o, nil
	}
	if p.inputShape != "" {
		for _, s := range strings.Split(p.inputShape, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return o, usagef("--input-shape %q: want positive integers N,C,H,W", p.inputShape)
			}
			o.InputShape = append(o.InputShape, n)
		}
	}
	return o, nil
}

func archCommand() *command {
	c := &command{
		name:    "arch",
		summary: "write the --arch YAML of a PyTorch model source (--source FILE.py), for MODEL's weights when given",
		usage:   "--source FILE.py|FILE.ipynb [--class NAME] [--class-args ARGS] [--input-shape N,C,H,W] [MODEL.pth]",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var p pySourceFlags
		fs := flag.NewFlagSet("arch", flag.ContinueOnError)
		p.register(fs)
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		if p.path == "" || len(pos) > 1 {
			return usagef("arch: want --source FILE.py and at most one MODEL")
		}
		o, err := p.options()
		if err != nil {
			return err
		}
		var f *torch.File
		if len(pos) == 1 {
			if f, err = torch.ReadFile(pos[0]); err != nil {
				return &inputError{err}
			}
		}
		sa, err := torch.ArchFromSource(f, o, 0)
		if err != nil {
			return &inputError{fmt.Errorf("--source %s: %w", p.path, err)}
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
	}
	return c
}
