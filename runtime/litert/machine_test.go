package litert

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
)

// versionNode writes a stand-in node binary that prints version.
func versionNode(t *testing.T, version string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\necho "+version+"\n"), 0o755))
	return p
}

// TestMachineChecks: node_modules must be a folder named node_modules that
// holds @litertjs/core; Node must be 18 or newer.
func TestMachineChecks(t *testing.T) {
	nm := filepath.Join(testutil.RepoRoot(t), "node_modules")
	require.NoError(t, CheckNodeModules(nm), "run npm ci at the repository root")
	err := CheckNodeModules(filepath.Join(nm, "@litertjs"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be named node_modules")
	empty := filepath.Join(t.TempDir(), "node_modules")
	require.NoError(t, os.Mkdir(empty, 0o755))
	err = CheckNodeModules(empty)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds no @litertjs/core")

	ctx := context.Background()
	v, _, err := NodeVersion(ctx, versionNode(t, "v18.20.4"))
	require.NoError(t, err)
	assert.Equal(t, "v18.20.4", v)
	_, _, err = NodeVersion(ctx, versionNode(t, "v16.20.2"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Node.js v16.20.2, too old: the LiteRT runtime needs Node.js 18 or newer")
	_, _, err = NodeVersion(ctx, versionNode(t, "hello"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a version")
	_, _, err = NodeVersion(ctx, filepath.Join(t.TempDir(), "none"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "install Node.js 18 or newer")

	var c runtime.Configurer = New()
	err = c.Check(ctx, runtime.Settings{NodeModules: filepath.Join(nm, "@litertjs"), Node: versionNode(t, "v20.1.0")})
	assert.ErrorContains(t, err, "must be named node_modules")
	assert.NoError(t, c.Check(ctx, runtime.Settings{NodeModules: nm, Node: versionNode(t, "v20.1.0")}))
	err = c.Check(ctx, runtime.Settings{Node: versionNode(t, "v16.0.0")})
	assert.ErrorContains(t, err, "too old", "the Node given is checked without a node_modules")
}

// TestProbe: Configure's settings are what Probe reports, and a problem
// with them is Probe's error, with the version it could read.
func TestProbe(t *testing.T) {
	nm := filepath.Join(testutil.RepoRoot(t), "node_modules")
	t.Setenv(EnvNodeModules, "")
	t.Setenv(EnvNode, "")
	r := New()
	var p runtime.Prober = r
	r.Configure(runtime.Settings{NodeModules: nm, Node: versionNode(t, "v20.1.0")})
	st, err := p.Probe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "2.5.3", st.Version)
	assert.Equal(t, "node v20.1.0, "+nm, st.Detail)

	r.Configure(runtime.Settings{Node: versionNode(t, "v16.0.0")})
	st, err = p.Probe(context.Background())
	assert.ErrorContains(t, err, "too old")
	assert.Equal(t, "2.5.3", st.Version, "the package's version is read before Node's")

	r.Configure(runtime.Settings{NodeModules: filepath.Join(nm, "@litertjs")})
	_, err = p.Probe(context.Background())
	assert.ErrorContains(t, err, "must be named node_modules")
}
