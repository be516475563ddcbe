package pysrc

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParseNotebook reads the code cells of a Jupyter notebook (.ipynb) as one
// source, in order; IPython magics (%, !) become blank lines. File.Where
// then names a line by its cell and line.
func ParseNotebook(name string, data []byte) (*File, error) {
	if len(data) > 8*maxSource {
		return nil, &SyntaxError{File: name, Line: 1, Msg: fmt.Sprintf("notebook of %d bytes is too large", len(data))}
	}
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, &SyntaxError{File: name, Line: 1, Msg: "not a Jupyter notebook: " + err.Error()}
	}
	var sb strings.Builder
	lines := map[int]string{}
	line := 1
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var text string
		var parts []string
		if err := json.Unmarshal(c.Source, &parts); err == nil {
			text = strings.Join(parts, "")
		} else if err := json.Unmarshal(c.Source, &text); err != nil {
			return nil, &SyntaxError{File: name, Line: 1, Msg: fmt.Sprintf("cell %d: source is neither text nor a list of lines", i+1)}
		}
		for j, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if t := strings.TrimSpace(l); strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
				l = ""
			}
			lines[line] = fmt.Sprintf("cell %d, line %d", i+1, j+1)
			sb.WriteString(l)
			sb.WriteByte('\n')
			line++
		}
	}
	f, err := Parse(name, sb.String())
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			if w, ok := lines[se.Line]; ok {
				se.Msg = w + ": " + se.Msg
			}
		}
		return nil, err
	}
	f.Lines = lines
	for _, fn := range f.Funcs {
		fn.File = f
	}
	return f, nil
}
