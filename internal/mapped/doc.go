// Package mapped moves large byte slices that a process keeps but reads
// only now and then (a model's weights, a .tflite) out of its heap into
// read-only mappings of unlinked temporary files, whose pages the holder
// can drop from its resident memory (Evict) while it does not read them:
// the kernel reads them back from the file (usually still in the page
// cache) on the next access. Go's heap cannot give back memory that is
// still referenced; a mapping can, and its contents never change.
//
// A mapping is read-only: writing to it faults (a crash, never a silent
// change). On systems without mmap (or when the temporary file cannot be
// written) Spill returns an error and callers keep their heap copy.
package mapped
