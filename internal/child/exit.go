package child

import (
	"os"
	"regexp"
	"strings"
)

// CgoNote is what the Go runtime prints when a fatal signal hits C code.
const CgoNote = "signal arrived during cgo execution"

// Fatal is the Go runtime's report of a fatal signal, as a Go program
// prints it on stderr before it exits with status 2: a banner
// ("SIGABRT: abort", "PC=0x…", then CgoNote when the signal hit C code) or
// a panic ("[signal SIGSEGV: segmentation violation …]").
type Fatal struct {
	// Signal is the signal's name ("SIGSEGV").
	Signal string
	// Desc is the banner's description ("segmentation violation"); empty
	// for a panic.
	Desc string
	// InC says the signal arrived while running C code (cgo).
	InC bool
	// Start and End delimit the report in the text searched: the banner
	// through CgoNote when it follows closely, else its first line.
	Start, End int
}

var (
	// bannerRE is the banner of a signal outside Go code: the signal, its
	// description, then the program counter or the cgo note.
	bannerRE = regexp.MustCompile(`(?m)^(SIG[A-Z0-9]+): ([^\n]*)\n(?:PC=0x|` + CgoNote + `)`)
	// panicRE is a Go panic's line naming the signal.
	panicRE = regexp.MustCompile(`\[signal (SIG[A-Z0-9]+): [^\n]*`)
)

// FindFatal finds the Go runtime's report of a fatal signal in a child's
// stderr (best searched in its head, see Stderr.Head).
func FindFatal(stderr string) (Fatal, bool) {
	if loc := bannerRE.FindStringSubmatchIndex(stderr); loc != nil {
		f := Fatal{Signal: stderr[loc[2]:loc[3]], Desc: stderr[loc[4]:loc[5]], Start: loc[0]}
		banner := stderr[loc[0]:]
		if i := strings.Index(banner, CgoNote); i >= 0 && i < 300 {
			f.InC = true
			f.End = loc[0] + i + len(CgoNote)
		} else {
			f.End = loc[0] + strings.IndexByte(banner, '\n')
		}
		return f, true
	}
	if loc := panicRE.FindStringSubmatchIndex(stderr); loc != nil {
		return Fatal{Signal: stderr[loc[2]:loc[3]], Start: loc[0], End: loc[1]}, true
	}
	return Fatal{}, false
}

// Exit describes how a child process ended.
type Exit struct {
	// Signal is the name of the signal that ended it ("SIGABRT"): from its
	// wait status, or from the Go runtime's report when it caught the
	// signal and exited with status 2 (or aborted); "" when it exited by
	// itself.
	Signal string
	// SignalDesc describes the signal ("aborted", "killed", or the Go
	// banner's "abort").
	SignalDesc string
	// InC says the signal arrived while running C code (cgo).
	InC bool
	// Status is the exit status, -1 when killed by a signal or unknown.
	Status int
	// Stderr is the part of its stderr that explains the end: the lines
	// before the Go runtime's report and the report's banner, else its
	// last lines.
	Stderr string
}

// Describe says how the child whose state is ps (nil when unknown) and
// whose stderr is stderr ended.
func Describe(ps *os.ProcessState, stderr *Stderr) *Exit {
	e := &Exit{Status: -1}
	if ps != nil {
		e.Status = ps.ExitCode()
		if sig, ok := ExitSignal(ps); ok {
			e.Signal, e.SignalDesc = SignalName(sig), sig.String()
		}
	}
	head := stderr.Head()
	if f, ok := FindFatal(head); ok && ((e.Signal == "" && e.Status == 2) || e.Signal == "SIGABRT") {
		e.Signal, e.SignalDesc, e.InC = f.Signal, f.Desc, f.InC
		e.Stderr = LastBytes(strings.TrimSpace(head[:f.Start]), 600)
		if e.Stderr != "" {
			e.Stderr += "\n"
		}
		e.Stderr += strings.TrimSpace(head[f.Start:f.End])
		return e
	}
	e.Stderr = LastLines(strings.TrimSpace(stderr.Last()), 10, 1000)
	return e
}
