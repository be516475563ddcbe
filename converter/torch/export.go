package torch

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

func isExportArchive(path string) bool { return false }

// LoadExport reads a torch.export archive (.pt2).
func LoadExport(path string, batch int) (*graph.Graph, error) {
	return nil, &Error{File: path, Err: fmt.Errorf("not yet")}
}
