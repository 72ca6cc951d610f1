// Optimizer updates in C: clang vectorizes these loops fully (restrict pointers, vector
// sqrt and division), about 7x faster than the same loops in Swift, where the square root
// of a SIMD vector is split into lanes. Built with -ffp-contract=off so every operation is
// rounded exactly as written (the same numbers as the formulas in SPEC §4).
#ifndef RUNNER_CKERNELS_H
#define RUNNER_CKERNELS_H

#define RUNNER_DECLARE_OPTIMIZERS(T, S) \
void runner_sgd_##S(long n, T *restrict w, const T *restrict dw, T lr); \
void runner_momentum_##S(long n, T *restrict w, const T *restrict dw, T *restrict v, T lr, T mu); \
void runner_nesterov_##S(long n, T *restrict w, const T *restrict dw, T *restrict v, T lr, T mu); \
void runner_rmsprop_##S(long n, T *restrict w, const T *restrict dw, T *restrict s, T lr, T decay, T eps); \
void runner_adagrad_##S(long n, T *restrict w, const T *restrict dw, T *restrict s, T lr, T eps); \
void runner_adam_##S(long n, T *restrict w, const T *restrict dw, T *restrict m, T *restrict v, \
                     T lr, T beta1, T beta2, T eps, T c1, T c2);

RUNNER_DECLARE_OPTIMIZERS(float, f32)
RUNNER_DECLARE_OPTIMIZERS(double, f64)

/// Width in bits of the widest vector registers the including code is compiled for, as
/// the compiler sees the target (Swift imports this through its clang importer, which gets
/// the same target CPU as the Swift code): the GEMM picks its register tile from it.
static inline int ck_target_vector_bits(void) {
#if defined(__AVX512F__)
    return 512;
#elif defined(__AVX2__) || defined(__AVX__)
    return 256;
#else
    return 128;   /* arm64 NEON, SSE */
#endif
}

#endif
