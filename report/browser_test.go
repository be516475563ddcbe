package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
)

// chromium returns the headless browser to render pages with, or skips:
// Debian's `chromium` (scripts/setup.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: the rendering test needs a real browser (scripts/setup.sh installs Debian's chromium)")
	return ""
}

// consoleLine is a message the page logged on the browser's console, as
// chromium's --enable-logging=stderr writes it: page script messages,
// content security policy refusals (anything the page tried to load),
// and errors the page raised.
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d*\)?\] (.*)`)

// screenshotDir is where the screenshots go: $EDGEVAL_SCREENSHOTS when
// set (kept for a person to look at), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("EDGEVAL_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// renderInBrowser opens page in a headless chromium that cannot resolve any host
// (so a page that needs the network shows it), takes a screenshot of
// width×height pixels, and returns it with the console messages.
func renderInBrowser(t *testing.T, browser, name, page string, height int) (image.Image, []string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, name+".html")
	require.NoError(t, os.WriteFile(file, []byte(page), 0o644))
	shot := filepath.Join(screenshotDir(t), name+".png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--window-size=1280,"+strconv.Itoa(height), "--screenshot="+shot, "file://"+file)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	var console []string
	for _, m := range consoleLine.FindAllStringSubmatch(stderr.String(), -1) {
		console = append(console, m[1])
	}
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "the screenshot %s", shot)
	t.Logf("screenshot %s", shot)
	return img, console
}

// pixels counts the screenshot's pixels that are not near-white, and
// those near each colour of cols (the charts' blue and red).
func pixels(img image.Image, cols ...[3]uint8) (ink int, near []int) {
	near = make([]int, len(cols))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := int(r>>8), int(g>>8), int(bl>>8)
			if r8 < 240 || g8 < 240 || b8 < 240 {
				ink++
			}
			for i, c := range cols {
				if abs(r8-int(c[0])) < 24 && abs(g8-int(c[1])) < 24 && abs(b8-int(c[2])) < 24 {
					near[i]++
				}
			}
		}
	}
	return ink, near
}

func abs(v int) int { return max(v, -v) }

var (
	blue = [3]uint8{colPass.R, colPass.G, colPass.B}
	red  = [3]uint8{colFail.R, colFail.G, colFail.B}
)

// TestHTMLInChromium renders the validation pages (real passing and
// failing runs, the latter with a located divergence, a made-up failure
// with every field, a run that could not finish)
// and the regressions page with trends in a real headless chromium, and
// checks each screenshot is not blank, shows its charts (pixels of the
// charts' colours), and the page logged nothing on the console (no script
// error, nothing refused by the page's content security policy: the page
// loads nothing from anywhere).
func TestHTMLInChromium(t *testing.T) {
	browser := chromium(t)
	recs, rep := trendHistory(t)
	pages := []struct {
		name            string
		write           func(*testing.T, *strings.Builder) error
		height          int
		minBlue, minRed int
	}{
		{"report_pass", func(t *testing.T, b *strings.Builder) error { return HTML(b, storedResult(t, realPass)) }, 2400, 2000, 0},
		{"report_fail", func(t *testing.T, b *strings.Builder) error { return HTML(b, storedResult(t, realFail)) }, 2800, 2000, 2000},
		{"report_fail_detailed", func(_ *testing.T, b *strings.Builder) error { return HTML(b, detailedResult()) }, 3000, 2000, 2000},
		{"report_accuracy", func(t *testing.T, b *strings.Builder) error { return HTML(b, storedResult(t, realAccuracy)) }, 3200, 2000, 200},
		{"report_error", func(_ *testing.T, b *strings.Builder) error { return HTML(b, errorResult()) }, 800, 0, 100},
		{"regressions", func(_ *testing.T, b *strings.Builder) error { return RegressionsHTMLWithTrends(b, rep, recs) }, 1400, 2000, 50},
		{"suite", func(t *testing.T, b *strings.Builder) error {
			return SuiteHTML(b, "nightly", []*compare.Result{storedResult(t, realPass), storedResult(t, realFail), errorResult()})
		}, 3000, 2000, 2000},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, p.write(t, &b))
			assert.NotRegexp(t, `(?i)(src|href)\s*=\s*"?(https?:)?//`, b.String(), "the page links nothing outside itself")
			img, console := renderInBrowser(t, browser, p.name, b.String(), p.height)
			assert.Empty(t, console, "console messages of %s", p.name)
			ink, near := pixels(img, blue, red)
			total := img.Bounds().Dx() * img.Bounds().Dy()
			assert.Greater(t, ink, total/100, "the screenshot is not blank: %d of %d pixels have ink", ink, total)
			assert.GreaterOrEqual(t, near[0], p.minBlue, "the charts' blue is drawn")
			assert.GreaterOrEqual(t, near[1], p.minRed, "the failure red is shown")
			t.Logf("%s: %d of %d pixels with ink, %d blue, %d red", p.name, ink, total, near[0], near[1])
		})
	}
}

// TestChromiumSeesConsoleErrors: the console check can fail: a page with
// a script error and a refused external image is caught.
func TestChromiumSeesConsoleErrors(t *testing.T) {
	browser := chromium(t)
	page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; img-src data:"></head>` +
		`<body><p>x</p><img src="https://example.com/a.png"><script>console.error("boom")</script></body></html>`
	_, console := renderInBrowser(t, browser, "console_probe", page, 300)
	require.Len(t, console, 2, "%q", console)
	assert.Contains(t, strings.Join(console, "\n"), "boom")
	assert.Contains(t, strings.Join(console, "\n"), "example.com/a.png")
}
