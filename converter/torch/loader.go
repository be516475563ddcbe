package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/tensor"
)

// Limits on what a file may make the loader allocate.
const (
	// MaxPickleBytes bounds a data.pkl record.
	MaxPickleBytes = 256 << 20
	// MaxStorageBytes bounds the total declared storage bytes of a file.
	MaxStorageBytes = 16 << 30
	// maxCompressionRatio refuses a compressed record that claims to expand
	// more than this (torch writes storages uncompressed).
	maxCompressionRatio = 200
	// maxDepth bounds the nesting of dicts and modules.
	maxDepth = 100
)

// Format is a PyTorch container format.
type Format string

// The formats ReadFile recognises.
const (
	FormatZip         Format = "zip"         // torch.save, torch >= 1.6
	FormatLegacy      Format = "legacy"      // torch.save(_use_new_zipfile_serialization=False), torch < 1.6
	FormatTorchScript Format = "torchscript" // torch.jit.save
	FormatExport      Format = "pt2"         // torch.export.save
)

// NamedTensor is one entry of a state_dict.
type NamedTensor struct {
	Name   string
	Tensor *tensor.Tensor
	// Stored is the element type in the file ("bfloat16", "float16",
	// "float32", ...), which Tensor.DType may widen (bfloat16 is read as
	// float32).
	Stored string
}

// File is what a torch.save file holds: its tensors by state_dict name (in
// the file's order) and, for a pickled module, the module tree.
type File struct {
	Path    string
	Format  Format
	Tensors []NamedTensor
	Root    *Module // nil unless the file holds an nn.Module
	// Checkpoint says where the state_dict was found in a training
	// checkpoint and which wrapper prefixes were removed from its keys;
	// nil for a plain state_dict or module.
	Checkpoint *Checkpoint
}

// Tensor returns the tensor named name, or nil.
func (f *File) Tensor(name string) *tensor.Tensor {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t.Tensor
		}
	}
	return nil
}

type loader struct {
	file     string
	script   bool   // read a TorchScript archive's data.pkl instead of refusing it
	code     []byte // its code/__torch__.py, when script is set
	size     int64  // archive bytes
	depth    int    // nesting of collect
	storages map[string]*storageRef
	declared int64 // storage bytes declared so far
	// zs verifies every zip record's CRC-32 and size as it is read, and
	// the records never read once the archive has been read.
	zs *zipcheck.Archive
}

// ReadFile reads a torch.save file (zip or legacy) into its tensors and,
// when it holds one, its module tree. TorchScript archives give a
// *TorchScriptError; globals outside the allow-list an *UnsafeClassError.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Read(path, f, st.Size())
}

// Read is ReadFile on an open file (or an in-memory archive) of size bytes;
// name is used in errors.
func Read(name string, r io.ReaderAt, size int64) (*File, error) {
	out, err := read(name, r, size)
	if err != nil {
		var e *Error
		var ts *TorchScriptError
		if errors.As(err, &e) || errors.As(err, &ts) {
			return nil, err
		}
		return nil, &Error{File: name, Err: err}
	}
	return out, nil
}

func read(name string, r io.ReaderAt, size int64) (*File, error) {
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	l := &loader{file: name, size: size, storages: map[string]*storageRef{}}
	switch {
	case bytes.HasPrefix(head, []byte("PK")):
		return l.readZip(r, size)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return nil, fmt.Errorf("a tar-format torch file (PyTorch < 0.1.10) is not supported; re-save it with a current PyTorch: %w", ErrFormat)
	case len(head) > 2 && (head[0] == 0x80 || isPickle(head)):
		if size > MaxStorageBytes+MaxPickleBytes {
			return nil, fmt.Errorf("legacy file of %d bytes is too large: %w", size, ErrFormat)
		}
		data := make([]byte, size)
		if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return l.readLegacy(data)
	}
	return nil, fmt.Errorf("neither a zip archive nor a legacy pickle: %w", ErrFormat)
}

// unpickle runs gopickle on a pickle that scanPickle accepted, with the
// allow-list, converting any panic of the library into an error.
func (l *loader) unpickle(data []byte, persistent func(any) (any, error)) (v any, err error) {
	if _, err := scanPickle(data); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("malformed pickle (%v): %w", p, ErrFormat)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(aliasOrderedDict(data)))
	u.FindClass = l.findClass
	u.PersistentLoad = persistent
	u.GetExtension = func(code int) (any, error) {
		return nil, fmt.Errorf("pickle extension code %d refused: %w", code, ErrFormat)
	}
	v, err = u.Load()
	return v, pickleError(err)
}

// declare accounts for a storage's bytes before anything is allocated.
func (l *loader) declare(typ *storageType, numel int64, avail int64, key string) error {
	if numel < 0 || numel > maxElements {
		return fmt.Errorf("storage %s declares %d elements: %w", key, numel, ErrFormat)
	}
	b := numel * int64(typ.size)
	if b > avail {
		return fmt.Errorf("storage %s declares %d bytes (%d × %s) but the file holds %d for it: %w", key, b, numel, typ.name, avail, ErrFormat)
	}
	l.declared += b
	if l.declared > MaxStorageBytes {
		return fmt.Errorf("storages declare more than %d bytes: %w", int64(MaxStorageBytes), ErrFormat)
	}
	return nil
}

func (l *loader) readZip(r io.ReaderAt, size int64) (*File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %v: %w", err, ErrFormat)
	}
	l.zs = zipcheck.NewArchive(zr.File)
	recs := map[string]*zip.File{}
	var pkl, prefix string
	for _, f := range zr.File {
		recs[f.Name] = f
		dir, base := path.Split(f.Name)
		switch {
		case base == "constants.pkl" || strings.Contains(f.Name, "/code/__torch__"):
			if !l.script {
				return nil, &TorchScriptError{File: l.file}
			}
		case base == "data.pkl" && strings.Count(f.Name, "/") == 1:
			pkl, prefix = f.Name, dir
		case base == "serialized_exported_program.json" || f.Name == "archive_format" || strings.HasSuffix(f.Name, "/archive_format"):
			return nil, fmt.Errorf("a torch.export archive: read it with LoadExport (.pt2): %w", ErrFormat)
		}
	}
	if pkl == "" {
		return nil, fmt.Errorf("zip archive without <name>/data.pkl: %w", ErrFormat)
	}
	if rec := recs[prefix+"byteorder"]; rec != nil {
		b, err := l.readRecord(rec, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rec.Name, err)
		}
		if strings.TrimSpace(string(b)) == "big" {
			return nil, fmt.Errorf("big-endian storages are not supported: %w", ErrFormat)
		}
	}
	data, err := l.readRecord(recs[pkl], MaxPickleBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl, err)
	}
	persistent := func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple: %w", id, ErrFormat)
		}
		if s, _ := t.Get(0).(string); s != "storage" {
			return nil, fmt.Errorf("persistent id kind %v, want \"storage\": %w", t.Get(0), ErrFormat)
		}
		typ, ok1 := t.Get(1).(*storageType)
		key, ok2 := t.Get(2).(string)
		numel, ok3 := t.Get(4).(int)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("persistent id %v: want (storage, <class>, key, location, numel): %w", *t, ErrFormat)
		}
		if st, ok := l.storages[key]; ok {
			if st.typ != typ || st.numel != int64(numel) {
				return nil, fmt.Errorf("storage %s is declared twice differently: %w", key, ErrFormat)
			}
			return st, nil
		}
		rec := recs[prefix+"data/"+key]
		if rec == nil {
			return nil, fmt.Errorf("storage %s: no record %sdata/%s: %w", key, prefix, key, ErrFormat)
		}
		if err := l.checkRecord(rec); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		if err := l.declare(typ, int64(numel), int64(rec.UncompressedSize64), key); err != nil {
			return nil, err
		}
		nb := int64(numel) * int64(typ.size)
		st := &storageRef{key: key, typ: typ, numel: int64(numel)}
		st.load = func() ([]byte, error) { return l.readExact(rec, nb) }
		l.storages[key] = st
		return st, nil
	}
	obj, err := l.unpickle(data, persistent)
	if err != nil {
		return nil, err
	}
	if l.script {
		// The root class __torch__.a.b.C is defined in code/__torch__/a/b.py.
		m, ok := obj.(*Module)
		if !ok {
			return nil, fmt.Errorf("TorchScript data.pkl holds %T, want a module: %w", obj, ErrFormat)
		}
		mod := m.Class[:max(strings.LastIndexByte(m.Class, '.'), 0)]
		name := prefix + "code/" + strings.ReplaceAll(mod, ".", "/") + ".py"
		if l.code, err = l.readRecord(recs[name], maxScriptCode); err != nil {
			return nil, fmt.Errorf("TorchScript code %s: %w", name, err)
		}
		return l.verified(l.finishScript(obj))
	}
	return l.verified(l.finish(obj, FormatZip))
}

// verified returns f once every record of the archive has been verified:
// the ones read were verified as they were read, the rest (format version,
// TorchScript debug info, storages nothing refers to...) are verified now,
// so a corrupted archive is refused whichever record is corrupted.
func (l *loader) verified(f *File, err error) (*File, error) {
	if err != nil {
		return nil, err
	}
	if err := l.verifyRest(); err != nil {
		return nil, err
	}
	return f, nil
}

// verifyRest verifies the records of the archive not read (and verified)
// so far.
func (l *loader) verifyRest() error {
	if err := l.zs.VerifyRest(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrFormat)
	}
	return nil
}

// checkRecord refuses a zip record whose declared sizes do not fit in the
// archive or whose declared expansion is absurd (a zip bomb).
func (l *loader) checkRecord(f *zip.File) error {
	if f.CompressedSize64 > uint64(l.size) || f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64 {
		return fmt.Errorf("zip record %s declares %d bytes (%d stored) in an archive of %d: %w", f.Name, f.UncompressedSize64, f.CompressedSize64, l.size, ErrFormat)
	}
	if f.Method != zip.Store && f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > maxCompressionRatio*(f.CompressedSize64+1) {
		return fmt.Errorf("zip record %s expands %d → %d bytes (a zip bomb?): %w", f.Name, f.CompressedSize64, f.UncompressedSize64, ErrFormat)
	}
	return nil
}

// readRecord reads a whole zip record of at most limit bytes, its CRC-32
// and size verified.
func (l *loader) readRecord(f *zip.File, limit int64) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("missing record: %w", ErrFormat)
	}
	if err := l.checkRecord(f); err != nil {
		return nil, err
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("record %s is %d bytes, more than %d: %w", f.Name, f.UncompressedSize64, limit, ErrFormat)
	}
	return l.readExact(f, int64(f.UncompressedSize64))
}

// readExact reads the first n bytes of a zip record (n is already checked
// against the record's declared size). The whole record is verified (CRC-32
// and size) before its first n bytes are returned: a storage of fewer
// elements than its record holds is still refused when any byte of the
// record is corrupted. The bytes past n are streamed, not kept.
func (l *loader) readExact(f *zip.File, n int64) ([]byte, error) {
	if l.zs == nil { // a loader made for one record (tests)
		l.zs = zipcheck.NewArchive([]*zip.File{f})
	}
	b, err := l.zs.ReadPrefix(f, uint64(n))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrFormat)
	}
	return b, nil
}

// legacyMagic is torch's legacy magic number, 0x1950a86a20f9469cfc6c.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

func (l *loader) readLegacy(data []byte) (*File, error) {
	p := 0
	next := func(persistent func(any) (any, error)) (any, error) {
		n, err := scanPickle(data[p:])
		if err != nil {
			return nil, err
		}
		v, err := l.unpickle(data[p:p+n], persistent)
		p += n
		return v, err
	}
	magic, err := next(nil)
	if err != nil {
		return nil, fmt.Errorf("legacy header: %w", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, fmt.Errorf("not a torch legacy file (bad magic number): %w", ErrFormat)
	}
	proto, err := next(nil)
	if err != nil {
		return nil, err
	}
	if v, _ := proto.(int); v != 1001 {
		return nil, fmt.Errorf("legacy protocol version %v, want 1001: %w", proto, ErrFormat)
	}
	sys, err := next(nil)
	if err != nil {
		return nil, err
	}
	if d, ok := sys.(*types.Dict); ok {
		if v, ok := d.Get("little_endian"); ok && v == false {
			return nil, fmt.Errorf("big-endian legacy file: %w", ErrFormat)
		}
	}
	persistent := func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 2 {
			return nil, fmt.Errorf("persistent id %v: %w", id, ErrFormat)
		}
		switch kind, _ := t.Get(0).(string); kind {
		case "module":
			// (module, class, source file, source): the class was already
			// resolved through the allow-list; its source is never used.
			return t.Get(1), nil
		case "storage":
		default:
			return nil, fmt.Errorf("persistent id kind %q: %w", kind, ErrFormat)
		}
		if t.Len() < 6 {
			return nil, fmt.Errorf("legacy storage id %v: %w", *t, ErrFormat)
		}
		typ, ok1 := t.Get(1).(*storageType)
		key, ok2 := t.Get(2).(string)
		numel, ok3 := t.Get(4).(int)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("legacy storage id %v: %w", *t, ErrFormat)
		}
		root, ok := l.storages[key]
		if !ok {
			if err := l.declare(typ, int64(numel), int64(len(data)), key); err != nil {
				return nil, err
			}
			root = &storageRef{key: key, typ: typ, numel: int64(numel)}
			l.storages[key] = root
		} else if root.typ != typ {
			return nil, fmt.Errorf("storage %s declared with two types: %w", key, ErrFormat)
		}
		view, ok := t.Get(5).(*types.Tuple)
		if !ok || view.Len() == 0 {
			return root, nil
		}
		if view.Len() != 3 {
			return nil, fmt.Errorf("storage view %v: %w", *view, ErrFormat)
		}
		vkey, ok1 := view.Get(0).(string)
		off, ok2 := view.Get(1).(int)
		vsize, ok3 := view.Get(2).(int)
		if !ok1 || !ok2 || !ok3 || off < 0 || vsize < 0 || int64(off)+int64(vsize) > root.numel {
			return nil, fmt.Errorf("storage view %v of %s (%d elements): %w", *view, key, root.numel, ErrFormat)
		}
		if v, ok := l.storages["view:"+vkey]; ok {
			return v, nil
		}
		v := &storageRef{key: vkey, typ: typ, numel: int64(vsize), root: root, viewOffset: int64(off)}
		l.storages["view:"+vkey] = v
		return v, nil
	}
	obj, err := next(persistent)
	if err != nil {
		return nil, err
	}
	keysObj, err := next(nil)
	if err != nil {
		return nil, fmt.Errorf("storage key list: %w", err)
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %T: %w", keysObj, ErrFormat)
	}
	for _, k := range *keys {
		key, _ := k.(string)
		st := l.storages[key]
		if st == nil || st.root != nil {
			return nil, fmt.Errorf("storage key %v is not a declared storage: %w", k, ErrFormat)
		}
		if len(data)-p < 8 {
			return nil, fmt.Errorf("storage %s: file truncated: %w", key, ErrFormat)
		}
		n := int64(binary.LittleEndian.Uint64(data[p:]))
		p += 8
		if n != st.numel {
			return nil, fmt.Errorf("storage %s holds %d elements, its pickle declared %d: %w", key, n, st.numel, ErrFormat)
		}
		nb := n * int64(st.typ.size)
		if nb > int64(len(data)-p) {
			return nil, fmt.Errorf("storage %s: %d bytes declared, %d left in the file: %w", key, nb, len(data)-p, ErrFormat)
		}
		st.data = data[p : p+int(nb) : p+int(nb)]
		p += int(nb)
	}
	return l.finish(obj, FormatLegacy)
}

// finish turns the unpickled object into tensors (and a module tree).
func (l *loader) finish(obj any, format Format) (*File, error) {
	f := &File{Path: l.file, Format: format}
	obj, f.Checkpoint = selectStateDict(obj)
	switch v := obj.(type) {
	case *Module:
		f.Root = v
		if err := l.collectModule(f, v, ""); err != nil {
			return nil, err
		}
	default:
		if err := l.collect(f, v, ""); err != nil {
			return nil, err
		}
		if p := stripWrapperPrefixes(f); len(p) > 0 {
			if f.Checkpoint == nil {
				f.Checkpoint = &Checkpoint{}
			}
			f.Checkpoint.Stripped = p
		}
	}
	return f, nil
}

func (l *loader) add(f *File, name string, t *tensorRef) error {
	m, err := t.materialize()
	if err != nil {
		return fmt.Errorf("tensor %s: %w", name, err)
	}
	f.Tensors = append(f.Tensors, NamedTensor{Name: name, Tensor: m, Stored: t.st.typ.name})
	return nil
}

// collect gathers the tensors of a state_dict-like object: dicts (nested
// dicts give dotted names), modules and tensors. Other values are skipped.
func (l *loader) collect(f *File, v any, prefix string) error {
	if l.depth++; l.depth > maxDepth {
		return fmt.Errorf("objects nested deeper than %d (a cycle?) at %q: %w", maxDepth, prefix, ErrFormat)
	}
	defer func() { l.depth-- }()
	join := func(k any) string {
		s := fmt.Sprint(k)
		if prefix == "" {
			return s
		}
		return prefix + "." + s
	}
	switch v := v.(type) {
	case *tensorRef:
		return l.add(f, prefix, v)
	case *Module:
		return l.collectModule(f, v, prefix)
	case *types.OrderedDict:
		for e := v.List.Front(); e != nil; e = e.Next() {
			ent := e.Value.(*types.OrderedDictEntry)
			if err := l.collect(f, ent.Value, join(ent.Key)); err != nil {
				return err
			}
		}
	case *types.Dict:
		for _, e := range *v {
			if err := l.collect(f, e.Value, join(e.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectModule gathers a module's state_dict in PyTorch's order: its own
// parameters, its buffers, then its children's.
func (l *loader) collectModule(f *File, m *Module, prefix string) error {
	if l.depth++; l.depth > maxDepth {
		return fmt.Errorf("modules nested deeper than %d (a cycle?) at %q: %w", maxDepth, prefix, ErrFormat)
	}
	defer func() { l.depth-- }()
	p := prefix
	if p != "" {
		p += "."
	}
	for _, field := range []string{"_parameters", "_buffers"} {
		for _, e := range orderedEntries(m.Attrs[field]) {
			if t, ok := e.Value.(*tensorRef); ok {
				if err := l.add(f, p+fmt.Sprint(e.Key), t); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		if c, ok := e.Value.(*Module); ok {
			if err := l.collectModule(f, c, p+fmt.Sprint(e.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// orderedEntries lists the entries of an OrderedDict or dict in order.
func orderedEntries(v any) []types.DictEntry {
	var out []types.DictEntry
	switch d := v.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			ent := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: ent.Key, Value: ent.Value})
		}
	case *types.Dict:
		out = append(out, *d...)
	}
	return out
}
