// Package devices runs TFLite models on named devices: this machine ("host")
// or a remote board reached over SSH.
//
// A device is described by a Profile, read from a devices.yaml file (see
// LoadConfig; Config.CheckList checks a --device list before any work).
// Open returns a Session for a profile: for the host it opens
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
// AsRuntime presents a device as a runtime.Runtime; every kind of session
// passes the runtimes' conformance suite (runtime/runtimetest) that way.
//
// Nothing variable travels through a remote shell string: the only commands
// executed on the board are constants of this package: uname -sm, and two
// fixed POSIX sh scripts (they run under dash, bash and BusyBox ash, with no
// GNU-only option) whose parameters arrive on stdin and are checked by the
// script: the upload script, which lands the agent by atomic rename after
// checking the room, its size and its sha256, and the start script, which
// verifies the cached agent's sha256 before every use and only then execs
// it. The sha256 comes from sha256sum, openssl or shasum, whichever the
// board has; a board with none is refused rather than run unverified. An
// agent_binary built for another architecture than the board's is refused
// before anything is sent.
//
// Facts (CollectFacts) name the CPU cores from their MIDR part numbers on
// ARM, the board, and whether the machine is virtual (Facts.Virtual,
// Facts.LatencyWarning) and list every runtime registered in the binary
// (runtime.Register; the commands import the runtimes for that) with what
// its runtime.Prober reports. devices imports no runtime itself: it reaches
// them through the registry. Before a model opens, the agent applies the
// profile's runtime settings (node_modules, node) to every runtime.Configurer
// and has the opened runtime check them (LiteRT: Node's version, the
// node_modules folder); a probe applies them as a run does.
//
// Faults (unreachable host, refused authentication, an unknown or changed
// host key, an agent crash, a dropped connection, a time-out) are returned as
// *Error naming the device, which the CLI maps to exit code 3. Transient
// transport failures are retried with exponential back-off.
package devices
