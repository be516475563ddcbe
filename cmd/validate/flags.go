package main

import (
	"errors"
	"flag"
	"io"
)

// parseFlags parses args with fs, allowing flags after positional arguments
// (validate run model.tflite --json -), and returns the positional arguments.
// A "--" ends flag parsing.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parse parses a command's flags (see parseFlags) and prints the command's
// help for -h, returning flag.ErrHelp, which run treats as success.
func (c *command) parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(stdout, c, fs)
	}
	return pos, err
}
