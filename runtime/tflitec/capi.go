//go:build cgo

package tflitec

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

// The part of TensorFlow Lite's stable C API (tensorflow/lite/core/c/c_api.h,
// c_api_types.h, common.h and delegates/xnnpack/xnnpack_delegate.h of 2.17)
// this package calls, declared here so that every cgo build compiles it
// without TFLite's headers; the library itself is opened at run time
// (edgeval_tflite_load) and each call goes through a pointer dlsym found.
typedef struct TfLiteModel TfLiteModel;
typedef struct TfLiteInterpreterOptions TfLiteInterpreterOptions;
typedef struct TfLiteInterpreter TfLiteInterpreter;
typedef struct TfLiteSignatureRunner TfLiteSignatureRunner;
typedef struct TfLiteTensor TfLiteTensor;
typedef struct TfLiteOpaqueDelegate TfLiteOpaqueDelegate;
typedef enum {
	kTfLiteOk = 0,
	kTfLiteError = 1,
	kTfLiteDelegateError = 2,
	kTfLiteApplicationError = 3,
	kTfLiteUnresolvedOps = 7,
	kTfLiteCancelled = 8,
} TfLiteStatus;
typedef int TfLiteType;
typedef struct {
	float scale;
	int32_t zero_point;
} TfLiteQuantizationParams;
typedef void (*edgeval_reporter)(void*, const char*, va_list);

// edgeval_tensor_head is the start of struct TfLiteTensor (common.h), up to
// dims_signature, the one field the C API has no accessor for. The field
// types, not byte offsets, are written out so the compiler lays it out for
// the target's ABI as it laid out the library's.
typedef struct {
	int size;
	int data[];
} edgeval_int_array;
typedef struct {
	int type;                            // TfLiteType
	void* data;                          // TfLitePtrUnion
	edgeval_int_array* dims;
	TfLiteQuantizationParams params;
	int allocation_type;                 // TfLiteAllocationType
	size_t bytes;
	const void* allocation;
	const char* name;
	void* delegate;
	int buffer_handle;                   // TfLiteBufferHandle
	bool data_is_stale;
	bool is_variable;
	struct { int type; void* params; } quantization; // TfLiteQuantization
	void* sparsity;
	const edgeval_int_array* dims_signature;
} edgeval_tensor_head;

// TfLiteXNNPackDelegateOptions of TFLite 2.17 (32 bytes on LP64).
typedef struct {
	int32_t num_threads;
	uint32_t flags;
	void* weights_cache;
	bool handle_variable_ops;
	const char* experimental_weight_cache_file_path;
} edgeval_xnnpack_options;

// EDGEVAL_API lists every function: return type, name, parameters, the
// argument names to forward.
#define EDGEVAL_API(F, V) \
	F(const char*, TfLiteVersion, (void), ()) \
	F(TfLiteModel*, TfLiteModelCreateWithErrorReporter, (const void* a, size_t b, edgeval_reporter c, void* d), (a, b, c, d)) \
	V(TfLiteModelDelete, (TfLiteModel* a), (a)) \
	F(TfLiteInterpreterOptions*, TfLiteInterpreterOptionsCreate, (void), ()) \
	V(TfLiteInterpreterOptionsDelete, (TfLiteInterpreterOptions* a), (a)) \
	V(TfLiteInterpreterOptionsSetNumThreads, (TfLiteInterpreterOptions* a, int32_t b), (a, b)) \
	V(TfLiteInterpreterOptionsSetErrorReporter, (TfLiteInterpreterOptions* a, edgeval_reporter b, void* c), (a, b, c)) \
	F(TfLiteStatus, TfLiteInterpreterOptionsEnableCancellation, (TfLiteInterpreterOptions* a, bool b), (a, b)) \
	V(TfLiteInterpreterOptionsAddDelegate, (TfLiteInterpreterOptions* a, TfLiteOpaqueDelegate* b), (a, b)) \
	F(TfLiteInterpreter*, TfLiteInterpreterCreate, (const TfLiteModel* a, const TfLiteInterpreterOptions* b), (a, b)) \
	V(TfLiteInterpreterDelete, (TfLiteInterpreter* a), (a)) \
	F(int32_t, TfLiteInterpreterGetSignatureCount, (const TfLiteInterpreter* a), (a)) \
	F(const char*, TfLiteInterpreterGetSignatureKey, (const TfLiteInterpreter* a, int32_t b), (a, b)) \
	F(int32_t, TfLiteInterpreterGetInputTensorCount, (const TfLiteInterpreter* a), (a)) \
	F(int32_t, TfLiteInterpreterGetOutputTensorCount, (const TfLiteInterpreter* a), (a)) \
	F(TfLiteTensor*, TfLiteInterpreterGetInputTensor, (const TfLiteInterpreter* a, int32_t b), (a, b)) \
	F(const TfLiteTensor*, TfLiteInterpreterGetOutputTensor, (const TfLiteInterpreter* a, int32_t b), (a, b)) \
	F(TfLiteStatus, TfLiteInterpreterResizeInputTensor, (TfLiteInterpreter* a, int32_t b, const int* c, int32_t d), (a, b, c, d)) \
	F(TfLiteStatus, TfLiteInterpreterAllocateTensors, (TfLiteInterpreter* a), (a)) \
	F(TfLiteStatus, TfLiteInterpreterInvoke, (TfLiteInterpreter* a), (a)) \
	F(TfLiteStatus, TfLiteInterpreterCancel, (const TfLiteInterpreter* a), (a)) \
	F(TfLiteStatus, TfLiteInterpreterResetVariableTensors, (TfLiteInterpreter* a), (a)) \
	F(TfLiteSignatureRunner*, TfLiteInterpreterGetSignatureRunner, (const TfLiteInterpreter* a, const char* b), (a, b)) \
	F(size_t, TfLiteSignatureRunnerGetInputCount, (const TfLiteSignatureRunner* a), (a)) \
	F(const char*, TfLiteSignatureRunnerGetInputName, (const TfLiteSignatureRunner* a, int32_t b), (a, b)) \
	F(size_t, TfLiteSignatureRunnerGetOutputCount, (const TfLiteSignatureRunner* a), (a)) \
	F(const char*, TfLiteSignatureRunnerGetOutputName, (const TfLiteSignatureRunner* a, int32_t b), (a, b)) \
	F(TfLiteTensor*, TfLiteSignatureRunnerGetInputTensor, (TfLiteSignatureRunner* a, const char* b), (a, b)) \
	F(const TfLiteTensor*, TfLiteSignatureRunnerGetOutputTensor, (const TfLiteSignatureRunner* a, const char* b), (a, b)) \
	F(TfLiteStatus, TfLiteSignatureRunnerResizeInputTensor, (TfLiteSignatureRunner* a, const char* b, const int* c, int32_t d), (a, b, c, d)) \
	F(TfLiteStatus, TfLiteSignatureRunnerAllocateTensors, (TfLiteSignatureRunner* a), (a)) \
	F(TfLiteStatus, TfLiteSignatureRunnerInvoke, (TfLiteSignatureRunner* a), (a)) \
	F(TfLiteStatus, TfLiteSignatureRunnerCancel, (TfLiteSignatureRunner* a), (a)) \
	V(TfLiteSignatureRunnerDelete, (TfLiteSignatureRunner* a), (a)) \
	F(const char*, TfLiteTensorName, (const TfLiteTensor* a), (a)) \
	F(int32_t, TfLiteTensorNumDims, (const TfLiteTensor* a), (a)) \
	F(int32_t, TfLiteTensorDim, (const TfLiteTensor* a, int32_t b), (a, b)) \
	F(TfLiteType, TfLiteTensorType, (const TfLiteTensor* a), (a)) \
	F(size_t, TfLiteTensorByteSize, (const TfLiteTensor* a), (a)) \
	F(TfLiteQuantizationParams, TfLiteTensorQuantizationParams, (const TfLiteTensor* a), (a)) \
	F(TfLiteStatus, TfLiteTensorCopyFromBuffer, (TfLiteTensor* a, const void* b, size_t c), (a, b, c)) \
	F(TfLiteStatus, TfLiteTensorCopyToBuffer, (const TfLiteTensor* a, void* b, size_t c), (a, b, c)) \
	F(edgeval_xnnpack_options, TfLiteXNNPackDelegateOptionsDefault, (void), ()) \
	F(TfLiteOpaqueDelegate*, TfLiteXNNPackDelegateCreate, (const edgeval_xnnpack_options* a), (a)) \
	F(const edgeval_xnnpack_options*, TfLiteXNNPackDelegateGetOptions, (TfLiteOpaqueDelegate* a), (a)) \
	V(TfLiteXNNPackDelegateDelete, (TfLiteOpaqueDelegate* a), (a))

// One pointer per function, and a wrapper ev_<name> that calls it.
#define EDGEVAL_PTR(ret, name, params, args) static ret(*p_##name) params;
#define EDGEVAL_VPTR(name, params, args) static void(*p_##name) params;
EDGEVAL_API(EDGEVAL_PTR, EDGEVAL_VPTR)
#define EDGEVAL_WRAP(ret, name, params, args) static inline ret ev_##name params { return p_##name args; }
#define EDGEVAL_VWRAP(name, params, args) static inline void ev_##name params { p_##name args; }
EDGEVAL_API(EDGEVAL_WRAP, EDGEVAL_VWRAP)

// edgeval_tflite_load opens the library at path and resolves every
// function. It returns 0, or -1 with a message in err (dlerror's, or the
// first missing symbol). Called once per process, under a Go sync.Once.
static int edgeval_tflite_load(const char* path, char* err, size_t n) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, n, "%s", dlerror());
		return -1;
	}
#define EDGEVAL_SYM(ret, name, params, args) \
	if ((*(void**)(&p_##name) = dlsym(h, #name)) == NULL) { snprintf(err, n, "%s has no symbol %s", path, #name); dlclose(h); return -1; }
#define EDGEVAL_VSYM(name, params, args) EDGEVAL_SYM(void, name, params, args)
	EDGEVAL_API(EDGEVAL_SYM, EDGEVAL_VSYM)
	return 0;
}

static int edgeval_xnnpack_threads(TfLiteOpaqueDelegate* d) {
	const edgeval_xnnpack_options* o = ev_TfLiteXNNPackDelegateGetOptions(d);
	return o ? o->num_threads : -1;
}

static TfLiteOpaqueDelegate* edgeval_xnnpack_create(int32_t threads) {
	edgeval_xnnpack_options o = ev_TfLiteXNNPackDelegateOptionsDefault();
	o.num_threads = threads;
	return ev_TfLiteXNNPackDelegateCreate(&o);
}

// edgeval_errbuf collects the messages TFLite reports for one model or
// interpreter; Go reads and clears it after a failed call.
typedef struct {
	char buf[4096];
	size_t len;
} edgeval_errbuf;

static void edgeval_report(void* user_data, const char* format, va_list args) {
	edgeval_errbuf* e = (edgeval_errbuf*)user_data;
	size_t room = sizeof(e->buf) - e->len;
	if (room < 2) return;
	if (e->len > 0) {
		e->buf[e->len++] = '\n';
		room--;
	}
	int n = vsnprintf(e->buf + e->len, room, format, args);
	if (n < 0) {
		e->buf[e->len] = 0;
		return;
	}
	e->len += ((size_t)n < room) ? (size_t)n : room - 1;
}

static TfLiteModel* edgeval_model_create(const void* data, size_t size, edgeval_errbuf* e) {
	return ev_TfLiteModelCreateWithErrorReporter(data, size, edgeval_report, e);
}

// edgeval_dims_signature copies up to n entries of the tensor's declared
// shape into out and returns its rank (-1 when the model declares none).
static int edgeval_dims_signature(const TfLiteTensor* t, int* out, int n) {
	const edgeval_int_array* s = ((const edgeval_tensor_head*)t)->dims_signature;
	if (s == NULL) return -1;
	for (int i = 0; i < s->size && i < n; i++) out[i] = s->data[i];
	return s->size;
}

// edgeval_watchdog is a thread per session that cancels an invoke which
// runs past its deadline. It lives in C because a Go timer armed by the
// goroutine that then blocks in the cgo call can fire many milliseconds
// late (its P stays attached to the blocked thread until sysmon retakes it).
typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int running, fired, quit;
	struct timespec deadline; // CLOCK_MONOTONIC
	TfLiteInterpreter* it;
	TfLiteSignatureRunner* r; // NULL: the primary subgraph
} edgeval_watchdog;

static void* edgeval_watchdog_main(void* p) {
	edgeval_watchdog* w = (edgeval_watchdog*)p;
	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		if (!w->running || w->fired) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		if (pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline) == ETIMEDOUT && w->running && !w->fired) {
			w->fired = 1;
			if (w->r != NULL) ev_TfLiteSignatureRunnerCancel(w->r);
			else ev_TfLiteInterpreterCancel(w->it);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static edgeval_watchdog* edgeval_watchdog_start(TfLiteInterpreter* it, TfLiteSignatureRunner* r) {
	edgeval_watchdog* w = (edgeval_watchdog*)calloc(1, sizeof(edgeval_watchdog));
	if (w == NULL) return NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	w->it = it;
	w->r = r;
	if (pthread_create(&w->th, NULL, edgeval_watchdog_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

static void edgeval_watchdog_stop(edgeval_watchdog* w) {
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static int64_t edgeval_now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// edgeval_invoke runs one invoke under the watchdog with a timeout, and
// reports the time spent in the invoke call alone and whether the watchdog
// cancelled it.
static TfLiteStatus edgeval_invoke(edgeval_watchdog* w, int64_t timeout_ns, int64_t* elapsed_ns, int* fired) {
	int64_t d = edgeval_now_ns() + timeout_ns;
	pthread_mutex_lock(&w->mu);
	w->deadline.tv_sec = d / 1000000000;
	w->deadline.tv_nsec = d % 1000000000;
	w->running = 1;
	w->fired = 0;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	int64_t t0 = edgeval_now_ns();
	TfLiteStatus s = w->r != NULL ? ev_TfLiteSignatureRunnerInvoke(w->r) : ev_TfLiteInterpreterInvoke(w->it);
	*elapsed_ns = edgeval_now_ns() - t0;
	pthread_mutex_lock(&w->mu);
	w->running = 0;
	*fired = w->fired;
	pthread_mutex_unlock(&w->mu);
	return s;
}

static void edgeval_options_set_reporter(TfLiteInterpreterOptions* o, edgeval_errbuf* e) {
	ev_TfLiteInterpreterOptionsSetErrorReporter(o, edgeval_report, e);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/edgeval/edgeval/internal/mapped"
)

// load opens the library at path and resolves every function this package
// calls; it runs once per process (see Load).
func load(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [512]C.char
	if C.edgeval_tflite_load(cpath, &msg[0], C.size_t(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}

// newXNNPACK creates an XNNPACK delegate with threads threads (the
// library's defaults otherwise) and checks that it reports them back, which
// proves edgeval_xnnpack_options matches the library's layout.
func newXNNPACK(threads int) (unsafe.Pointer, func(), error) {
	d := C.edgeval_xnnpack_create(C.int32_t(threads))
	if d == nil {
		return nil, nil, errors.New("TfLiteXNNPackDelegateCreate failed")
	}
	free := func() { C.ev_TfLiteXNNPackDelegateDelete(d) }
	if got := int(C.edgeval_xnnpack_threads(d)); got != threads {
		free()
		return nil, nil, fmt.Errorf("XNNPACK delegate reports %d threads, asked for %d: TfLiteXNNPackDelegateOptions as declared here does not match the library", got, threads)
	}
	return unsafe.Pointer(d), free, nil
}

// cTensor is a TfLiteTensor owned by an interpreter.
type cTensor = C.TfLiteTensor

// libVersion returns TfLiteVersion(), for example "2.17.1"; only after
// load.
func libVersion() string { return C.GoString(C.ev_TfLiteVersion()) }

// errBuf is C memory that TFLite's error reporter writes into. It lives as
// long as the model or interpreter it was registered with.
type errBuf struct{ p *C.edgeval_errbuf }

func newErrBuf() errBuf {
	return errBuf{(*C.edgeval_errbuf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.edgeval_errbuf{}))))}
}

// take returns the collected messages and clears the buffer.
func (e errBuf) take() string {
	if e.p == nil || e.p.len == 0 {
		return ""
	}
	s := C.GoStringN(&e.p.buf[0], C.int(e.p.len))
	e.p.len = 0
	return strings.TrimSpace(s)
}

func (e errBuf) free() { C.free(unsafe.Pointer(e.p)) }

// withReport wraps err with TFLite's own messages, if it printed any.
func (e errBuf) wrap(err error) error {
	if msg := e.take(); msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// cModel is a TfLiteModel together with the C copy of the model bytes, which
// must outlive it (TfLiteModelCreate does not copy).
type cModel struct {
	m   *C.TfLiteModel
	buf unsafe.Pointer
	eb  errBuf
	// file, when set, holds the bytes instead of C memory: a read-only
	// mapping of an unlinked temporary file (internal/mapped), whose pages
	// can be dropped while TFLite does not read them (evictWhile).
	file []byte
}

// newModel copies b into C memory, or, from fileModelBytes, into a
// read-only file mapping, and builds (and verifies) the model.
func newModel(b []byte) (*cModel, error) {
	if len(b) == 0 {
		return nil, errors.New("empty model")
	}
	eb := newErrBuf()
	cm := &cModel{eb: eb}
	if len(b) >= fileModelBytes {
		if f, err := mapped.Spill(b); err == nil {
			cm.file, cm.buf = f, unsafe.Pointer(unsafe.SliceData(f))
		}
	}
	if cm.buf == nil {
		cm.buf = C.CBytes(b)
	}
	cm.m = C.edgeval_model_create(cm.buf, C.size_t(len(b)), eb.p)
	if cm.m == nil {
		err := eb.wrap(errors.New("TfLiteModelCreate rejected the flatbuffer"))
		cm.freeBytes()
		eb.free()
		return nil, err
	}
	return cm, nil
}

// fileModelBytes is the model size from which newModel keeps the bytes in a
// file mapping rather than C memory.
var fileModelBytes = 16 << 20

// freeBytes frees the model's bytes.
func (m *cModel) freeBytes() {
	if m.file != nil {
		_ = mapped.Release(m.file)
		m.file = nil
	} else {
		C.free(m.buf)
	}
	m.buf = nil
}

// evictWhile drops the pages of a file-held model from this process's
// memory every few milliseconds until stop is called, and once more then:
// while the XNNPACK delegate packs its own copy of the weights (during
// TfLiteInterpreterCreate and AllocateTensors), the pages it has read are
// given back instead of the whole model staying resident beside the packed
// copy. TFLite reads the model where it lies and never writes it (the
// mapping is read-only: a write would fault); a page it reads again comes
// back from the file, so what it computes does not change.
func (m *cModel) evictWhile() (stop func()) {
	if m == nil || m.file == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				mapped.Evict(m.file)
				return
			case <-t.C:
				mapped.Evict(m.file)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func (m *cModel) delete() {
	if m == nil || m.m == nil {
		return
	}
	C.ev_TfLiteModelDelete(m.m)
	m.freeBytes()
	m.eb.free()
	m.m, m.buf = nil, nil
}

// cInterpreter is a TfLiteInterpreter with its error buffer.
type cInterpreter struct {
	i  *C.TfLiteInterpreter
	eb errBuf
}

// resetVariables sets every variable tensor (the recurrent state of the TF
// converter's fused LSTM and RNN ops) back to its initial value.
func (c *cInterpreter) resetVariables() error {
	if C.ev_TfLiteInterpreterResetVariableTensors(c.i) != C.kTfLiteOk {
		return c.eb.wrap(errors.New("TfLiteInterpreterResetVariableTensors failed"))
	}
	return nil
}

// newInterpreter creates an interpreter for m with threads (0: TFLite's
// default) and an optional delegate, with cancellation enabled.
func newInterpreter(m *cModel, threads int, delegate unsafe.Pointer) (*cInterpreter, error) {
	o := C.ev_TfLiteInterpreterOptionsCreate()
	if o == nil {
		return nil, errors.New("TfLiteInterpreterOptionsCreate failed")
	}
	defer C.ev_TfLiteInterpreterOptionsDelete(o)
	if threads > 0 {
		C.ev_TfLiteInterpreterOptionsSetNumThreads(o, C.int32_t(threads))
	}
	eb := newErrBuf()
	C.edgeval_options_set_reporter(o, eb.p)
	if C.ev_TfLiteInterpreterOptionsEnableCancellation(o, true) != C.kTfLiteOk {
		eb.free()
		return nil, errors.New("TfLiteInterpreterOptionsEnableCancellation failed")
	}
	if delegate != nil {
		C.ev_TfLiteInterpreterOptionsAddDelegate(o, (*C.TfLiteOpaqueDelegate)(delegate))
	}
	i := C.ev_TfLiteInterpreterCreate(m.m, o)
	if i == nil {
		err := eb.wrap(errors.New("TfLiteInterpreterCreate failed"))
		eb.free()
		return nil, err
	}
	return &cInterpreter{i: i, eb: eb}, nil
}

func (it *cInterpreter) delete() {
	if it == nil || it.i == nil {
		return
	}
	C.ev_TfLiteInterpreterDelete(it.i)
	it.eb.free()
	it.i = nil
}

// signatureKeys lists the model's SignatureDef keys in model order.
func (it *cInterpreter) signatureKeys() []string {
	n := int(C.ev_TfLiteInterpreterGetSignatureCount(it.i))
	keys := make([]string, n)
	for k := range keys {
		keys[k] = C.GoString(C.ev_TfLiteInterpreterGetSignatureKey(it.i, C.int32_t(k)))
	}
	return keys
}

// status turns a TfLiteStatus into an error naming the call.
func status(s C.TfLiteStatus, call string) error {
	switch s {
	case C.kTfLiteOk:
		return nil
	case C.kTfLiteCancelled:
		return fmt.Errorf("%s: %w", call, errCancelled)
	case C.kTfLiteUnresolvedOps:
		return fmt.Errorf("%s: unresolved ops (status %d)", call, int(s))
	case C.kTfLiteDelegateError:
		return fmt.Errorf("%s: delegate error (status %d)", call, int(s))
	}
	return fmt.Errorf("%s failed (status %d)", call, int(s))
}

// errCancelled is wrapped when TFLite reports a cancelled invoke.
var errCancelled = errors.New("invocation cancelled")

// graph is the set of inputs and outputs a session runs: the primary
// subgraph of an interpreter, or one signature runner.
type graph interface {
	numInputs() int
	numOutputs() int
	inputName(i int) string
	outputName(i int) string
	input(i int) *C.TfLiteTensor
	output(i int) *C.TfLiteTensor
	resizeInput(i int, dims []int) error
	allocate() error
	// handles returns the interpreter and, for a signature, the runner.
	handles() (*C.TfLiteInterpreter, *C.TfLiteSignatureRunner)
	cancel()
	close()
}

// watchdog cancels invokes that outlive their timeout (see
// edgeval_watchdog in the cgo preamble).
type watchdog struct{ w *C.edgeval_watchdog }

func startWatchdog(g graph) (watchdog, error) {
	it, r := g.handles()
	w := C.edgeval_watchdog_start(it, r)
	if w == nil {
		return watchdog{}, errors.New("starting the invoke watchdog thread failed")
	}
	return watchdog{w}, nil
}

// invoke runs the graph once with a timeout; elapsed is the time spent in
// the C invoke call (CLOCK_MONOTONIC) and timedOut says the watchdog
// cancelled it.
func (w watchdog) invoke(timeout time.Duration) (elapsed time.Duration, timedOut bool, err error) {
	var ns C.int64_t
	var fired C.int
	st := C.edgeval_invoke(w.w, C.int64_t(timeout), &ns, &fired)
	return time.Duration(ns), fired != 0, status(st, "invoke")
}

func (w watchdog) stop() {
	if w.w != nil {
		C.edgeval_watchdog_stop(w.w)
	}
}

// primary runs the interpreter's primary subgraph.
type primary struct{ it *cInterpreter }

func (p primary) numInputs() int  { return int(C.ev_TfLiteInterpreterGetInputTensorCount(p.it.i)) }
func (p primary) numOutputs() int { return int(C.ev_TfLiteInterpreterGetOutputTensorCount(p.it.i)) }
func (p primary) input(i int) *C.TfLiteTensor {
	return C.ev_TfLiteInterpreterGetInputTensor(p.it.i, C.int32_t(i))
}
func (p primary) output(i int) *C.TfLiteTensor {
	return (*C.TfLiteTensor)(unsafe.Pointer(C.ev_TfLiteInterpreterGetOutputTensor(p.it.i, C.int32_t(i))))
}
func (p primary) inputName(i int) string  { return tensorName(p.input(i)) }
func (p primary) outputName(i int) string { return tensorName(p.output(i)) }
func (p primary) resizeInput(i int, dims []int) error {
	d := cDims(dims)
	return status(C.ev_TfLiteInterpreterResizeInputTensor(p.it.i, C.int32_t(i), &d[0], C.int32_t(len(dims))), "TfLiteInterpreterResizeInputTensor")
}
func (p primary) allocate() error {
	return status(C.ev_TfLiteInterpreterAllocateTensors(p.it.i), "TfLiteInterpreterAllocateTensors")
}
func (p primary) handles() (*C.TfLiteInterpreter, *C.TfLiteSignatureRunner) { return p.it.i, nil }
func (p primary) cancel()                                                   { C.ev_TfLiteInterpreterCancel(p.it.i) }
func (p primary) close()                                                    {}

// runner runs one SignatureDef through a TfLiteSignatureRunner.
type runner struct {
	it      *cInterpreter
	r       *C.TfLiteSignatureRunner
	inputs  []*C.char // names, owned by the runner
	outputs []*C.char
}

func newRunner(it *cInterpreter, key string) (*runner, error) {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	r := C.ev_TfLiteInterpreterGetSignatureRunner(it.i, ck)
	if r == nil {
		return nil, it.eb.wrap(fmt.Errorf("ev_TfLiteInterpreterGetSignatureRunner(%q) failed", key))
	}
	rn := &runner{it: it, r: r}
	for i := range int(C.ev_TfLiteSignatureRunnerGetInputCount(r)) {
		rn.inputs = append(rn.inputs, C.ev_TfLiteSignatureRunnerGetInputName(r, C.int32_t(i)))
	}
	for i := range int(C.ev_TfLiteSignatureRunnerGetOutputCount(r)) {
		rn.outputs = append(rn.outputs, C.ev_TfLiteSignatureRunnerGetOutputName(r, C.int32_t(i)))
	}
	return rn, nil
}

func (r *runner) numInputs() int          { return len(r.inputs) }
func (r *runner) numOutputs() int         { return len(r.outputs) }
func (r *runner) inputName(i int) string  { return C.GoString(r.inputs[i]) }
func (r *runner) outputName(i int) string { return C.GoString(r.outputs[i]) }
func (r *runner) input(i int) *C.TfLiteTensor {
	return C.ev_TfLiteSignatureRunnerGetInputTensor(r.r, r.inputs[i])
}
func (r *runner) output(i int) *C.TfLiteTensor {
	return (*C.TfLiteTensor)(unsafe.Pointer(C.ev_TfLiteSignatureRunnerGetOutputTensor(r.r, r.outputs[i])))
}
func (r *runner) resizeInput(i int, dims []int) error {
	d := cDims(dims)
	return status(C.ev_TfLiteSignatureRunnerResizeInputTensor(r.r, r.inputs[i], &d[0], C.int32_t(len(dims))), "TfLiteSignatureRunnerResizeInputTensor")
}
func (r *runner) allocate() error {
	return status(C.ev_TfLiteSignatureRunnerAllocateTensors(r.r), "TfLiteSignatureRunnerAllocateTensors")
}
func (r *runner) handles() (*C.TfLiteInterpreter, *C.TfLiteSignatureRunner) { return r.it.i, r.r }
func (r *runner) cancel()                                                   { C.ev_TfLiteSignatureRunnerCancel(r.r) }
func (r *runner) close() {
	if r.r != nil {
		C.ev_TfLiteSignatureRunnerDelete(r.r)
		r.r = nil
	}
}

// cDims converts a shape for the resize calls; it always has at least one
// element so &d[0] is valid (a rank-0 resize passes size 0).
func cDims(dims []int) []C.int {
	d := make([]C.int, max(len(dims), 1))
	for i, v := range dims {
		d[i] = C.int(v)
	}
	return d
}

// tensorName returns a tensor's name ("" for a nil tensor or name).
func tensorName(t *C.TfLiteTensor) string {
	if t == nil {
		return ""
	}
	if p := C.ev_TfLiteTensorName(t); p != nil {
		return C.GoString(p)
	}
	return ""
}

// tensorShape returns a tensor's current dimensions.
func tensorShape(t *C.TfLiteTensor) []int {
	n := int(C.ev_TfLiteTensorNumDims(t))
	if n < 0 {
		return nil
	}
	s := make([]int, n)
	for i := range s {
		s[i] = int(C.ev_TfLiteTensorDim(t, C.int32_t(i)))
	}
	return s
}

// tensorShapeSignature returns the tensor's declared shape (-1 for dynamic
// dimensions) from TfLiteTensor.dims_signature, or nil when the model
// declares none or it does not have the tensor's rank.
func tensorShapeSignature(t *C.TfLiteTensor) []int {
	rank := int(C.ev_TfLiteTensorNumDims(t))
	if rank <= 0 {
		return nil
	}
	buf := make([]C.int, rank)
	if int(C.edgeval_dims_signature(t, &buf[0], C.int(rank))) != rank {
		return nil
	}
	s := make([]int, rank)
	for i, v := range buf {
		s[i] = int(v)
	}
	return s
}

// tensorType returns the tensor's TfLiteType as an int.
func tensorType(t *C.TfLiteTensor) int { return int(C.ev_TfLiteTensorType(t)) }

// tensorBytes returns the tensor's byte size.
func tensorBytes(t *C.TfLiteTensor) int { return int(C.ev_TfLiteTensorByteSize(t)) }

// tensorQuant returns the per-tensor affine quantization (scale 0 when the
// tensor is not quantized).
func tensorQuant(t *C.TfLiteTensor) (scale float32, zeroPoint int64) {
	q := C.ev_TfLiteTensorQuantizationParams(t)
	return float32(q.scale), int64(q.zero_point)
}

// copyIn copies b (exactly the tensor's byte size) into t.
func copyIn(t *C.TfLiteTensor, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return status(C.ev_TfLiteTensorCopyFromBuffer(t, unsafe.Pointer(&b[0]), C.size_t(len(b))), "TfLiteTensorCopyFromBuffer")
}

// copyOut copies t into b (exactly the tensor's byte size).
func copyOut(t *C.TfLiteTensor, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return status(C.ev_TfLiteTensorCopyToBuffer(t, unsafe.Pointer(&b[0]), C.size_t(len(b))), "TfLiteTensorCopyToBuffer")
}
