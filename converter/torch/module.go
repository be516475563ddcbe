package torch

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// BuildModule builds the graph of a pickled module tree (torch.save(model)).
func BuildModule(f *File, arch *Arch, batch int) (*graph.Graph, error) {
	return nil, &Error{File: f.Path, Err: fmt.Errorf("module trees: %w", ErrNeedArch)}
}
