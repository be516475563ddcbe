// Package cli is validate's command line: one file per command, holding
// the command's flags (bound straight into the libraries' option structs:
// validation.Options, devices.Options, history.Filter, lava.Command), its
// help text, its checks of the arguments and its printing; the dispatcher
// (app.go) and the mapping of the libraries' typed errors to the
// documented exit codes (exit.go). It does no work of its own: validation,
// devices, history, suite, lava and report do. cmd/validate's main calls
// Main; the manual is cmd/validate's doc comment.
//
// It is internal: its API is the command line, documented in the README.
// A Go program runs a validation through package validation.
package cli
