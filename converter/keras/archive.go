package keras

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/edgeval/edgeval/internal/zipcheck"
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
// file into dir. Every member's CRC-32 and size are verified: the two it
// reads as they are read, the others (metadata.json, assets) before the
// archive is used, so a corrupted archive is a *zipcheck.Error naming the
// member.
func openArchive(path, dir string) (*kerasArchive, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return openArchiveFrom(fh, st.Size(), dir)
}

// openArchiveFrom is openArchive on an open archive of size bytes.
func openArchiveFrom(r io.ReaderAt, size int64, dir string) (*kerasArchive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	zs := zipcheck.NewArchive(zr.File)
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
	if err := checkMember(cfg, maxConfigBytes); err != nil {
		return nil, err
	}
	if a.config, err = zs.ReadAll(cfg, maxConfigBytes); err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(dir, "model-*.weights.h5")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	if err := copyMember(out, zs, weights, maxWeightsBytes); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	if err := zs.VerifyRest(); err != nil {
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

// copyMember copies a member to w, verified: a member that inflates to
// more or fewer bytes than it declares, or whose CRC-32 differs, is a
// *zipcheck.Error.
func copyMember(w io.Writer, zs *zipcheck.Archive, f *zip.File, limit uint64) error {
	if err := checkMember(f, limit); err != nil {
		return err
	}
	r, err := zs.Open(f)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(w, r); err != nil {
		var ze *zipcheck.Error
		if errors.As(err, &ze) {
			return err
		}
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// readMember reads a whole member of at most limit bytes, verified.
func readMember(f *zip.File, limit uint64) ([]byte, error) {
	if err := checkMember(f, limit); err != nil {
		return nil, err
	}
	return zipcheck.ReadAll(f, limit)
}
