package keras

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits on .keras archives, so a zip bomb cannot exhaust memory or disk.
const (
	// maxWeightsBytes caps the inflated model.weights.h5.
	maxWeightsBytes = 4 << 30
	// maxInflateRatio caps inflated/compressed size for every member.
	maxInflateRatio = 200
)

// kerasArchive is an opened .keras zip: its config and the path of the
// weights file extracted to a temporary file.
type kerasArchive struct {
	config      []byte
	weightsPath string
}

// openArchive reads config.json and extracts model.weights.h5 of a .keras
// file into dir.
func openArchive(path, dir string) (*kerasArchive, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	defer zr.Close()
	a := &kerasArchive{}
	var cfg, weights *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "config.json":
			cfg = f
		case "model.weights.h5":
			weights = f
		}
	}
	if cfg == nil {
		return nil, errors.New("archive has no config.json (not a Keras 3 .keras file)")
	}
	if weights == nil {
		return nil, errors.New("archive has no model.weights.h5 (sharded or npz weights are not supported)")
	}
	if a.config, err = readMember(cfg, maxConfigBytes); err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(dir, "model-*.weights.h5")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	if err := copyMember(out, weights, maxWeightsBytes); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	a.weightsPath = out.Name()
	return a, nil
}

// checkMember refuses a member whose declared sizes exceed limit or whose
// compression ratio is implausible.
func checkMember(f *zip.File, limit uint64) error {
	if f.UncompressedSize64 > limit {
		return fmt.Errorf("%s declares %d bytes, more than the %d-byte limit", f.Name, f.UncompressedSize64, limit)
	}
	if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64/max(f.CompressedSize64, 1) > maxInflateRatio {
		return fmt.Errorf("%s inflates %d bytes to %d, more than %d times (zip bomb?)", f.Name, f.CompressedSize64, f.UncompressedSize64, maxInflateRatio)
	}
	return nil
}

// copyMember copies a member to w, stopping at its declared size (a member
// that inflates to more than it declares is refused).
func copyMember(w io.Writer, f *zip.File, limit uint64) error {
	if err := checkMember(f, limit); err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer r.Close()
	n, err := io.Copy(w, io.LimitReader(r, int64(f.UncompressedSize64)+1))
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	if uint64(n) != f.UncompressedSize64 {
		return fmt.Errorf("%s inflates to more or fewer bytes than the %d it declares", f.Name, f.UncompressedSize64)
	}
	return nil
}

func readMember(f *zip.File, limit uint64) ([]byte, error) {
	if err := checkMember(f, limit); err != nil {
		return nil, err
	}
	buf := &limitedBuffer{}
	if err := copyMember(buf, f, limit); err != nil {
		return nil, err
	}
	return buf.b, nil
}

type limitedBuffer struct{ b []byte }

// Write appends p (the caller bounds the total).
func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	return len(p), nil
}
