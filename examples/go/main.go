// A Go prover's first steps with libzkaccel through cgo: one MSM and one NTT.
// Build with the library installed (ffi/install.sh) and PKG_CONFIG_PATH pointing at its
// lib/pkgconfig: `go run .`
package main

/*
#cgo pkg-config: zkaccel
#include <stdlib.h>
#include <zkaccel.h>
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func check(rt *C.zka_runtime, what string, st C.int32_t) {
	if st == C.ZKA_OK {
		return
	}
	msg := "(no runtime)"
	if rt != nil {
		buf := make([]byte, 256)
		C.zka_last_error(rt, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), nil)
		msg = C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	}
	fmt.Fprintf(os.Stderr, "%s failed: %s: %s\n", what, C.GoString(C.zka_status_str(st)), msg)
	os.Exit(1)
}

func main() {
	check(nil, "ABI check", C.zka_check_abi(C.ZKA_ABI_VERSION))
	var rt *C.zka_runtime
	check(nil, "zka_runtime_create", C.zka_runtime_create(nil, &rt))
	defer C.zka_runtime_destroy(rt)

	// Inputs live in C memory: cgo forbids passing Go pointers that C keeps or that contain
	// Go pointers, and the descriptors hold pointers.
	points := (*[16]C.uint64_t)(C.malloc(16 * 8))
	scalars := (*[8]C.uint64_t)(C.malloc(8 * 8))
	out := (*[8]C.uint64_t)(C.malloc(8 * 8))
	defer C.free(unsafe.Pointer(points))
	defer C.free(unsafe.Pointer(scalars))
	defer C.free(unsafe.Pointer(out))
	for i := range points {
		points[i] = 0
	}
	for i := range scalars {
		scalars[i] = 0
	}
	// G = (1, 2) twice; scalars 5 and 7 (canonical).
	points[0], points[4], points[8], points[12] = 1, 2, 1, 2
	scalars[0], scalars[4] = 5, 7

	p := (*C.zka_points)(C.calloc(1, C.sizeof_zka_points))
	s := (*C.zka_scalars)(C.calloc(1, C.sizeof_zka_scalars))
	r := (*C.zka_point_out)(C.calloc(1, C.sizeof_zka_point_out))
	defer C.free(unsafe.Pointer(p))
	defer C.free(unsafe.Pointer(s))
	defer C.free(unsafe.Pointer(r))
	p.struct_size = C.sizeof_zka_points
	p.curve, p.group = C.ZKA_CURVE_BN254, C.ZKA_G1
	p.encoding, p.infinity = C.ZKA_ENCODING_CANONICAL, C.ZKA_INFINITY_ZERO
	p.data, p.count = unsafe.Pointer(points), 2
	s.struct_size = C.sizeof_zka_scalars
	s.encoding = C.ZKA_ENCODING_CANONICAL
	s.data, s.count = &scalars[0], 2
	r.struct_size = C.sizeof_zka_point_out
	r.form, r.encoding = C.ZKA_FORM_AFFINE, C.ZKA_ENCODING_CANONICAL
	r.limbs, r.capacity = &out[0], 8
	check(rt, "zka_msm", C.zka_msm(rt, p, s, nil, r, nil))
	fmt.Printf("msm: 12*G = (0x%016x%016x%016x%016x, ...)\n", uint64(out[3]), uint64(out[2]), uint64(out[1]), uint64(out[0]))

	var d *C.zka_ntt_domain
	check(rt, "zka_ntt_domain_create", C.zka_ntt_domain_create(rt, C.ZKA_FIELD_GOLDILOCKS, 3, nil, 0, &d))
	defer C.zka_ntt_domain_destroy(d)
	v := (*[8]C.uint64_t)(C.malloc(8 * 8))
	defer C.free(unsafe.Pointer(v))
	for i := range v {
		v[i] = C.uint64_t(i + 1)
	}
	cfg := (*C.zka_ntt_config)(C.calloc(1, C.sizeof_zka_ntt_config))
	defer C.free(unsafe.Pointer(cfg))
	cfg.struct_size = C.sizeof_zka_ntt_config
	cfg.direction, cfg.encoding, cfg.batch = C.ZKA_NTT_FORWARD, C.ZKA_ENCODING_CANONICAL, 1
	check(rt, "zka_ntt", C.zka_ntt(d, cfg, unsafe.Pointer(v), 8, nil))
	fmt.Printf("ntt: evaluation at 1 = %d (the sum 36)\n", uint64(v[0]))
	cfg.direction = C.ZKA_NTT_INVERSE
	check(rt, "zka_ntt", C.zka_ntt(d, cfg, unsafe.Pointer(v), 8, nil))
	ok := true
	for i := range v {
		ok = ok && uint64(v[i]) == uint64(i+1)
	}
	fmt.Printf("ntt: inverse restores the input: %v\n", ok)
	if !ok {
		os.Exit(1)
	}
}
