package torch

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// YAML writes a as an --arch file (ARCH.md) that ParseArch reads back to
// the same steps; a step read from a model source carries its source line
// as a comment.
func (a *Arch) YAML() ([]byte, error) {
	var b strings.Builder
	if a.Path != "" {
		fmt.Fprintf(&b, "# written by `validate arch` from %s\n", a.Path)
	}
	fmt.Fprintf(&b, "format: %s\n", ArchFormat)
	if a.Prefix != "" {
		fmt.Fprintf(&b, "prefix: %s\n", yamlValue(a.Prefix))
	}
	if len(a.Inputs) == 1 && a.Inputs[0].Name == "input" && a.Inputs[0].DType.String() == "float32" && !a.Inputs[0].NoBatch {
		fmt.Fprintf(&b, "input: %s\n", yamlInts(a.Inputs[0].Shape))
	} else {
		b.WriteString("inputs:\n")
		for _, in := range a.Inputs {
			fmt.Fprintf(&b, "  - {name: %s, shape: %s, dtype: %s", yamlValue(in.Name), yamlInts(in.Shape), in.DType)
			if in.NoBatch {
				b.WriteString(", batch: false")
			}
			b.WriteString("}\n")
		}
	}
	b.WriteString("layers:\n")
	for i, s := range a.Steps {
		parts := []string{"op: " + yamlValue(s.Op)}
		if s.Key != "" {
			parts = append(parts, "key: "+yamlValue(s.Key))
		}
		if s.Name != "" {
			parts = append(parts, "name: "+yamlValue(s.Name))
		}
		switch len(s.From) {
		case 0:
		case 1:
			parts = append(parts, "from: "+yamlValue(s.From[0]))
		default:
			f := make([]any, len(s.From))
			for j, x := range s.From {
				f[j] = x
			}
			parts = append(parts, "from: "+yamlValue(f))
		}
		for _, k := range sortedKeys(s.Args) {
			parts = append(parts, k+": "+yamlValue(s.Args[k]))
		}
		fmt.Fprintf(&b, "  - {%s}", strings.Join(parts, ", "))
		if i < len(a.Origins) && a.Origins[i] != "" {
			fmt.Fprintf(&b, "  # %s", a.Origins[i])
		}
		b.WriteString("\n")
	}
	if len(a.Outputs) > 0 {
		o := make([]any, len(a.Outputs))
		for i, x := range a.Outputs {
			o[i] = x
		}
		fmt.Fprintf(&b, "outputs: %s\n", yamlValue(o))
	}
	return []byte(b.String()), nil
}

func yamlInts(s []int) string {
	p := make([]string, len(s))
	for i, v := range s {
		p[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(p, ", ") + "]"
}

// yamlValue writes a plain argument value as YAML that decodes to the
// same Go value (an int stays an int, a float a float).
func yamlValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return ".inf"
		case math.IsInf(x, -1):
			return "-.inf"
		case math.IsNaN(x):
			return ".nan"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		} else if strings.ContainsAny(s, "eE") && !strings.Contains(s, ".") {
			i := strings.IndexAny(s, "eE")
			s = s[:i] + ".0" + s[i:]
		}
		return s
	case string:
		return strconv.Quote(x)
	case []any:
		p := make([]string, len(x))
		for i, e := range x {
			p[i] = yamlValue(e)
		}
		return "[" + strings.Join(p, ", ") + "]"
	}
	return strconv.Quote(fmt.Sprint(v))
}
