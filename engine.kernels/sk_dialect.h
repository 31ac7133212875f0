/*
 * sisma kernel dialect: one kernel source for OpenCL C (engine.opencl, compiled at run time by the
 * OpenCL driver) and CUDA C++ (engine.cuda, compiled by nvcc at build time with -x cu).
 *
 * Kernels use only these macros for what differs between the two languages: address spaces,
 * work-item / work-group ids, barriers, the 32x32 high multiply. Everything else is the common
 * subset of C99 and C++ (float math functions: exp, log, sqrt, tanh, ...; long is 64 bits on both).
 *
 *   KERNEL            a kernel entry point            (__kernel         | extern "C" __global__)
 *   DEVICE            a helper function               (static inline    | static __device__ inline)
 *   GLOBAL            pointer into device memory       (__global         | nothing)
 *   LOCAL             declaration of a work-group array (__local        | __shared__)
 *   LOCAL_PTR         pointer to work-group memory      (__local        | nothing)
 *   GID(d) LID(d) GRP(d) LSIZE(d) NGRP(d)   ids along dimension d = 0, 1, 2 (x, y, z)
 *   BARRIER()         work-group barrier with local memory fence
 *   MULHI(a, b)       high 32 bits of the 64-bit product of two uints
 *   SK_UNROLL         before a loop: unroll it fully where its trip count is a compile-time constant
 *   sk_uint sk_ulong  unsigned 32- and 64-bit integers (OpenCL's uint / ulong; CUDA has no ulong of
 *                     its own, and glibc's sys/types.h declares ulong as unsigned long, so the dialect
 *                     names its own)
 *
 * Launch rule (both backends): global sizes are rounded up to a multiple of the local size, so
 * every kernel checks its own bounds. SK_WG (a power of two, set by the host) is the local size of
 * the one-dimensional row kernels that reduce through work-group memory.
 */
#ifndef SK_DIALECT_H
#define SK_DIALECT_H

#ifndef SK_WG
#define SK_WG 256
#endif

#ifdef __OPENCL_VERSION__
/* ------------------------------------------------------------------ OpenCL C */
#if defined(SK_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#define KERNEL __kernel
#define DEVICE static inline
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR __local
#define GID(d) ((long) get_global_id(d))
#define LID(d) ((int) get_local_id(d))
#define GRP(d) ((long) get_group_id(d))
#define LSIZE(d) ((int) get_local_size(d))
#define NGRP(d) ((long) get_num_groups(d))
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define MULHI(a, b) mul_hi((uint) (a), (uint) (b))
#define SK_UNROLL
typedef uint sk_uint;
typedef ulong sk_ulong;

#else
/* ------------------------------------------------------------------ CUDA C++ */
#include <mma.h>        /* the tensor-core GEMM (gemm_tc.cl), before the macros below */
#include <cuda_bf16.h>
typedef unsigned int sk_uint;
typedef unsigned long long sk_ulong;
static __device__ inline unsigned sk_dim3(uint3 v, int d) { return d == 0 ? v.x : d == 1 ? v.y : v.z; }
static __device__ inline unsigned sk_dim3(dim3 v, int d) { return d == 0 ? v.x : d == 1 ? v.y : v.z; }
#define KERNEL extern "C" __global__
#define DEVICE static __device__ inline
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR
#define GID(d) ((long) sk_dim3(blockIdx, d) * (long) sk_dim3(blockDim, d) + (long) sk_dim3(threadIdx, d))
#define LID(d) ((int) sk_dim3(threadIdx, d))
#define GRP(d) ((long) sk_dim3(blockIdx, d))
#define LSIZE(d) ((int) sk_dim3(blockDim, d))
#define NGRP(d) ((long) sk_dim3(gridDim, d))
#define BARRIER() __syncthreads()
#define MULHI(a, b) __umulhi((sk_uint) (a), (sk_uint) (b))
#define SK_UNROLL _Pragma("unroll")
#endif

/* Strided views for binary and copy: up to SK_MAX_RANK dimensions after the host has merged
   contiguous ones. Passed by value (all 64-bit fields: no padding differences between compilers). */
#define SK_MAX_RANK 6
typedef struct {
    long shape[SK_MAX_RANK];
    long sa[SK_MAX_RANK];   /* strides of operand a (binary) or of the source (copy) */
    long sb[SK_MAX_RANK];   /* strides of operand b (binary); unused by copy */
    long so[SK_MAX_RANK];   /* strides of the output (copy); binary output is contiguous */
    long rank;
    long count;             /* product of shape */
    long offA, offB, offO;  /* element offsets */
} sk_strided_t;

/* Sum of v over the work-group (power-of-two size); every work-item gets the result. */
DEVICE float sk_wg_sum(LOCAL_PTR float *s, float v) {
    int l = LID(0);
    s[l] = v;
    BARRIER();
    for (int k = LSIZE(0) / 2; k > 0; k >>= 1) {
        if (l < k) s[l] += s[l + k];
        BARRIER();
    }
    float r = s[0];
    BARRIER();
    return r;
}

/* Maximum of v over the work-group (power-of-two size). */
DEVICE float sk_wg_max(LOCAL_PTR float *s, float v) {
    int l = LID(0);
    s[l] = v;
    BARRIER();
    for (int k = LSIZE(0) / 2; k > 0; k >>= 1) {
        if (l < k) s[l] = fmax(s[l], s[l + k]);
        BARRIER();
    }
    float r = s[0];
    BARRIER();
    return r;
}

#endif
