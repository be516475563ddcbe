package torch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sentinel is the file every hostile payload would create if anything ran
// it (see testdata/gen/torch_fixtures.py).
const sentinel = "/tmp/edgeval_torch_pwned"

// TestHostilePickles checks that pickles reaching os.system,
// builtins.eval, subprocess.Popen (through GLOBAL, STACK_GLOBAL, REDUCE,
// INST, OBJ and NEWOBJ), in zip and legacy files, are refused with an
// UnsafeClassError naming the class, and that nothing ran.
func TestHostilePickles(t *testing.T) {
	os.Remove(sentinel)
	tests := []struct{ file, module, name string }{
		{"reduce_os_system.pt", "os", "system"},
		{"stack_global_eval.pt", "builtins", "eval"},
		{"inst_popen.pt", "subprocess", "Popen"},
		{"obj_posix_system.pt", "posix", "system"},
		{"newobj_popen.pt", "subprocess", "Popen"},
		{"state_dict_os_system.pt", "os", "system"},
		{"torch_load.pt", "torch", "load"},
		{"legacy_os_system.pt", "os", "system"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "hostile", tc.file)
			_, err := Load(path, Options{})
			require.Error(t, err)
			var u *UnsafeClassError
			require.ErrorAs(t, err, &u)
			assert.Equal(t, tc.module, u.Module)
			assert.Equal(t, tc.name, u.Name)
			assert.Contains(t, err.Error(), tc.module+"."+tc.name)
			assert.Contains(t, err.Error(), path)
			assert.True(t, IsBadInput(err))
			assert.NoFileExists(t, sentinel, "the payload must never run")
		})
	}
}

// TestHostileSizes checks that declared sizes are checked before any
// allocation: a storage larger than its record, a zip bomb, and a pickle
// opcode declaring 2^62 bytes.
func TestHostileSizes(t *testing.T) {
	tests := []struct{ file, want string }{
		{"storage_size_lies.pt", "declares 4294967296 bytes"},
		{"zip_bomb.pt", "zip bomb"},
		{"huge_binbytes.pt", "declares 4611686018427387904 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := ReadFile(filepath.Join("testdata", "hostile", tc.file))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrFormat), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestViewBounds checks rebuildTensor's checks on a storage of 16 float32
// elements: views must stay inside it, and stride-0 views may not expand
// it without bound.
func TestViewBounds(t *testing.T) {
	l := &loader{}
	st := &storageRef{key: "0", typ: storageTypes["FloatStorage"], numel: 16}
	tup := func(v ...any) *types.Tuple { return types.NewTupleFromSlice(v) }
	tests := []struct {
		name         string
		off          int
		size, stride *types.Tuple
		want         string
	}{
		{"inside", 2, tup(2, 3), tup(3, 1), ""},
		{"expand a little", 0, tup(100, 16), tup(0, 1), ""},
		{"past the end", 10, tup(2, 4), tup(4, 1), "reaches element 17"},
		{"huge expand", 0, tup(1<<30, 16), tup(0, 1), "more than 64x"},
		{"rank mismatch", 0, tup(2, 2), tup(1), "differ in rank"},
		{"negative size", 0, tup(-1), tup(1), "not a valid int"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.rebuildTensor([]any{st, tc.off, tc.size, tc.stride})
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
