package graph

import (
	"errors"
	"fmt"
)

// Sentinel errors that the typed errors wrap, so callers can tell cases
// apart with errors.Is.
var (
	// ErrShape: the shapes of an op's inputs do not fit the op.
	ErrShape = errors.New("shape mismatch")
	// ErrDType: an input has a dtype the op does not accept.
	ErrDType = errors.New("dtype mismatch")
	// ErrLayout: an input's layout differs from the op's.
	ErrLayout = errors.New("layout mismatch")
	// ErrAttr: an op field has an invalid value (stride 0, axis out of range...).
	ErrAttr = errors.New("invalid attribute")
	// ErrStructure: the graph is malformed (wrong input count, a value used
	// before it is produced, a dangling or duplicated value).
	ErrStructure = errors.New("malformed graph")
)

// Error locates a problem at a node: the node's (source layer) name and op
// kind. Node is empty for problems with the graph's inputs or outputs.
type Error struct {
	Node string
	Op   string
	Err  error
}

func (e *Error) Error() string {
	if e.Node == "" && e.Op == "" {
		return fmt.Sprintf("graph: %v", e.Err)
	}
	return fmt.Sprintf("graph: node %q (%s): %v", e.Node, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func shapeErr(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrShape)
}

func attrErr(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrAttr)
}
