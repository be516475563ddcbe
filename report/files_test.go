package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// TestPaths: each format's path gets that format's renderer, of a
// validation, a suite or a regression report; "" skips a format; PerDevice
// names each device's files.
func TestPaths(t *testing.T) {
	pass, _ := sampleResults()
	recs, rep := trendHistory(t)
	suite := suiteResults()
	render := func(fn func(w io.Writer) error) string {
		var b strings.Builder
		require.NoError(t, fn(&b))
		return b.String()
	}
	tests := []struct {
		name  string
		files func(Paths) []File
		want  [3]string // Markdown, HTML, JUnit
	}{
		{"result", func(p Paths) []File { return p.Result(pass) }, [3]string{
			render(func(w io.Writer) error { return Markdown(w, pass) }),
			render(func(w io.Writer) error { return HTML(w, pass) }),
			render(func(w io.Writer) error { return JUnit(w, pass) })}},
		{"suite", func(p Paths) []File { return p.Suite("nightly", suite) }, [3]string{
			render(func(w io.Writer) error { return SuiteMarkdown(w, "nightly", suite) }),
			render(func(w io.Writer) error { return SuiteHTML(w, "nightly", suite) }),
			render(func(w io.Writer) error { return JUnit(w, suite...) })}},
		{"regressions", func(p Paths) []File { return p.Regressions(rep, recs) }, [3]string{
			render(func(w io.Writer) error { return RegressionsMarkdown(w, rep) }),
			render(func(w io.Writer) error { return RegressionsHTMLWithTrends(w, rep, recs) }),
			render(func(w io.Writer) error { return RegressionsJUnit(w, rep) })}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := Paths{Markdown: filepath.Join(dir, "r.md"), HTML: filepath.Join(dir, "r.html"), JUnit: filepath.Join(dir, "r.xml")}
			require.NoError(t, WriteFiles(tc.files(p)...))
			for i, path := range []string{p.Markdown, p.HTML, p.JUnit} {
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, tc.want[i], string(got), path)
			}
			only := Paths{HTML: filepath.Join(dir, "only.html")}
			require.NoError(t, WriteFiles(tc.files(only)...))
			assert.FileExists(t, only.HTML)
			assert.NoFileExists(t, filepath.Join(dir, "only.md"))
		})
	}
	assert.Equal(t, Paths{Markdown: "r-rpi4.md", JUnit: "out/r-rpi4.xml"}, Paths{Markdown: "r.md", JUnit: "out/r.xml"}.PerDevice("rpi4"))
}
