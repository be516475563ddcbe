package runtime

import (
	"fmt"
	"sort"
	"sync"
)

// Factory makes a Runtime. It may fail when the backend's prerequisites are
// missing (Node not installed, library not built in).
type Factory func() (Runtime, error)

var (
	registryMu sync.Mutex
	registry   = map[string]Factory{}
)

// Register makes a backend available under name. It panics on a duplicate
// name, which is a programming error.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("runtime: duplicate registration of " + name)
	}
	registry[name] = f
}

// Get returns the runtime registered under name.
func Get(name string) (Runtime, error) {
	registryMu.Lock()
	f, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown runtime %q (have %v)", name, Names())
	}
	return f()
}

// Names lists the registered runtimes, sorted.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
