package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is one subcommand of validate. Most declare their flags (flags)
// and get the positional arguments (do); run, when set instead, takes the
// raw arguments and parses them itself (see parse).
type command struct {
	name    string
	summary string
	usage   string // first line of its help: arguments
	flags   func(fs *flag.FlagSet)
	do      func(ctx context.Context, fs *flag.FlagSet, pos []string, stdout, stderr io.Writer) error
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]*command {
	m := map[string]*command{}
	for _, c := range []*command{runCommand(), validateCommand(), locateCommand(), convertCommand(), referenceCommand(), archCommand(), agentCommand(), devicesCommand(), historyCommand(), suiteCommand()} {
		if c.run == nil {
			c.run = c.parseAndDo
		}
		m[c.name] = c
	}
	return m
}

// parseAndDo registers the command's flags, parses args and runs do.
func (c *command) parseAndDo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	pos, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	return c.do(ctx, fs, pos, stdout, stderr)
}

// run is the whole program: it parses args and dispatches to a subcommand.
// Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 {
		printUsage(stderr, cmds)
		return usagef("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			switch args[1] {
			case "help", "-h", "-help", "--help":
				fmt.Fprintln(stdout, "Usage: validate help [COMMAND]\n\nPrints the commands, or a command's usage and flags.")
				return nil
			case "version", "--version":
				fmt.Fprintln(stdout, "Usage: validate version\n\nPrints the version of validate.")
				return nil
			}
			c, ok := cmds[args[1]]
			if !ok {
				return usagef("unknown command %q", args[1])
			}
			if err := c.run(ctx, []string{"-h"}, stdout, stderr); !errors.Is(err, flag.ErrHelp) {
				return err
			}
			return nil
		}
		printUsage(stdout, cmds)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case snapshotCommand:
		return serveSnapshot(args[1:], stdout)
	}
	c, ok := cmds[args[0]]
	rest := args[1:]
	if !ok {
		// `validate [flags] MODEL` is the main command: anything that is not
		// a command name but looks like a flag or a file goes to it.
		if !strings.HasPrefix(args[0], "-") && !strings.ContainsAny(args[0], "./") {
			return usagef("unknown command %q", args[0])
		}
		c, rest = cmds["validate"], args
	}
	err := c.run(ctx, rest, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func printUsage(w io.Writer, cmds map[string]*command) {
	fmt.Fprintln(w, "validate checks that a model converted to TensorFlow Lite still computes the same thing on a device.")
	fmt.Fprintln(w, "\nUsage:\n  validate [flags] MODEL           convert, run on the device, compare with the Go reference\n  validate COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "  help       help on a command: validate help COMMAND")
	fmt.Fprintln(w, "  version    print the version")
	fmt.Fprintln(w, "\nExit codes: 0 pass, 1 mismatch or regression, 2 bad input or usage, 3 device or runtime failure.")
}

// printCommandHelp writes a command's usage and its flags.
func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: validate %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fmt.Fprint(w, b.String())
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func versionString() string { return "validate " + version }

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
