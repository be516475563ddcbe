// Package cliflags holds the mechanics of a command line that the flag
// package lacks: flags after positional arguments (Parse), an int flag that
// remembers whether it was given (Int), the set of flags given (Given) and
// a flag set's defaults as text (Defaults). It knows no flag by name: the
// command line (internal/cli) defines its flags, in groups that several of its
// subcommands share, because a flag's name, default and help are the
// command's manual and belong next to it.
package cliflags

import (
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
)

// Parse parses args with fs, allowing flags after positional arguments
// (run model.tflite --json -), and returns the positional arguments; "--"
// ends flag parsing. fs's output is discarded: its errors are returned.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
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

// IsHelp reports whether err is a request for help (-h, -help).
func IsHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// Int is an int flag that records whether it was given: a default may then
// mean "not given" (use all of a file's samples) rather than its value.
type Int struct {
	N     *int
	Given *bool
}

// String returns the value, the flag's default as help shows it.
func (v Int) String() string {
	if v.N == nil {
		return ""
	}
	return strconv.Itoa(*v.N)
}

// Set parses s and records that the flag was given.
func (v Int) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	*v.N, *v.Given = n, true
	return nil
}

// Given returns the names of the flags fs saw on the command line.
func Given(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// Defaults is fs.PrintDefaults as text.
func Defaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}
