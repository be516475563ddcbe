package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/internal/cliflags"
	// The runtimes register themselves by name for --runtime.
	_ "github.com/edgeval/edgeval/runtime/litert"
	_ "github.com/edgeval/edgeval/runtime/tflitec"
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
	for _, c := range []*command{runCommand(), validateCommand(), locateCommand(), convertCommand(), referenceCommand(), archCommand(), agentCommand(), devicesCommand(), historyCommand(), suiteCommand(), lavaCommand()} {
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

// Main is the whole program: it runs the command args (without the program
// name) names, prints an error on stderr and returns the process's exit
// status (0 pass, 1 mismatch or regression, 2 bad input or usage, 3 device,
// runtime or environment failure, or an internal error).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return reportError(run(ctx, args, stdout, stderr), stderr)
}

// run parses args and dispatches to a subcommand; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 {
		printUsage(stderr, cmds)
		return usagef("no command given")
	}
	name, rest := args[0], args[1:]
	if isHelp(name) && len(rest) == 0 {
		printUsage(stdout, cmds)
		return nil
	}
	if isHelp(name) { // validate help COMMAND is COMMAND -h
		name, rest = rest[0], []string{"-h"}
		switch {
		case isHelp(name):
			fmt.Fprintln(stdout, "Usage: validate help [COMMAND]\n\nPrints the commands, or a command's usage and flags.")
			return nil
		case isVersion(name):
			fmt.Fprintln(stdout, "Usage: validate version\n\nPrints the version of validate.")
			return nil
		case cmds[name] == nil:
			return usagef("unknown command %q", name)
		}
	}
	c, ok := cmds[name]
	switch {
	case isVersion(name):
		fmt.Fprintln(stdout, versionString())
		return nil
	case name == snapshotCommand:
		return serveSnapshot(rest, stdout)
	case !ok && !strings.HasPrefix(name, "-") && !strings.ContainsAny(name, "./"):
		return usagef("unknown command %q", name)
	case !ok:
		// `validate [flags] MODEL` is the main command: anything that is
		// not a command name but looks like a flag or a file goes to it.
		c, rest = cmds["validate"], args
	}
	if err := c.run(ctx, rest, stdout, stderr); !cliflags.IsHelp(err) {
		return err
	}
	return nil
}

func isHelp(s string) bool    { return s == "help" || s == "-h" || s == "-help" || s == "--help" }
func isVersion(s string) bool { return s == "version" || s == "--version" }

func printUsage(w io.Writer, cmds map[string]*command) {
	fmt.Fprintln(w, "validate checks that a model converted to TensorFlow Lite still computes the same thing on a device.")
	fmt.Fprintln(w, "\nUsage:\n  validate [flags] MODEL           convert, run on the device, compare with the Go reference\n  validate COMMAND [flags] [args]\n\nCommands:")
	for _, n := range slices.Sorted(maps.Keys(cmds)) {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "  help       help on a command: validate help COMMAND")
	fmt.Fprintln(w, "  version    print the version")
	fmt.Fprintln(w, "\nExit codes: 0 pass, 1 mismatch or regression, 2 bad input or usage, 3 device or runtime failure.")
}

// parseFlags parses args with fs (cliflags.Parse: flags may follow the
// positional arguments); a bad flag is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cliflags.Parse(fs, args)
	if err != nil && !cliflags.IsHelp(err) {
		return nil, usagef("%s: %v", fs.Name(), err)
	}
	return pos, err
}

// parse parses a command's flags (see parseFlags) and prints the command's
// help for -h, returning flag.ErrHelp, which run treats as success.
func (c *command) parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	pos, err := parseFlags(fs, args)
	if cliflags.IsHelp(err) {
		fmt.Fprintf(stdout, "Usage: validate %s %s\n\n%s\n\nFlags:\n%s", c.name, c.usage, c.summary, cliflags.Defaults(fs))
	}
	return pos, err
}

// version is set at build time with -ldflags
// "-X github.com/edgeval/edgeval/internal/cli.version=...".
var version = "dev"

func versionString() string { return "validate " + version }
