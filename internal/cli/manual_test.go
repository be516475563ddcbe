package cli

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestManualListsEveryCommand: the command's doc comment (main.go) is its
// manual: it names every registered command.
func TestManualListsEveryCommand(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../cmd/validate/main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	require.NotNil(t, f.Doc, "main.go has a package doc comment")
	manual := f.Doc.Text()
	for _, c := range commands() {
		if c.name == "validate" {
			assert.Contains(t, manual, "validate [flags] MODEL", "the default command")
			continue
		}
		assert.Contains(t, manual, "validate "+c.name, "main.go's manual names the %q command", c.name)
	}
	assert.Contains(t, manual, "validate help")
}
