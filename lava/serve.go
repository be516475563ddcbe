package lava

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ReadTemplate reads --job-template's file into o.Template ("" keeps the
// built-in template of the device type).
func (o *SubmitOptions) ReadTemplate(file string) error {
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return &TemplateError{Msg: err.Error()}
	}
	o.Template = b
	return nil
}

// Serve starts the artifact server on listen for o.Out's files and sets
// o.ArtifactURL to guestURL with PORT replaced by its port. The returned
// function stops it.
func (o *SubmitOptions) Serve(listen, guestURL string) (stop func() error, err error) {
	dir := filepath.Join(o.Out, filesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	srv, err := ServeArtifacts(listen, dir, nil)
	if err != nil {
		return nil, err
	}
	o.ArtifactURL = srv.GuestURL(guestURL)
	return srv.Close, nil
}

// ParseJobIDs reads job ids given on the command line.
func ParseJobIDs(args []string) ([]int, error) {
	ids := make([]int, len(args))
	for i, a := range args {
		id, err := strconv.Atoi(a)
		if err != nil || id <= 0 {
			return nil, &UsageError{fmt.Sprintf("lava collect: job id %q is not a number", a)}
		}
		ids[i] = id
	}
	return ids, nil
}
