package tflitec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindLibrary(t *testing.T) {
	file := filepath.Join(t.TempDir(), LibraryName)
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, tc := range []struct {
		name, env   string
		wantPath    string
		wantBundled bool
		wantErr     string
	}{
		{"env names a file", file, file, true, ""},
		{"env names nothing", filepath.Join(t.TempDir(), "nope.so"), "", false, "nope.so"},
		{"env off", "off", "", false, EnvLibrary + "=off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvLibrary, tc.env)
			p, bundled, err := FindLibrary()
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrNoLibrary), "%v should wrap ErrNoLibrary", err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantPath, p)
			assert.Equal(t, tc.wantBundled, bundled)
		})
	}
}

// TestFindLibraryUpwards finds third_party/tflite-c/lib above the working
// directory, and otherwise leaves the bare name to the dynamic loader.
func TestFindLibraryUpwards(t *testing.T) {
	t.Setenv(EnvLibrary, "")
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	t.Chdir(deep)
	p, bundled, err := FindLibrary()
	require.NoError(t, err)
	if !bundled { // no checkout above the temporary directory
		assert.Equal(t, LibraryName, p)
	}
	lib := filepath.Join(root, "third_party", "tflite-c", "lib")
	require.NoError(t, os.MkdirAll(lib, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lib, LibraryName), nil, 0o644))
	p, bundled, err = FindLibrary()
	require.NoError(t, err)
	assert.True(t, bundled)
	assert.Equal(t, filepath.Join(lib, LibraryName), p)
}
