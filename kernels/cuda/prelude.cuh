/* zkaccel: CUDA C++ prelude for the portable kernels in kernels/gpu/, compiled by NVRTC.
 *
 * Mirrors kernels/opencl/prelude.h name for name; see there. Kernels are `extern "C"` so the
 * host looks them up by their plain names. */
#define ZKA_CUDA 1

typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;

#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
/* A pointer parameter to shared memory (CUDA pointers are generic: no qualifier). */
#define LOCAL_PARAM
#define DEVICE static __device__ __forceinline__
/* Kept out of line: inlining every curve addition and Fp2 product at every call site made
 * the G2 MSM programs megabytes of code and minutes of NVRTC time each (BN254 G2: 5.3 MB
 * cubin, 175 s for sm_80). */
#define DEVICE_CALL static __device__ __noinline__
#define UNROLL _Pragma("unroll")
#define NO_UNROLL _Pragma("unroll 1")

#define GLOBAL_ID() ((u32)(blockIdx.x * blockDim.x + threadIdx.x))
#define LOCAL_ID() ((u32)threadIdx.x)
#define GROUP_ID() ((u32)blockIdx.x)
#define LOCAL_SIZE() ((u32)blockDim.x)
#define BARRIER() __syncthreads()
#define BARRIER_GLOBAL() __syncthreads()

/* Returns the old value. */
#define ATOMIC_INC(p) atomicAdd((p), 1u)
#define MUL_HI64(a, b) __umul64hi((u64)(a), (u64)(b))
