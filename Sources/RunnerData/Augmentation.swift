/// `data.augment`: random horizontal flips and random crops with zero padding of training
/// images (the standard CIFAR recipe), applied to each minibatch after it is drawn.
/// Validation and test images are never augmented.
public struct Augmentation: Equatable, Sendable {
    /// Mirror each image left–right with probability 1/2.
    public var flip = false
    /// Pad each image with `cropPadding` zeros on every side and cut a random H×W window
    /// out of it (a shift by −p…p rows and columns); 0: no crop. The zeros are zeros of the
    /// preprocessed (mean-subtracted) data, i.e. the mean image.
    public var cropPadding = 0
    public init(flip: Bool = false, cropPadding: Int = 0) { self.flip = flip; self.cropPadding = cropPadding }

    /// Whether it changes anything.
    public var isActive: Bool { flip || cropPadding > 0 }

    /// The random choices of one image: the draws come from `rng` in this order: the flip
    /// (when `flip`), then the row and column offsets in 0…2p (when `cropPadding` > 0).
    public func draw(_ rng: inout SeededGenerator) -> (flip: Bool, dy: Int, dx: Int) {
        let f = flip ? rng.int(below: 2) == 1 : false
        let p = cropPadding
        guard p > 0 else { return (f, 0, 0) }
        let dy = rng.int(below: 2 * p + 1) - p
        let dx = rng.int(below: 2 * p + 1) - p
        return (f, dy, dx)
    }

    /// Augments `count` images of shape (C, H, W) stored one after the other at `x`, in
    /// place, drawing each image's choices from `rng` (`draw`). `scratch` holds one image.
    /// Image i becomes `out[c][y][x] = in'[c][y + dy][x + dx]` (0 outside the image), where
    /// `in'` is the image mirrored left–right when it flips. Cost: O(count·C·H·W).
    public func apply<T: Real>(to x: UnsafeMutablePointer<T>, count: Int, shape: [Int], rng: inout SeededGenerator,
                               scratch: inout [T]) {
        guard isActive, shape.count == 3 else { return }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let size = c * h * w
        if scratch.count < size { scratch = [T](repeating: 0, count: size) }
        for i in 0..<count {
            let d = draw(&rng)
            if !d.flip && d.dy == 0 && d.dx == 0 { continue }
            let image = x + i * size
            scratch.withUnsafeMutableBufferPointer { s in
                s.baseAddress!.update(from: image, count: size)
                Augmentation.shift(from: s.baseAddress!, to: image, channels: c, height: h, width: w, flip: d.flip, dy: d.dy, dx: d.dx)
            }
        }
    }

    /// One image: `dst[c][y][x] = src'[c][y + dy][x + dx]`, 0 where that falls outside the
    /// image (`src'` = `src` mirrored left–right when `flip`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func shift<T: Real>(from src: UnsafePointer<T>, to dst: UnsafeMutablePointer<T>, channels: Int, height: Int, width: Int,
                               flip: Bool, dy: Int, dx: Int) {
        for ch in 0..<channels {
            let s = src + ch * height * width, o = dst + ch * height * width
            for y in 0..<height {
                let sy = y + dy
                let row = o + y * width
                guard sy >= 0, sy < height else { row.update(repeating: 0, count: width); continue }
                let srow = s + sy * width
                for xx in 0..<width {
                    let sx = xx + dx
                    row[xx] = sx >= 0 && sx < width ? srow[flip ? width - 1 - sx : sx] : 0
                }
            }
        }
    }
}
