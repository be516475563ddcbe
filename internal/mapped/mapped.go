package mapped

import (
	"errors"
	"io"
	"sort"
	"sync"
	"unsafe"
)

// ErrUnsupported is Spill's error where this system has no mapping of
// files that this package uses.
var ErrUnsupported = errors.New("mapped: file mappings are not supported on this system")

// region is one mapping made by Spill.
type region struct {
	start, size uintptr
	mem         []byte // the whole mapping, for munmap
}

var (
	mu      sync.Mutex
	regions []region // sorted by start
)

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// find returns the index of the region holding address a, or -1.
func find(a uintptr) int {
	i := sort.Search(len(regions), func(i int) bool { return regions[i].start+regions[i].size > a })
	if i < len(regions) && regions[i].start <= a {
		return i
	}
	return -1
}

// Is reports whether b (non-empty) lies in a mapping made by Spill.
func Is(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	return find(addr(b)) >= 0
}

// Spill writes b to an unlinked temporary file and returns a read-only
// mapping of it, which holds the same bytes; b is not changed (the caller
// drops it). Release unmaps it. An empty b is returned as it is.
func Spill(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, nil
	}
	m, err := spill(b)
	if err != nil {
		return nil, err
	}
	add(m)
	return m, nil
}

// Receive reads exactly n bytes from r into an unlinked temporary file and
// returns a read-only mapping of them, as Spill does, without the bytes
// ever being in this process's heap (a frame read from a child process's
// pipe). It returns ErrUnsupported, having read nothing from r, where
// Spill would; a failure to read r is returned wrapped (io.EOF or
// io.ErrUnexpectedEOF when r ends early), a failure to write the file
// (a full disk) wraps the file's error. On any error nothing stays mapped.
func Receive(r io.Reader, n int) ([]byte, error) {
	if n <= 0 {
		return []byte{}, nil
	}
	m, err := receive(r, n)
	if err != nil {
		return nil, err
	}
	add(m)
	return m, nil
}

// add registers the mapping m.
func add(m []byte) {
	mu.Lock()
	defer mu.Unlock()
	r := region{start: addr(m), size: uintptr(len(m)), mem: m}
	i := sort.Search(len(regions), func(i int) bool { return regions[i].start > r.start })
	regions = append(regions, region{})
	copy(regions[i+1:], regions[i:])
	regions[i] = r
}

// Evict drops the pages of b's bytes from this process's resident memory
// when b lies in a mapping made by Spill (the pages that b overlaps, whole:
// the mapping is read-only, so any of its pages reads back the same); for
// any other slice it does nothing. The bytes stay readable.
func Evict(b []byte) {
	if len(b) == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	i := find(addr(b))
	if i < 0 {
		return
	}
	r := regions[i]
	lo := addr(b) - r.start
	hi := min(lo+uintptr(len(b)), r.size)
	page := uintptr(pageSize())
	lo -= lo % page
	if hi%page != 0 {
		hi = min(hi+page-hi%page, r.size)
	}
	evict(r.mem[lo:hi])
}

// Release unmaps the mapping made by Spill that b starts in; b and every
// slice of that mapping must not be used afterwards. It does nothing for
// a slice of no such mapping.
func Release(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	i := find(addr(b))
	if i < 0 {
		return nil
	}
	r := regions[i]
	regions = append(regions[:i], regions[i+1:]...)
	return unmap(r.mem)
}
