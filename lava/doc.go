// Package lava runs validations on a LAVA board farm (Linaro Automated
// Validation Architecture): LAVA schedules, boots and health-checks the
// boards; validate converts on the controller, writes LAVA job definitions
// whose test action runs `validate agent run` offline on the device, and
// later collects each job's log, decodes the outputs the job printed and
// compares them with the Go reference exactly as `validate` does.
//
// Files: client.go (the REST API v0.2 client), errors.go (typed errors:
// Unreachable, Unauthorized, JobFault, Checksum), job.go and templates/
// (job definitions: a device type's deploy and boot from a template, our
// test action), block.go (the checksummed output block the job prints and
// its decoder from LAVA's YAML log), artifacts.go (the HTTP server the
// devices fetch the agent, models and inputs from), manifest.go (what was
// submitted), describe.go (a .tflite's inputs and outputs without a
// runtime), submit.go, collect.go and replay.go (the device's outputs
// replayed to validation.Run).
package lava
