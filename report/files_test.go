package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.md"), filepath.Join(dir, "b.xml")
	text := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	require.NoError(t, WriteFiles(File{a, text("A")}, File{"", text("skipped")}, File{b, text("B")}))
	got, err := os.ReadFile(a)
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))
	got, err = os.ReadFile(b)
	require.NoError(t, err)
	assert.Equal(t, "B", string(got))

	// A renderer's failure names the file and leaves the old file whole.
	err = WriteFiles(File{a, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("boom") }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), a)
	var re *RenderError
	assert.ErrorAs(t, err, &re)
	got, _ = os.ReadFile(a)
	assert.Equal(t, "A", string(got))

	// An unwritable path is an error, and the files after it are not written.
	c := filepath.Join(dir, "c.html")
	err = WriteFiles(File{filepath.Join(dir, "no", "such", "dir", "x.md"), text("x")}, File{c, text("C")})
	require.Error(t, err)
	assert.NotErrorAs(t, err, &re)
	assert.NoFileExists(t, c)
}
