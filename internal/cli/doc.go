// Package cli is validate's command line: one file per command, holding
// the command's flags (bound straight into the libraries' option structs:
// validation.Options, devices.Options, history.Filter, lava.Command), its
// help text, its checks of the arguments and its printing; the dispatcher
// (app.go), and the printing of an error with its exit code (exit.go; the
// codes and their mapping are package exitcode). It does no work of its
// own: validation,
// devices, history, suite, lava and report do. cmd/validate's main calls
// Main; the manual is cmd/validate's doc comment.
//
// It is internal: its API is the command line, documented in the README.
// A Go program runs a validation through package validation and maps its
// error to validate's exit code with exitcode.Of.
package cli
