package cli

import (
	"context"
	"errors"
	"io"

	"github.com/edgeval/edgeval/internal/hdf5"
)

// snapshotCommand is the hidden subcommand `validate __hdf5-snapshot
// [-skip GROUP]... -- FILE`: the child side of reading an HDF5 model file
// out of process. It writes one snapshot frame of FILE on stdout and is
// started only by validate itself (snapshotInChild), never by users, so it
// is not listed in the help.
const snapshotCommand = hdf5.SnapshotCommand

// serveSnapshot runs the hidden subcommand.
func serveSnapshot(args []string, stdout io.Writer) error {
	err := hdf5.ServeChild(args, stdout)
	if errors.Is(err, hdf5.ErrChildArgs) {
		return usagef("%v", err)
	}
	return err
}

// snapshotChild is how validate starts the child: this executable, with
// hdf5.DefaultChildTimeout and the snapshot's size limit.
var snapshotChild = &hdf5.Child{}

// snapshotInChild reads an HDF5 file in a child process, so that libhdf5
// crashing or hanging on a corrupt file gives an error naming the file
// ("libhdf5 crashed reading FILE: killed by SIGSEGV; the file is corrupt",
// exit code 2) instead of killing validate.
func snapshotInChild(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error) {
	return snapshotChild.Snapshot(context.Background(), path, opts)
}
