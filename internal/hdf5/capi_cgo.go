//go:build cgo

package hdf5

// #cgo linux,!arm64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/x86_64-linux-gnu/hdf5/serial/include
// #cgo linux,!arm64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial
// #cgo linux,arm64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/aarch64-linux-gnu/hdf5/serial/include
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial
// #cgo darwin CFLAGS: -I/usr/local/include
// #cgo darwin LDFLAGS: -L/usr/local/lib
// #cgo LDFLAGS: -lhdf5
// #include <hdf5.h>
// #include <stdlib.h>
// #include <string.h>
//
// static void eg_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
//
// static herr_t eg_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
//   char *buf = (char *)data;
//   if (buf[0] == 0 && e != NULL && e->desc != NULL) {
//     strncpy(buf, e->desc, 255);
//     buf[255] = 0;
//   }
//   return 0;
// }
//
// // eg_last_error copies the innermost message of the error stack into buf
// // (256 bytes) and clears the stack.
// static void eg_last_error(char *buf) {
//   buf[0] = 0;
//   H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, eg_walk_cb, buf);
//   H5Eclear2(H5E_DEFAULT);
// }
//
// typedef struct { char *buf; size_t len, cap, max; int count; } eg_names;
//
// static herr_t eg_attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
//   eg_names *n = (eg_names *)op;
//   size_t l = strlen(name) + 1;
//   if (n->len + l > n->max) return -1;
//   if (n->len + l > n->cap) {
//     size_t c = n->cap ? n->cap * 2 : 256;
//     while (c < n->len + l) c *= 2;
//     char *b = (char *)realloc(n->buf, c);
//     if (b == NULL) return -1;
//     n->buf = b;
//     n->cap = c;
//   }
//   memcpy(n->buf + n->len, name, l);
//   n->len += l;
//   n->count++;
//   return 0;
// }
//
// // eg_attr_names lists the attribute names of obj into out (NUL-separated).
// static int eg_attr_names(hid_t obj, eg_names *out) {
//   hsize_t idx = 0;
//   return (int)H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, eg_attr_cb, out);
// }
//
// typedef struct {
//   int cls;        // H5T_class_t
//   size_t size;    // element size in the file
//   int vlen_str;   // variable-length string
//   int sign;       // H5T_sign_t for integers
//   int half;       // an IEEE binary16 layout
//   int order;      // H5T_order_t
//   int rank;       // -1 for a null dataspace
//   hsize_t dims[16];
// } eg_info;
//
// static int eg_fill_info(hid_t type, hid_t space, eg_info *in) {
//   memset(in, 0, sizeof(*in));
//   in->cls = (int)H5Tget_class(type);
//   if (in->cls < 0) return -1;
//   in->size = H5Tget_size(type);
//   in->order = (int)H5Tget_order(type);
//   if (in->cls == H5T_STRING) in->vlen_str = H5Tis_variable_str(type) > 0;
//   if (in->cls == H5T_INTEGER) in->sign = (int)H5Tget_sign(type);
//   if (in->cls == H5T_FLOAT && in->size == 2) {
//     size_t spos, epos, esize, mpos, msize;
//     if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0)
//       in->half = spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10;
//   }
//   H5S_class_t sc = H5Sget_simple_extent_type(space);
//   if (sc == H5S_NULL) { in->rank = -1; return 0; }
//   if (sc == H5S_SCALAR) { in->rank = 0; return 0; }
//   if (sc != H5S_SIMPLE) return -1;
//   int r = H5Sget_simple_extent_ndims(space);
//   if (r < 0 || r > 16) { in->rank = r; return r < 0 ? -1 : 0; }
//   in->rank = r;
//   if (H5Sget_simple_extent_dims(space, in->dims, NULL) < 0) return -1;
//   return 0;
// }
//
// static int eg_attr_info(hid_t attr, eg_info *in) {
//   hid_t t = H5Aget_type(attr);
//   if (t < 0) return -1;
//   hid_t s = H5Aget_space(attr);
//   if (s < 0) { H5Tclose(t); return -1; }
//   int rc = eg_fill_info(t, s, in);
//   H5Sclose(s);
//   H5Tclose(t);
//   return rc;
// }
//
// static int eg_dataset_info(hid_t ds, eg_info *in, hsize_t *storage) {
//   hid_t t = H5Dget_type(ds);
//   if (t < 0) return -1;
//   hid_t s = H5Dget_space(ds);
//   if (s < 0) { H5Tclose(t); return -1; }
//   int rc = eg_fill_info(t, s, in);
//   H5Sclose(s);
//   H5Tclose(t);
//   *storage = H5Dget_storage_size(ds);
//   return rc;
// }
//
// static hid_t eg_string_memtype(hid_t attr, size_t size) {
//   hid_t ft = H5Aget_type(attr);
//   if (ft < 0) return -1;
//   H5T_cset_t cset = H5Tget_cset(ft);
//   H5Tclose(ft);
//   hid_t mt = H5Tcopy(H5T_C_S1);
//   if (mt < 0) return -1;
//   if (H5Tset_size(mt, size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
//       (cset >= 0 && H5Tset_cset(mt, cset) < 0)) {
//     H5Tclose(mt);
//     return -1;
//   }
//   return mt;
// }
//
// // eg_read_fixed_strings reads n fixed-length strings of size bytes each
// // into buf (n*size bytes, NUL-padded, not terminated).
// static int eg_read_fixed_strings(hid_t attr, size_t size, void *buf) {
//   hid_t mt = eg_string_memtype(attr, size);
//   if (mt < 0) return -1;
//   herr_t rc = H5Aread(attr, mt, buf);
//   H5Tclose(mt);
//   return rc < 0 ? -1 : 0;
// }
//
// // eg_read_vlen_strings reads n variable-length strings and returns them in
// // one malloc'ed NUL-separated buffer (*out, *outlen); it fails if they
// // would take more than max bytes.
// static int eg_read_vlen_strings(hid_t attr, size_t n, size_t max, char **out, size_t *outlen) {
//   *out = NULL;
//   *outlen = 0;
//   hid_t mt = eg_string_memtype(attr, H5T_VARIABLE);
//   if (mt < 0) return -1;
//   char **ptrs = (char **)calloc(n ? n : 1, sizeof(char *));
//   if (ptrs == NULL) { H5Tclose(mt); return -1; }
//   if (H5Aread(attr, mt, ptrs) < 0) { free(ptrs); H5Tclose(mt); return -1; }
//   size_t total = 0;
//   int rc = 0;
//   for (size_t i = 0; i < n; i++) total += (ptrs[i] ? strlen(ptrs[i]) : 0) + 1;
//   if (total > max) rc = -2;
//   if (rc == 0) {
//     char *b = (char *)malloc(total ? total : 1);
//     if (b == NULL) rc = -1;
//     else {
//       size_t off = 0;
//       for (size_t i = 0; i < n; i++) {
//         size_t l = ptrs[i] ? strlen(ptrs[i]) : 0;
//         if (l) memcpy(b + off, ptrs[i], l);
//         b[off + l] = 0;
//         off += l + 1;
//       }
//       *out = b;
//       *outlen = total;
//     }
//   }
//   hid_t s = H5Aget_space(attr);
//   if (s >= 0) {
//     H5Dvlen_reclaim(mt, s, H5P_DEFAULT, ptrs);
//     H5Sclose(s);
//   }
//   free(ptrs);
//   H5Tclose(mt);
//   return rc;
// }
//
// static int eg_read_attr_doubles(hid_t attr, void *buf) {
//   return H5Aread(attr, H5T_NATIVE_DOUBLE, buf) < 0 ? -1 : 0;
// }
//
// // Memory type codes for eg_read_dataset.
// enum { EG_F32 = 1, EG_F64, EG_F16, EG_I8, EG_U8, EG_I16, EG_I32, EG_I64 };
//
// static int eg_read_dataset(hid_t ds, int code, void *buf) {
//   hid_t mt;
//   int own = 0;
//   switch (code) {
//   case EG_F32: mt = H5T_NATIVE_FLOAT; break;
//   case EG_F64: mt = H5T_NATIVE_DOUBLE; break;
//   case EG_I8: mt = H5T_NATIVE_INT8; break;
//   case EG_U8: mt = H5T_NATIVE_UINT8; break;
//   case EG_I16: mt = H5T_NATIVE_INT16; break;
//   case EG_I32: mt = H5T_NATIVE_INT32; break;
//   case EG_I64: mt = H5T_NATIVE_INT64; break;
//   case EG_F16: {
//     hid_t ft = H5Dget_type(ds);
//     if (ft < 0) return -1;
//     mt = H5Tcopy(ft);
//     H5Tclose(ft);
//     if (mt < 0) return -1;
//     own = 1;
//     if (H5Tset_order(mt, H5T_ORDER_LE) < 0) { H5Tclose(mt); return -1; }
//     break;
//   }
//   default: return -1;
//   }
//   herr_t rc = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
//   if (own) H5Tclose(mt);
//   return rc < 0 ? -1 : 0;
// }
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/edgeval/edgeval/tensor"
)

// lock serializes a section of libhdf5 calls and pins it to one OS thread:
// Debian's libhdf5 is built thread-safe, which makes the error stack and its
// automatic printing per thread, so printing is turned off for the thread
// at the start of every section and lastError reads that thread's stack.
// It returns the unlock function.
func lock() func() {
	mu.Lock()
	runtime.LockOSThread()
	C.eg_silence()
	return func() {
		runtime.UnlockOSThread()
		mu.Unlock()
	}
}

// lastError returns libhdf5's innermost error message as an error and clears
// the error stack; fallback is used when the stack is empty. Call with mu
// held.
func lastError(fallback string) error {
	var buf [256]C.char
	C.eg_last_error(&buf[0])
	msg := C.GoString(&buf[0])
	if msg == "" {
		msg = fallback
	}
	return errors.New(msg)
}

// info describes a datatype and a dataspace.
type info struct {
	class   C.int
	size    int
	vlenStr bool
	signed  bool
	half    bool
	bigEnd  bool
	rank    int // -1 for a null dataspace
	dims    []uint64
}

func convInfo(ci *C.eg_info) info {
	in := info{
		class:   ci.cls,
		size:    int(ci.size),
		vlenStr: ci.vlen_str != 0,
		signed:  ci.sign == C.H5T_SGN_2,
		half:    ci.half != 0,
		bigEnd:  ci.order == C.H5T_ORDER_BE,
		rank:    int(ci.rank),
	}
	if in.rank > 0 && in.rank <= MaxRank {
		in.dims = make([]uint64, in.rank)
		for i := range in.dims {
			in.dims[i] = uint64(ci.dims[i])
		}
	}
	return in
}

// count returns the number of elements, or an error when it overflows limit.
func (in info) count(limit uint64) (uint64, error) {
	if in.rank < 0 {
		return 0, nil
	}
	if in.rank > MaxRank {
		return 0, errors.New("dataspace rank too large")
	}
	n := uint64(1)
	for _, d := range in.dims {
		if d != 0 && n > limit/d {
			return 0, errors.New("dataspace too large")
		}
		n *= d
	}
	return n, nil
}

func attrNames(obj C.hid_t) ([]string, error) {
	var out C.eg_names
	out.max = C.size_t(MaxAttrBytes)
	rc := C.eg_attr_names(obj, &out)
	defer C.free(unsafe.Pointer(out.buf))
	if rc < 0 {
		return nil, lastError("cannot list attributes")
	}
	if out.len == 0 {
		return nil, nil
	}
	return splitNUL(C.GoBytes(unsafe.Pointer(out.buf), C.int(out.len))), nil
}

func attrInfo(attr C.hid_t) (info, error) {
	var ci C.eg_info
	if C.eg_attr_info(attr, &ci) < 0 {
		return info{}, lastError("cannot read attribute type or space")
	}
	return convInfo(&ci), nil
}

func readFixedStrings(attr C.hid_t, size int, n int) ([]string, error) {
	buf := make([]byte, size*n)
	if n == 0 {
		return []string{}, nil
	}
	if C.eg_read_fixed_strings(attr, C.size_t(size), unsafe.Pointer(&buf[0])) < 0 {
		return nil, lastError("cannot read string attribute")
	}
	out := make([]string, n)
	for i := range out {
		out[i] = trimNUL(buf[i*size : (i+1)*size])
	}
	return out, nil
}

func readVlenStrings(attr C.hid_t, n int) ([]string, error) {
	var p *C.char
	var l C.size_t
	rc := C.eg_read_vlen_strings(attr, C.size_t(n), C.size_t(MaxAttrBytes), &p, &l)
	defer C.free(unsafe.Pointer(p))
	if rc == -2 {
		return nil, errors.New("string attribute larger than the limit")
	}
	if rc < 0 {
		return nil, lastError("cannot read string attribute")
	}
	if n == 0 {
		return []string{}, nil
	}
	return splitNUL(C.GoBytes(unsafe.Pointer(p), C.int(l))), nil
}

func readAttrDoubles(attr C.hid_t, n int) ([]float64, error) {
	out := make([]float64, n)
	if n == 0 {
		return out, nil
	}
	if C.eg_read_attr_doubles(attr, unsafe.Pointer(&out[0])) < 0 {
		return nil, lastError("cannot read numeric attribute")
	}
	return out, nil
}

func datasetInfo(ds C.hid_t) (info, uint64, error) {
	var ci C.eg_info
	var storage C.hsize_t
	if C.eg_dataset_info(ds, &ci, &storage) < 0 {
		return info{}, 0, lastError("cannot read dataset type or space")
	}
	return convInfo(&ci), uint64(storage), nil
}

func readDataset(ds C.hid_t, code C.int, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	if C.eg_read_dataset(ds, code, unsafe.Pointer(&buf[0])) < 0 {
		return lastError("cannot read dataset")
	}
	return nil
}

// memType chooses the in-memory type for a dataset's file type.
func memType(in info) (tensor.DType, C.int, error) {
	switch in.class {
	case C.H5T_FLOAT:
		switch {
		case in.size == 4:
			return tensor.Float32, C.EG_F32, nil
		case in.size == 8:
			return tensor.Float64, C.EG_F64, nil
		case in.size == 2 && in.half:
			return tensor.Float16, C.EG_F16, nil
		}
		return 0, 0, fmt.Errorf("unsupported %d-byte float type", in.size)
	case C.H5T_INTEGER:
		switch {
		case in.size == 1 && in.signed:
			return tensor.Int8, C.EG_I8, nil
		case in.size == 1:
			return tensor.Uint8, C.EG_U8, nil
		case in.size == 2 && in.signed:
			return tensor.Int16, C.EG_I16, nil
		case in.size == 2, in.size == 4 && in.signed:
			return tensor.Int32, C.EG_I32, nil
		case in.size == 4, in.size == 8:
			return tensor.Int64, C.EG_I64, nil
		}
		return 0, 0, fmt.Errorf("unsupported %d-byte integer type", in.size)
	}
	return 0, 0, fmt.Errorf("unsupported dataset type class %d (want float or integer)", int(in.class))
}
