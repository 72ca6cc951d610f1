import Foundation

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

@inline(__always) func sgdImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, lr: T) {
    let vlr = SIMD16<T>(repeating: lr)
    var i = 0
    while i + 16 <= count { store16(load16(w, i) - vlr * load16(dw, i), w, i); i += 16 }
    while i < count { w[i] -= lr * dw[i]; i += 1 }
}
@inline(__always) func momentumImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, v: UnsafeMutablePointer<T>, lr: T, momentum: T) {
    let vlr = SIMD16<T>(repeating: lr), vmu = SIMD16<T>(repeating: momentum)
    var i = 0
    while i + 16 <= count {
        let nv = vmu * load16(v, i) - vlr * load16(dw, i)
        store16(nv, v, i); store16(load16(w, i) + nv, w, i); i += 16
    }
    while i < count { let nv = momentum * v[i] - lr * dw[i]; v[i] = nv; w[i] += nv; i += 1 }
}
@inline(__always) func nesterovImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, v: UnsafeMutablePointer<T>, lr: T, momentum: T) {
    let vlr = SIMD16<T>(repeating: lr), vmu = SIMD16<T>(repeating: momentum)
    var i = 0
    while i + 16 <= count {
        let prev = load16(v, i)
        let nv = vmu * prev - vlr * load16(dw, i)
        store16(nv, v, i); store16(load16(w, i) + (nv + vmu * (nv - prev)), w, i); i += 16
    }
    while i < count { let prev = v[i]; let nv = momentum * prev - lr * dw[i]; v[i] = nv; w[i] += nv + momentum * (nv - prev); i += 1 }
}
@inline(__always) func rmspropImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, s: UnsafeMutablePointer<T>, lr: T, decay: T, eps: T) {
    let vlr = SIMD16<T>(repeating: lr), vd = SIMD16<T>(repeating: decay), vd1 = SIMD16<T>(repeating: 1 - decay), ve = SIMD16<T>(repeating: eps)
    var i = 0
    while i + 16 <= count {
        let g = load16(dw, i)
        let ns = vd * load16(s, i) + vd1 * g * g
        store16(ns, s, i); store16(load16(w, i) - vlr * g / (ns.squareRoot() + ve), w, i); i += 16
    }
    while i < count { let g = dw[i]; let ns = decay * s[i] + (1 - decay) * g * g; s[i] = ns; w[i] -= lr * g / (ns.squareRoot() + eps); i += 1 }
}
@inline(__always) func adagradImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, s: UnsafeMutablePointer<T>, lr: T, eps: T) {
    let vlr = SIMD16<T>(repeating: lr), ve = SIMD16<T>(repeating: eps)
    var i = 0
    while i + 16 <= count {
        let g = load16(dw, i)
        let ns = load16(s, i) + g * g
        store16(ns, s, i); store16(load16(w, i) - vlr * g / (ns.squareRoot() + ve), w, i); i += 16
    }
    while i < count { let g = dw[i]; let ns = s[i] + g * g; s[i] = ns; w[i] -= lr * g / (ns.squareRoot() + eps); i += 1 }
}
@inline(__always) func adamImpl<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, m: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>,
                                        lr: T, beta1: T, beta2: T, eps: T, t: Int) {
    let c1 = 1 / (1 - T(pow(Double(beta1), Double(t))))
    let c2 = 1 / (1 - T(pow(Double(beta2), Double(t))))
    let vb1 = SIMD16<T>(repeating: beta1), vb1c = SIMD16<T>(repeating: 1 - beta1)
    let vb2 = SIMD16<T>(repeating: beta2), vb2c = SIMD16<T>(repeating: 1 - beta2)
    let vc1 = SIMD16<T>(repeating: c1), vc2 = SIMD16<T>(repeating: c2)
    let vlr = SIMD16<T>(repeating: lr), ve = SIMD16<T>(repeating: eps)
    var i = 0
    while i + 16 <= count {
        let g = load16(dw, i)
        let nm = vb1 * load16(m, i) + vb1c * g
        let nv = vb2 * load16(v, i) + vb2c * g * g
        store16(nm, m, i); store16(nv, v, i)
        store16(load16(w, i) - vlr * (nm * vc1) / ((nv * vc2).squareRoot() + ve), w, i)
        i += 16
    }
    while i < count {
        let g = dw[i]
        let nm = beta1 * m[i] + (1 - beta1) * g
        let nv = beta2 * v[i] + (1 - beta2) * g * g
        m[i] = nm; v[i] = nv
        w[i] -= lr * (nm * c1) / ((nv * c2).squareRoot() + eps)
        i += 1
    }
}

extension Float: OptimizerKernels {
    public static func sgdUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, lr: Float) { sgdImpl(count: count, w: w, dw: dw, lr: lr) }
    public static func momentumUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, momentum: Float) { momentumImpl(count: count, w: w, dw: dw, v: v, lr: lr, momentum: momentum) }
    public static func nesterovUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, momentum: Float) { nesterovImpl(count: count, w: w, dw: dw, v: v, lr: lr, momentum: momentum) }
    public static func rmspropUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, s: UnsafeMutablePointer<Float>, lr: Float, decay: Float, eps: Float) { rmspropImpl(count: count, w: w, dw: dw, s: s, lr: lr, decay: decay, eps: eps) }
    public static func adagradUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, s: UnsafeMutablePointer<Float>, lr: Float, eps: Float) { adagradImpl(count: count, w: w, dw: dw, s: s, lr: lr, eps: eps) }
    public static func adamUpdate(count: Int, w: UnsafeMutablePointer<Float>, dw: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float, beta1: Float, beta2: Float, eps: Float, t: Int) { adamImpl(count: count, w: w, dw: dw, m: m, v: v, lr: lr, beta1: beta1, beta2: beta2, eps: eps, t: t) }
}

extension Double: OptimizerKernels {
    public static func sgdUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, lr: Double) { sgdImpl(count: count, w: w, dw: dw, lr: lr) }
    public static func momentumUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, momentum: Double) { momentumImpl(count: count, w: w, dw: dw, v: v, lr: lr, momentum: momentum) }
    public static func nesterovUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, momentum: Double) { nesterovImpl(count: count, w: w, dw: dw, v: v, lr: lr, momentum: momentum) }
    public static func rmspropUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, s: UnsafeMutablePointer<Double>, lr: Double, decay: Double, eps: Double) { rmspropImpl(count: count, w: w, dw: dw, s: s, lr: lr, decay: decay, eps: eps) }
    public static func adagradUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, s: UnsafeMutablePointer<Double>, lr: Double, eps: Double) { adagradImpl(count: count, w: w, dw: dw, s: s, lr: lr, eps: eps) }
    public static func adamUpdate(count: Int, w: UnsafeMutablePointer<Double>, dw: UnsafePointer<Double>, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>, lr: Double, beta1: Double, beta2: Double, eps: Double, t: Int) { adamImpl(count: count, w: w, dw: dw, m: m, v: v, lr: lr, beta1: beta1, beta2: beta2, eps: eps, t: t) }
}
