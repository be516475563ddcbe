// Package devices runs TFLite models on named devices: this machine ("host")
// or a remote board reached over SSH.
//
// A device is described by a Profile, read from a devices.yaml file (see
// LoadConfig). Open returns a Session for a profile: for the host it opens
// the runtime in-process, or, when the profile is isolated (the default for
// the TFLite C runtime, see Profile.Isolated), in a child process running
// this binary as `validate agent` over pipes, so that a crash of native code
// is an error, not the end of validate; for a remote board it connects over
// SSH (known_hosts verification, key-file and ssh-agent authentication,
// keepalives), makes sure the agent binary and the model are in the board's
// content-addressed cache (sending only what is missing, landing files by
// atomic rename), and drives `validate agent` on the board through binary
// frames on the SSH channel's stdin and stdout.
//
// Nothing variable travels through a remote shell string: the only commands
// executed on the board are constants of this package (uname -sm, a fixed
// upload script whose parameters arrive on stdin and are checked by the
// script) and the agent's cache path, which is built from a validated
// cache_dir and a hex content hash.
//
// Faults (unreachable host, refused authentication, an unknown or changed
// host key, an agent crash, a dropped connection, a time-out) are returned as
// *Error naming the device, which the CLI maps to exit code 3. Transient
// transport failures are retried with exponential back-off.
package devices
