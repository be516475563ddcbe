//go:build cgo

package corpus

import (
	"errors"
	"fmt"

	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
)

// loadTorch reads a PyTorch case file with converter/torch (arch is the
// --arch file, empty when the format needs none). TorchScript archives are
// not read by design (the front-end gives a typed error that explains the
// alternatives): that error counts as a skipped check, any other as a failure.
func loadTorch(path string, m Model, arch string, batch int) (*graph.Graph, error) {
	g, err := torch.Load(path, torch.Options{Arch: arch, Batch: batch})
	var ts *torch.TorchScriptError
	if errors.As(err, &ts) {
		return nil, fmt.Errorf("%w: TorchScript is refused with a typed error", errNoFrontEnd)
	}
	return g, err
}
