package devices

import (
	"errors"
	"fmt"
)

// Error is a failure to reach or drive a device. It names the device and
// what was being done; Err holds the cause (a *HostKeyError, *AuthError,
// *runtime.Error, *runtime.ModelError, a network error...).
type Error struct {
	Device string // profile name
	Op     string // "connect", "deploy", "open", "run", "probe", ...
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("device %s: %s: %v", e.Device, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ConfigError is a problem with a devices.yaml file or a profile: a bad
// field, an unknown device name. The CLI maps it to exit code 2.
type ConfigError struct {
	File string // the devices.yaml file, "" for the built-in host profile
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return e.Msg
	}
	return e.File + ": " + e.Msg
}

// HostKeyError is a host key that known_hosts does not vouch for.
type HostKeyError struct {
	Addr        string // host:port as dialled
	KnownHosts  string // the known_hosts file consulted
	Fingerprint string // SHA256 fingerprint of the key the server offered
	Changed     bool   // true: known_hosts holds a different key for the host
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("host key for %s CHANGED (server offers %s, %s lists another key): refusing to connect; if the board was reinstalled, remove its line from %s", e.Addr, e.Fingerprint, e.KnownHosts, e.KnownHosts)
	}
	return fmt.Sprintf("host key for %s is unknown (server offers %s, not in %s): verify it and pass --accept-new-host-key to record it", e.Addr, e.Fingerprint, e.KnownHosts)
}

// AuthError is an SSH authentication refused by the server.
type AuthError struct {
	User string
	Err  error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("authentication as %q refused: %v", e.User, e.Err)
}

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Err }

// transientError marks a failure worth retrying (a dropped connection, a
// refused or timed-out dial).
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

func isTransient(err error) bool {
	var te *transientError
	return errors.As(err, &te)
}
