package history

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeval/edgeval/precision"
)

// Filter selects records; a zero field matches everything.
type Filter struct {
	// Model matches the logical name (Key.Name), the stored model path
	// exactly, its base name, the absolute form of a relative path, or a
	// glob (*, ?, [) on any of them.
	Model     string
	Device    string
	Precision precision.Precision
	// Since keeps records recorded at or after it.
	Since time.Time
}

// Match reports whether k passes the filter.
func (f Filter) Match(k Key) bool {
	if f.Device != "" && f.Device != k.Device {
		return false
	}
	if f.Precision != "" && f.Precision != k.Precision {
		return false
	}
	if !f.Since.IsZero() && k.Time.Before(f.Since) {
		return false
	}
	return f.Model == "" || matchModel(f.Model, k)
}

func matchModel(pattern string, k Key) bool {
	k.normalize()
	model, base := k.Model, filepath.Base(k.Model)
	if pattern == k.Name || pattern == model || pattern == base {
		return true
	}
	if strings.ContainsAny(pattern, "*?[") {
		for _, s := range []string{k.Name, model, base} {
			if ok, err := filepath.Match(pattern, s); err == nil && ok {
				return true
			}
		}
		return false
	}
	abs, err := filepath.Abs(pattern)
	return err == nil && abs == model
}

// Apply returns the records that pass the filter, in order.
func (f Filter) Apply(recs []Record) []Record {
	var out []Record
	for _, r := range recs {
		if f.Match(r.Key) {
			out = append(out, r)
		}
	}
	return out
}
