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

// TestHostileClasses checks pickles written by Python's own pickle module
// (testdata/gen/torch_fixtures.py classes) that call a user's class as its
// __reduce__ asks, at every protocol and in zip and legacy files, give its
// __new__ arguments (NEWOBJ, NEWOBJ_EX), call a torch.nn module class or a
// module instance: each is refused with an *UnsafeClassError naming the
// class and saying how it was used, and nothing ran.
func TestHostileClasses(t *testing.T) {
	os.Remove(sentinel)
	tests := []struct{ file, module, name, use string }{
		{"class_reduce_p0.pt", "__main__", "Evil", "calls"},
		{"class_reduce_p1.pt", "__main__", "Evil", "calls"},
		{"class_reduce_p2.pt", "__main__", "Evil", "calls"},
		{"class_reduce_p3.pt", "__main__", "Evil", "calls"},
		{"class_reduce_p4.pt", "__main__", "Evil", "calls"},
		{"class_reduce_p5.pt", "__main__", "Evil", "calls"},
		{"class_reduce_state_dict.pt", "__main__", "Evil", "calls"},
		{"class_reduce_legacy.pt", "__main__", "Evil", "calls"},
		{"class_pkg_reduce.pt", "mymodels.layers", "Evil", "calls"},
		{"class_newobj_args.pt", "__main__", "EvilNew", "passes arguments to the constructor of"},
		{"class_newobj_ex.pt", "__main__", "EvilNewEx", "passes arguments to the constructor of"},
		{"class_module_reduce.pt", "torch.nn.modules.linear", "Bilinear", "calls"},
		{"class_instance_call.pt", "__main__", "Net", "calls an instance of"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "hostile", tc.file)
			_, err := Load(path, Options{})
			require.Error(t, err)
			var u *UnsafeClassError
			require.ErrorAs(t, err, &u, "%v", err)
			assert.Equal(t, tc.module, u.Module)
			assert.Equal(t, tc.name, u.Name)
			assert.Equal(t, tc.use, u.Use)
			assert.Contains(t, err.Error(), "the pickle "+tc.use+" "+tc.module+"."+tc.name+", which the allow-list of PyTorch classes does not permit")
			assert.Contains(t, err.Error(), path)
			assert.True(t, IsBadInput(err))
			assert.NoFileExists(t, sentinel, "the payload must never run")
		})
	}
}

// TestPickleProtocols checks one state_dict and one Linear module saved
// with every pickle protocol by Python's own pickle: protocols 1-5 read
// the same tensors; protocol 0, whose storage references are text
// persistent ids, is refused with a message saying the protocol is not
// supported.
func TestPickleProtocols(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		module bool
	}{
		{"proto_state_dict_p1.pt", FormatZip, false},
		{"proto_state_dict_p2.pt", FormatZip, false},
		{"proto_state_dict_p3.pt", FormatZip, false},
		{"proto_state_dict_p4.pt", FormatZip, false},
		{"proto_state_dict_p5.pt", FormatZip, false},
		{"proto_module_p1.pt", FormatZip, true},
		{"proto_module_p2.pt", FormatZip, true},
		{"proto_legacy_p1.pt", FormatLegacy, false},
		{"proto_legacy_p2.pt", FormatLegacy, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", "hostile", tc.file))
			require.NoError(t, err)
			assert.Equal(t, tc.format, f.Format)
			if tc.module {
				require.NotNil(t, f.Root)
				assert.Equal(t, "torch.nn.modules.linear.Linear", f.Root.Class)
				assert.Equal(t, 3, f.Root.Attrs["in_features"])
			} else {
				assert.Nil(t, f.Root)
			}
			require.Len(t, f.Tensors, 2)
			assert.Equal(t, "weight", f.Tensors[0].Name)
			assert.Equal(t, []int{2, 3}, f.Tensors[0].Tensor.Shape)
			assert.Equal(t, []float32{0.5, 1, 1.5, 2, 2.5, 3}, f.Tensors[0].Tensor.Float32s())
			assert.Equal(t, "bias", f.Tensors[1].Name)
			assert.Equal(t, []float32{-1, 1}, f.Tensors[1].Tensor.Float32s())
		})
	}
	for _, file := range []string{"proto_state_dict_p0.pt", "proto_module_p0.pt", "proto_legacy_p0.pt"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", "hostile", file)
			_, err := Load(path, Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrFormat)
			assert.True(t, IsBadInput(err))
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), "pickle protocol 0 is not supported")
		})
	}
}

// TestAllowedGlobalsMisused checks that a global the allow-list admits
// for one use is refused by name when a pickle uses it otherwise (every
// opcode that calls or instantiates: REDUCE, INST, OBJ, NEWOBJ), and that
// an opcode applied to a value that is not callable is a format error
// without Go's value dump in its message.
func TestAllowedGlobalsMisused(t *testing.T) {
	tests := []struct {
		name, pickle, global, use string
	}{
		{"INST on a custom class", "(X\x01\x00\x00\x00ai__main__\nEvil\n.", "__main__.Evil", "calls"},
		{"OBJ on a custom class", "(c__main__\nEvil\nX\x01\x00\x00\x00ao.", "__main__.Evil", "calls"},
		{"NEWOBJ with arguments", "\x80\x02c__main__\nNet\nK\x01\x85\x81.", "__main__.Net", "passes arguments to the constructor of"},
		{"REDUCE on a torch module class", "\x80\x02ctorch.nn.modules.linear\nLinear\nK\x03K\x04\x86R.", "torch.nn.modules.linear.Linear", "calls"},
		{"REDUCE on an instance", "\x80\x02c__main__\nNet\n)\x81)R.", "__main__.Net", "calls an instance of"},
		{"REDUCE on a storage class", "\x80\x02ctorch\nFloatStorage\nK\x04\x85R.", "torch.FloatStorage", "calls"},
		{"NEWOBJ on a storage class", "\x80\x02ctorch\nFloatStorage\n)\x81.", "torch.FloatStorage", "instantiates"},
		{"NEWOBJ on an allowed function", "\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)\x81.", "torch._utils._rebuild_tensor_v2", "instantiates (NEWOBJ)"},
		{"REDUCE on torch.Tensor", "\x80\x02ctorch\nTensor\n)R.", "torch.Tensor", "calls"},
		{"NEWOBJ on torch.Tensor", "\x80\x02ctorch\nTensor\n)\x81.", "torch.Tensor", "instantiates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &loader{file: "x.pt", storages: map[string]*storageRef{}}
			_, err := l.unpickle([]byte(tc.pickle), nil)
			require.Error(t, err)
			var u *UnsafeClassError
			require.ErrorAs(t, err, &u, "%v", err)
			assert.Equal(t, tc.global, u.Module+"."+u.Name)
			assert.Equal(t, tc.use, u.Use)
			assert.Contains(t, err.Error(), "the pickle "+tc.use+" "+tc.global+", which the allow-list")
		})
	}
	for _, p := range []string{
		"\x80\x02ctorch\nfloat32\n)R.",             // REDUCE on a dtype
		"\x80\x02c__main__\nNet\n)\x81)\x81.",      // NEWOBJ with a module instance as class
		"\x80\x02c__builtin__\nobject\n)R.",        // REDUCE on object
		"\x80\x02ccollections\nOrderedDict\n)R)R.", // REDUCE on a dict
	} {
		l := &loader{file: "x.pt", storages: map[string]*storageRef{}}
		_, err := l.unpickle([]byte(p), nil)
		require.Error(t, err, "%q", p)
		assert.ErrorIs(t, err, ErrFormat, "%q", p)
		assert.NotContains(t, err.Error(), "&", "%q: no Go value dump", p)
	}
}
