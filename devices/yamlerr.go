package devices

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	unknownFieldRE = regexp.MustCompile(`^(line \d+): field (\S+) not found in type (.+)$`)
	badValueRE     = regexp.MustCompile("^(line \\d+): cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// yamlMessage rewrites the YAML decoder's messages in the terms of the
// file: "line 3: field usr not found in type devices.Profile" becomes
// `line 3: unknown key "usr" in a device profile (known keys: ...)`, and
// a value of the wrong type names what was wanted, never a Go type.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		if s := unknownFieldRE.FindStringSubmatch(m); s != nil {
			where, keys := "at the top level", "devices"
			if s[3] == "devices.Profile" {
				where, keys = "in a device profile", strings.Join(profileKeys(), ", ")
			}
			msgs[i] = fmt.Sprintf("%s: unknown key %q %s (known keys: %s)", s[1], s[2], where, keys)
		} else if s := badValueRE.FindStringSubmatch(m); s != nil {
			want := map[string]string{"int": "an integer", "bool": "true or false", "time.Duration": "a duration such as 30s or 2m",
				"string": "a string", "*int": "an integer", "*bool": "true or false"}[s[4]]
			if s[4] == "devices.Profile" || strings.HasPrefix(s[4], "map[") {
				want = "a mapping of keys"
			}
			if want == "" {
				want = "another kind of value"
			}
			msgs[i] = fmt.Sprintf("%s: want %s, got %q", s[1], want, s[3])
		}
	}
	return strings.Join(msgs, "; ")
}

// profileKeys are the keys a device profile may have, sorted.
func profileKeys() []string {
	t := reflect.TypeOf(Profile{})
	var keys []string
	for i := range t.NumField() {
		if k := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
