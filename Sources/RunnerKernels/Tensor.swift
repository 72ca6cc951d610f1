/// A contiguous, row-major buffer of `T` with a shape. The storage is a manually
/// allocated pointer (no copy-on-write): `resize` reuses capacity, so a layer keeps one
/// output tensor for the whole run and the training step does not allocate.
public final class Tensor<T: Real>: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    public private(set) var capacity: Int
    public private(set) var data: UnsafeMutablePointer<T>
    /// False for a view of memory owned elsewhere (see `init(viewing:shape:)`).
    private let owned: Bool

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.count = n
        self.capacity = max(n, 1)
        self.data = .allocate(capacity: capacity)
        self.owned = true
        data.initialize(repeating: 0, count: capacity)
    }

    /// A read-only view of `count(shape)` elements owned by someone else, who must keep them
    /// alive (and unchanged) while the view is used; it cannot grow. Used to run a forward
    /// pass straight over rows of a data set without copying them.
    public init(viewing pointer: UnsafePointer<T>, shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = count
        self.data = UnsafeMutablePointer(mutating: pointer)
        self.owned = false
    }

    public convenience init(shape: [Int], values: [T]) {
        precondition(values.count == shape.reduce(1, *), "values do not match shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.update(from: base, count: count) }
        }
    }

    deinit { if owned { data.deallocate() } }

    /// Changes the shape; grows the storage when needed. Contents are unspecified
    /// afterwards (zero when freshly grown).
    public func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n > capacity {
            precondition(owned, "a tensor viewing foreign memory cannot grow")
            data.deallocate()
            capacity = n
            data = .allocate(capacity: n)
            data.initialize(repeating: 0, count: n)
        }
        shape = newShape
        count = n
    }

    /// Leading dimension (the batch) and the product of the others.
    public var rows: Int { shape.first ?? 1 }
    public var rowSize: Int { rows == 0 ? 0 : count / rows }

    public var buffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: data, count: count) }

    public subscript(i: Int) -> T {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func zero() { data.update(repeating: 0, count: count) }

    public func fill(_ value: T) { data.update(repeating: value, count: count) }

    /// Copies shape and contents of `other`.
    public func copy(from other: Tensor<T>) {
        resize(other.shape)
        data.update(from: other.data, count: count)
    }


    public var array: [T] { Array(buffer) }
}
