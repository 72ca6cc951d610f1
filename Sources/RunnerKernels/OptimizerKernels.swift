import Foundation
import CKernels

/// In-place parameter updates (SPEC §4), one pass over `count` values each.
/// `w` weights, `dw` gradient, `v`/`s`/`m` per-parameter state of the same size.
public protocol OptimizerKernels {
    /// `w −= lr·dw`
    static func sgdUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, lr: Self)
    /// `v = μ·v − lr·dw; w += v`
    static func momentumUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, v: UnsafeMutablePointer<Self>, lr: Self, momentum: Self)
    /// `v' = μ·v − lr·dw; w += v' + μ·(v' − v)`
    static func nesterovUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, v: UnsafeMutablePointer<Self>, lr: Self, momentum: Self)
    /// `s = ρ·s + (1 − ρ)·dw²; w −= lr·dw/(√s + eps)`
    static func rmspropUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, s: UnsafeMutablePointer<Self>, lr: Self, decay: Self, eps: Self)
    /// `s += dw²; w −= lr·dw/(√s + eps)`
    static func adagradUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, s: UnsafeMutablePointer<Self>, lr: Self, eps: Self)
    /// Adam with bias correction for step `t` (already incremented):
    /// `m = β1·m + (1−β1)·dw; v = β2·v + (1−β2)·dw²; w −= lr·m̂/(√v̂ + eps)`
    static func adamUpdate(count: Int, w: UnsafeMutablePointer<Self>, dw: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>, v: UnsafeMutablePointer<Self>,
                           lr: Self, beta1: Self, beta2: Self, eps: Self, t: Int)
}

/// Bias-correction factors of Adam for step `t`: `1/(1 − β1ᵗ)`, `1/(1 − β2ᵗ)`.
@inline(__always) func adamCorrections<T: Real>(beta1: T, beta2: T, t: Int) -> (T, T) {
    (1 / (1 - T(pow(Double(beta1), Double(t)))), 1 / (1 - T(pow(Double(beta2), Double(t)))))
}

// The loops themselves are in C (Sources/CKernels/optimizers.c), where they vectorise fully.

extension Float: OptimizerKernels {
    public static func sgdUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, lr: Float) { runner_sgd_f32(count, w, dw, lr) }
    public static func momentumUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, momentum: Float) { runner_momentum_f32(count, w, dw, v, lr, momentum) }
    public static func nesterovUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, momentum: Float) { runner_nesterov_f32(count, w, dw, v, lr, momentum) }
    public static func rmspropUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, s: UnsafeMutablePointer<Float>, lr: Float, decay: Float, eps: Float) { runner_rmsprop_f32(count, w, dw, s, lr, decay, eps) }
    public static func adagradUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, s: UnsafeMutablePointer<Float>, lr: Float, eps: Float) { runner_adagrad_f32(count, w, dw, s, lr, eps) }
    public static func adamUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, beta1: Float, beta2: Float, eps: Float, t: Int) {
        let (c1, c2) = adamCorrections(beta1: beta1, beta2: beta2, t: t)
        runner_adam_f32(count, w, dw, m, v, lr, beta1, beta2, eps, c1, c2)
    }
}

extension Double: OptimizerKernels {
    public static func sgdUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, lr: Double) { runner_sgd_f64(count, w, dw, lr) }
    public static func momentumUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, momentum: Double) { runner_momentum_f64(count, w, dw, v, lr, momentum) }
    public static func nesterovUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, momentum: Double) { runner_nesterov_f64(count, w, dw, v, lr, momentum) }
    public static func rmspropUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, s: UnsafeMutablePointer<Double>, lr: Double, decay: Double, eps: Double) { runner_rmsprop_f64(count, w, dw, s, lr, decay, eps) }
    public static func adagradUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, s: UnsafeMutablePointer<Double>, lr: Double, eps: Double) { runner_adagrad_f64(count, w, dw, s, lr, eps) }
    public static func adamUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, beta1: Double, beta2: Double, eps: Double, t: Int) {
        let (c1, c2) = adamCorrections(beta1: beta1, beta2: beta2, t: t)
        runner_adam_f64(count, w, dw, m, v, lr, beta1, beta2, eps, c1, c2)
    }
}
