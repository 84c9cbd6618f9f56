/* zkaccel: OpenCL C prelude for the portable kernels in kernels/gpu/.
 *
 * The portable kernels use only the names defined here (and in kernels/cuda/prelude.cuh for
 * CUDA C++ through NVRTC): fixed-width integer types, qualifiers, work-item indices, barriers,
 * 32-bit atomics and the high half of a 64x64-bit product. Requires OpenCL C 1.2. */
#define ZKA_OPENCL 1

typedef uint u32;
typedef ulong u64;
typedef int i32;

#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
/* A pointer parameter to local memory. */
#define LOCAL_PARAM __local
#define DEVICE static inline
/* A function large enough that one copy, called, beats a copy inlined at every use (curve
 * additions and doublings, extension-field products); the compiler may still inline it. */
#define DEVICE_CALL static
#define UNROLL _Pragma("unroll")
/* Keeps a loop rolled (one copy of its body): for long loops of wide-field arithmetic. */
#define NO_UNROLL _Pragma("unroll 1")

#define GLOBAL_ID() ((u32)get_global_id(0))
#define LOCAL_ID() ((u32)get_local_id(0))
#define GROUP_ID() ((u32)get_group_id(0))
#define LOCAL_SIZE() ((u32)get_local_size(0))
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define BARRIER_GLOBAL() barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE)

/* Returns the old value. */
#define ATOMIC_INC(p) atomic_inc(p)
#define MUL_HI64(a, b) mul_hi((u64)(a), (u64)(b))
