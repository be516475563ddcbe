package validation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// pathSHA256 is the hex sha256 of a file's contents; of a directory (an
// image dataset), the sha256 of each regular file's slash-separated path
// relative to it, a NUL, its contents' sha256 and a newline, in lexical
// order, so that renaming, changing, adding or removing a file changes it.
func pathSHA256(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return fileSHA256(path)
	}
	h := sha256.New()
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%s\n", filepath.ToSlash(rel), sum)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileSHA256 is the hex sha256 of a file's contents, read as a stream; a
// read error names the file.
func fileSHA256(path string) (string, error) {
	sum, opened, err := hashFile(path)
	if err != nil && opened {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return sum, err
}

// streamSHA256 is fileSHA256 with the errors of os.ReadFile: the open or
// read error itself, unwrapped.
func streamSHA256(path string) (string, error) {
	sum, _, err := hashFile(path)
	return sum, err
}

// hashFile returns the hex sha256 of a file's contents, read as a stream,
// and whether the file opened.
func hashFile(path string) (sum string, opened bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", true, err
	}
	return hex.EncodeToString(h.Sum(nil)), true, nil
}
