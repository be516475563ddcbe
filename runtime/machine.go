package runtime

import "context"

// Settings are where a machine keeps what its runtimes need, as a device
// profile states them (its node_modules: and node: fields). Empty fields
// leave a runtime's own search (environment variables, PATH, the working
// directory). A runtime reads the fields it knows.
type Settings struct {
	// NodeModules is the node_modules directory of a runtime that runs
	// under Node.js.
	NodeModules string
	// Node is the node binary.
	Node string
	// TFLiteC is the path of libtensorflowlite_c, for the runtime that
	// loads it.
	TFLiteC string
}

// Status is what a runtime says about itself on this machine without a
// model.
type Status struct {
	// Version of the runtime's kernels ("2.5.3", "2.17.1").
	Version string
	// Detail says what it runs with (the Node version and node_modules
	// folder, a library path).
	Detail string
}

// Prober is implemented by a Runtime that can report, without a model,
// whether it can run on this machine: a device's facts list every
// registered runtime's Probe.
type Prober interface {
	// Probe returns the runtime's status, or an error saying why it
	// cannot run here (with whatever status it could read).
	Probe(ctx context.Context) (Status, error)
}

// Configurer is implemented by a Runtime whose prerequisites are installed
// on the machine rather than built into the binary (LiteRT needs Node.js
// and @litertjs/core): the agent on a device applies a profile's settings
// to it before a model opens.
type Configurer interface {
	// Configure makes s the settings of this process's later sessions of
	// the runtime (and of its Probe). It changes process-wide state, for
	// every Runtime of that name.
	Configure(s Settings)
	// Check checks what s names before a model opens (the folder it
	// names, the Node it runs), returning an error saying what is wrong.
	Check(ctx context.Context, s Settings) error
}
