#include "ckernels.h"
#include <math.h>

// One definition per update rule, instantiated for float and double. Each is a single
// pass over the parameter: w, dw and the state arrays never alias.
#define RUNNER_DEFINE_OPTIMIZERS(T, S, SQRT) \
void runner_sgd_##S(long n, T *restrict w, const T *restrict dw, T lr) { \
    for (long i = 0; i < n; i++) w[i] -= lr * dw[i]; \
} \
void runner_momentum_##S(long n, T *restrict w, const T *restrict dw, T *restrict v, T lr, T mu) { \
    for (long i = 0; i < n; i++) { T nv = mu * v[i] - lr * dw[i]; v[i] = nv; w[i] += nv; } \
} \
void runner_nesterov_##S(long n, T *restrict w, const T *restrict dw, T *restrict v, T lr, T mu) { \
    for (long i = 0; i < n; i++) { T prev = v[i]; T nv = mu * prev - lr * dw[i]; v[i] = nv; w[i] += nv + mu * (nv - prev); } \
} \
void runner_rmsprop_##S(long n, T *restrict w, const T *restrict dw, T *restrict s, T lr, T decay, T eps) { \
    const T keep = 1 - decay; \
    for (long i = 0; i < n; i++) { T g = dw[i]; T ns = decay * s[i] + keep * g * g; s[i] = ns; w[i] -= lr * g / (SQRT(ns) + eps); } \
} \
void runner_adagrad_##S(long n, T *restrict w, const T *restrict dw, T *restrict s, T lr, T eps) { \
    for (long i = 0; i < n; i++) { T g = dw[i]; T ns = s[i] + g * g; s[i] = ns; w[i] -= lr * g / (SQRT(ns) + eps); } \
} \
void runner_adam_##S(long n, T *restrict w, const T *restrict dw, T *restrict m, T *restrict v, \
                     T lr, T beta1, T beta2, T eps, T c1, T c2) { \
    const T k1 = 1 - beta1, k2 = 1 - beta2; \
    for (long i = 0; i < n; i++) { \
        T g = dw[i]; \
        T nm = beta1 * m[i] + k1 * g; \
        T nv = beta2 * v[i] + k2 * g * g; \
        m[i] = nm; v[i] = nv; \
        w[i] -= lr * (nm * c1) / (SQRT(nv * c2) + eps); \
    } \
}

RUNNER_DEFINE_OPTIMIZERS(float, f32, sqrtf)
RUNNER_DEFINE_OPTIMIZERS(double, f64, sqrt)
