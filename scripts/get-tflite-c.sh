#!/usr/bin/env bash
# get-tflite-c.sh: fetch a real TensorFlow Lite C library (2.17.1) and the C
# headers that github.com/mattn/go-tflite v1.0.4 compiles against. Every cgo
# build of validate finds third_party/tflite-c/lib/libtensorflowlite_c.so by
# itself and loads it at run time (runtime/tflitec), so `go test
# ./runtime/tflitec/` runs against the real runtime without the environment
# below; the headers and flags are for `-tags edgetpu` (go-tflite's Edge TPU
# delegate) and for linking the library into other C code. Only package
# registries are used:
#
#   library  PyPI pymicro-wakeword 2.5.0 (Apache-2.0): its wheel ships
#            pymicro_wakeword/lib/libtensorflowlite_c.so, TFLite 2.17.1, for
#            linux x86_64 and aarch64 (manylinux_2_35, glibc >= 2.35).
#   headers  Maven Central org.tensorflow:tensorflow-lite 2.16.1 (Apache-2.0):
#            the AAR's headers/ folder holds the real c_api.h, c_api_types.h,
#            common.h, c_api_experimental.h, c_api_opaque.h, builtin_ops.h.
#            (2.17.0 is only a relocation POM on Maven Central; 2.12.0-2.16.1
#            all ship the same incomplete set.)
#   compat   Three headers the AAR lacks are written here (see
#            write_compat_headers): two include-only shims whose content the
#            C API does not use, and xnnpack_delegate.h with the declarations
#            go-tflite's delegates/xnnpack calls, laid out as in TFLite 2.17.1
#            (TfLiteXNNPackDelegateOptions is 32 bytes: checked against the
#            library's TfLiteXNNPackDelegateOptionsDefault, which zeroes 32
#            bytes and sets flags at offset 4; the runtime/tflitec tests read
#            the options back through TfLiteXNNPackDelegateGetOptions).
#   linking  go-tflite's delegates/xnnpack links -ltensorflowlite-delegate_xnnpack
#            -lXNNPACK. Those symbols are exported by libtensorflowlite_c.so
#            itself (go-tflite issue #50), so both names are GNU ld linker
#            scripts that just say INPUT(-ltensorflowlite_c).
#
# Everything goes to third_party/tflite-c/ (git-ignored) or $TFLITE_C_DIR.
# TFLITE_C_ARCH=aarch64 fetches the library for another machine than this one
# (scripts/board-vm.sh cross-builds the arm64 agent against it).
# Every download is checked against a pinned sha256. A second run with the
# files in place does no network access. The script prints, on stdout only,
# the environment to build with; use it as
#
#   eval "$(scripts/get-tflite-c.sh)"
#   go build -tags edgetpu ./cmd/validate
#
# Messages go to stderr. Needs: python3 with pip, curl, unzip, sha256sum.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${TFLITE_C_DIR:-$root/third_party/tflite-c}"

TFLITE_VERSION=2.17.1
PYMW_VERSION=2.5.0
AAR_VERSION=2.16.1
AAR_URL="https://repo1.maven.org/maven2/org/tensorflow/tensorflow-lite/$AAR_VERSION/tensorflow-lite-$AAR_VERSION.aar"
AAR_SHA256=34b065817e294e7dd3569504e8b9454938ceae453b6a459da54d5f6e45d3c94e

arch="${TFLITE_C_ARCH:-$(uname -m)}"
case "$arch" in
x86_64 | amd64)
	WHEEL_PLATFORM=manylinux_2_35_x86_64
	WHEEL_SHA256=3869f536402b1254e3be3549d3a462ecd6ed21ce2c3e77ec8eb501c3c700417c
	LIB_SHA256=25465edb5cd7aadd00249d4d28f1d922ce5cc90195ad4403458111dd63493bae
	;;
aarch64 | arm64)
	WHEEL_PLATFORM=manylinux_2_35_aarch64
	WHEEL_SHA256=6c75b77c936efd19b8c35a094cb7e3fdbd4ebcd0f63635a0851ce591990829f2
	LIB_SHA256=12062437bfde367b1be592ebc4a9fe64b8453f90b3b7dc21fade002c38e1ac1a
	;;
*)
	echo "get-tflite-c.sh: no prebuilt libtensorflowlite_c for $arch (only x86_64, aarch64)" >&2
	exit 1
	;;
esac
WHEEL="pymicro_wakeword-$PYMW_VERSION-py3-none-$WHEEL_PLATFORM.whl"
stamp="$dest/.stamp"
want_stamp="tflite=$TFLITE_VERSION pymicro-wakeword=$PYMW_VERSION/$WHEEL_SHA256 aar=$AAR_VERSION/$AAR_SHA256 compat=1"

log() { echo "get-tflite-c.sh: $*" >&2; }

check_sha256() { # file want
	local got
	got="$(sha256sum "$1" | cut -d' ' -f1)"
	if [[ "$got" != "$2" ]]; then
		log "sha256 mismatch for $1: got $got, want $2"
		return 1
	fi
}

print_env() {
	cat <<EOF
export CGO_CFLAGS="-I$dest/include\${CGO_CFLAGS:+ \$CGO_CFLAGS}"
export CGO_LDFLAGS="-L$dest/lib -Wl,-rpath,$dest/lib\${CGO_LDFLAGS:+ \$CGO_LDFLAGS}"
export LD_LIBRARY_PATH="$dest/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
EOF
}

# Fast path: already installed with the same pins.
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -f "$dest/lib/libtensorflowlite_c.so" &&
	-f "$dest/include/tensorflow/lite/c/c_api.h" ]]; then
	print_env
	exit 0
fi

write_compat_headers() { # include dir
	local inc="$1"
	mkdir -p "$inc/tensorflow/lite/core/async/c" "$inc/tensorflow/lite/delegates/xnnpack"
	cat >"$inc/tensorflow/lite/core/async/c/types.h" <<'EOF'
/* Written by edgeval's scripts/get-tflite-c.sh: the TFLite AAR on Maven
 * Central omits this header, which core/c/c_api.h includes. The declarations
 * the C API uses from it (struct TfLiteAsyncKernel) are forward-declared in
 * common.h, so an include shim is enough. */
#ifndef EDGEVAL_TFLITE_CORE_ASYNC_C_TYPES_H_
#define EDGEVAL_TFLITE_CORE_ASYNC_C_TYPES_H_
#endif
EOF
	cat >"$inc/tensorflow/lite/core/c/registration_external.h" <<'EOF'
/* Written by edgeval's scripts/get-tflite-c.sh: the TFLite AAR on Maven
 * Central omits this header, which core/c/c_api.h includes for the
 * TfLiteRegistrationExternal type; common.h declares that type. */
#ifndef EDGEVAL_TFLITE_CORE_C_REGISTRATION_EXTERNAL_H_
#define EDGEVAL_TFLITE_CORE_C_REGISTRATION_EXTERNAL_H_
#include "tensorflow/lite/core/c/common.h"
#endif
EOF
	cat >"$inc/tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h" <<'EOF'
/* Written by edgeval's scripts/get-tflite-c.sh: the XNNPACK delegate
 * declarations that github.com/mattn/go-tflite/delegates/xnnpack calls, with
 * TfLiteXNNPackDelegateOptions laid out as in TensorFlow Lite 2.17.1 (32
 * bytes on LP64; TfLiteXNNPackDelegateOptionsDefault returns it by value, so
 * the size must match the library). The symbols are exported by
 * libtensorflowlite_c.so. */
#ifndef EDGEVAL_TFLITE_DELEGATES_XNNPACK_XNNPACK_DELEGATE_H_
#define EDGEVAL_TFLITE_DELEGATES_XNNPACK_XNNPACK_DELEGATE_H_
#include <stdbool.h>
#include <stdint.h>
#include "tensorflow/lite/core/c/common.h"
#ifdef __cplusplus
extern "C" {
#endif
#define TFLITE_XNNPACK_DELEGATE_FLAG_QS8 0x00000001
#define TFLITE_XNNPACK_DELEGATE_FLAG_QU8 0x00000002
typedef struct TfLiteXNNPackDelegateWeightsCache TfLiteXNNPackDelegateWeightsCache;
typedef struct {
  int32_t num_threads;
  uint32_t flags;
  TfLiteXNNPackDelegateWeightsCache* weights_cache;
  bool handle_variable_ops;
  const char* experimental_weight_cache_file_path;
} TfLiteXNNPackDelegateOptions;
TfLiteXNNPackDelegateOptions TfLiteXNNPackDelegateOptionsDefault(void);
const TfLiteXNNPackDelegateOptions* TfLiteXNNPackDelegateGetOptions(TfLiteDelegate* delegate);
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const TfLiteXNNPackDelegateOptions* options);
void* TfLiteXNNPackDelegateGetThreadPool(TfLiteDelegate* delegate);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);
#ifdef __cplusplus
}
#endif
#endif
EOF
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

log "downloading $WHEEL (PyPI pymicro-wakeword $PYMW_VERSION, TFLite $TFLITE_VERSION)"
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$WHEEL_PLATFORM" \
	"pymicro-wakeword==$PYMW_VERSION" -d "$tmp/wheel" >&2
check_sha256 "$tmp/wheel/$WHEEL" "$WHEEL_SHA256"
unzip -q -o "$tmp/wheel/$WHEEL" 'pymicro_wakeword/lib/libtensorflowlite_c.so' \
	'pymicro_wakeword-*.dist-info/licenses/LICENSE' -d "$tmp/wheel/x"
check_sha256 "$tmp/wheel/x/pymicro_wakeword/lib/libtensorflowlite_c.so" "$LIB_SHA256"

log "downloading tensorflow-lite-$AAR_VERSION.aar (Maven Central) for the C headers"
curl -fsSL --retry 3 -o "$tmp/tflite.aar" "$AAR_URL"
check_sha256 "$tmp/tflite.aar" "$AAR_SHA256"
unzip -q -o "$tmp/tflite.aar" 'headers/*' -d "$tmp/aar"

# Assemble in a staging dir, then swap it in, so an interrupted run never
# leaves a half-installed tree behind a valid stamp.
stage="$tmp/stage"
mkdir -p "$stage/lib" "$stage/include"
cp "$tmp/wheel/x/pymicro_wakeword/lib/libtensorflowlite_c.so" "$stage/lib/"
cp "$tmp/wheel/x/"pymicro_wakeword-*.dist-info/licenses/LICENSE "$stage/LICENSE.pymicro-wakeword"
cp -r "$tmp/aar/headers/tensorflow" "$stage/include/"
write_compat_headers "$stage/include"
for name in tensorflowlite-delegate_xnnpack XNNPACK; do
	printf '/* GNU ld script: the XNNPACK delegate is inside libtensorflowlite_c. */\nINPUT(-ltensorflowlite_c)\n' \
		>"$stage/lib/lib$name.so"
done
echo "$want_stamp" >"$stage/.stamp"

mkdir -p "$(dirname "$dest")"
rm -rf "$dest.old"
if [[ -e "$dest" ]]; then mv "$dest" "$dest.old"; fi
mv "$stage" "$dest"
rm -rf "$dest.old"
log "installed TFLite C $TFLITE_VERSION in $dest"
print_env
