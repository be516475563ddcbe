package corpus

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// KnownFailures is the list of failures that are known and accepted for
// now, keyed by "case-ID check" (for example "keras/act_gelu ref/tf-keras-h5"),
// with the reason. The corpus test fails on a failure that is not listed and
// on a listed failure that now passes, so the list stays true.
type KnownFailures map[string]string

// Key is the KnownFailures key of a case's check.
func Key(caseID, check string) string { return caseID + " " + check }

// ReadKnownFailures reads a known-failures file: one failure a line, as
//
//	CASE-ID CHECK REASON...
//
// Blank lines and lines starting with # are ignored. A line without a reason,
// or a key listed twice, is an error naming the line.
func ReadKnownFailures(path string) (KnownFailures, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return KnownFailures{}, nil
		}
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	k := KnownFailures{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("corpus: %s:%d: want CASE-ID CHECK REASON, got %q", path, n, line)
		}
		key := Key(fields[0], fields[1])
		if _, dup := k[key]; dup {
			return nil, fmt.Errorf("corpus: %s:%d: %s listed twice", path, n, key)
		}
		k[key] = strings.Join(fields[2:], " ")
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", path, err)
	}
	return k, nil
}
