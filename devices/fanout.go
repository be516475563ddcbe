package devices

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
)

// SplitList splits a comma-separated --device list into profile names; an
// empty or repeated name is a *ConfigError.
func SplitList(list string) ([]string, error) {
	names := strings.Split(list, ",")
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, &ConfigError{Msg: fmt.Sprintf("--device %q: empty or repeated device name", list)}
		}
		seen[n] = true
	}
	return names, nil
}

// FanOut calls job once per device of a comma-separated list, concurrently,
// each with its own output buffer and a shared log whose writes are
// serialised. It then prints the outputs to stdout in list order — each
// under a "== NAME" header and followed by "FAILED: error" when its job
// failed, unless bare (JSON on stdout must stay parseable) — and returns
// every job's error joined, each naming its device.
func FanOut(list string, bare bool, stdout, log io.Writer, job func(name string, out, log io.Writer) error) error {
	names, err := SplitList(list)
	if err != nil {
		return err
	}
	outs := make([]bytes.Buffer, len(names))
	errs := make([]error, len(names))
	shared := &syncWriter{w: log}
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			if err := job(n, &outs[i], shared); err != nil {
				errs[i] = fmt.Errorf("device %s: %w", n, err)
			}
		})
	}
	wg.Wait()
	for i, n := range names {
		if !bare {
			fmt.Fprintf(stdout, "== %s\n", n)
		}
		stdout.Write(outs[i].Bytes())
		if errs[i] != nil && !bare {
			fmt.Fprintf(stdout, "FAILED: %v\n", errs[i])
		}
	}
	return errors.Join(errs...)
}

// PerDevicePath inserts "-NAME" before path's extension, so that each
// device of a fan-out writes its own file ("" and "-" for stdout stay as
// they are).
func PerDevicePath(path, name string) string {
	if path == "" || path == "-" {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + name + ext
}

// syncWriter serialises writes from concurrent jobs.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
