/// A DEFLATE decoder (RFC 1951) and the gzip wrapper (RFC 1952), for `.gz` IDX files and
/// deflated `.npz` entries. Our own (~150 lines) rather than the system zlib, so the package
/// builds on machines without zlib's headers (zlib1g-dev is not part of every base image).
/// Cost: O(output) with one table lookup per bit of a code (canonical Huffman decoding by
/// code length, as in zlib's `puff.c`); decoding is not the bottleneck of any run.
public struct InflateError: Error, Equatable, Sendable {
    /// Byte offset in the compressed input where decoding failed.
    public let offset: Int
    public let message: String
}

public enum Inflate {
    /// Decompresses a gzip file (every member, concatenated), checking CRC-32 and size.
    public static func gunzip(_ data: [UInt8]) throws(InflateError) -> [UInt8] {
        var out: [UInt8] = []
        var pos = 0
        repeat {
            guard data.count - pos >= 18 else { throw InflateError(offset: pos, message: "the gzip header or trailer is cut short") }
            guard data[pos] == 0x1f, data[pos + 1] == 0x8b else { throw InflateError(offset: pos, message: "not a gzip member (magic number \(hex(data[pos])) \(hex(data[pos + 1])), expected 1f 8b)") }
            guard data[pos + 2] == 8 else { throw InflateError(offset: pos + 2, message: "unknown compression method \(data[pos + 2]) (only deflate, 8)") }
            let flags = data[pos + 3]
            var p = pos + 10
            if flags & 4 != 0 { guard p + 2 <= data.count else { throw InflateError(offset: p, message: "cut short") }; p += 2 + Int(data[p]) | Int(data[p + 1]) << 8 }
            if flags & 8 != 0 { while p < data.count && data[p] != 0 { p += 1 }; p += 1 }
            if flags & 16 != 0 { while p < data.count && data[p] != 0 { p += 1 }; p += 1 }
            if flags & 2 != 0 { p += 2 }
            guard p < data.count else { throw InflateError(offset: p, message: "the gzip header is cut short") }
            let start = out.count
            let end = try inflate(data, from: p, into: &out)
            guard end + 8 <= data.count else { throw InflateError(offset: end, message: "the gzip trailer (CRC-32 and size) is missing: the file is truncated") }
            let crc = UInt32(data[end]) | UInt32(data[end + 1]) << 8 | UInt32(data[end + 2]) << 16 | UInt32(data[end + 3]) << 24
            let size = UInt32(data[end + 4]) | UInt32(data[end + 5]) << 8 | UInt32(data[end + 6]) << 16 | UInt32(data[end + 7]) << 24
            guard size == UInt32(truncatingIfNeeded: out.count - start) else { throw InflateError(offset: end + 4, message: "the trailer says \(size) bytes but \(out.count - start) were decoded") }
            guard crc == crc32(out[start...]) else { throw InflateError(offset: end, message: "CRC-32 mismatch: the data is corrupt") }
            pos = end + 8
        } while pos < data.count && data[pos] == 0x1f
        return out
    }

    /// Decodes a raw DEFLATE stream starting at byte `from`, appending to `out`; returns
    /// the offset of the first byte after the stream.
    @discardableResult
    public static func inflate(_ data: [UInt8], from: Int, into out: inout [UInt8], expectedSize: Int? = nil) throws(InflateError) -> Int {
        var s = BitReader(data: data, pos: from)
        if let expectedSize { out.reserveCapacity(out.count + expectedSize) }
        var last = false
        while !last {
            last = try s.bits(1) == 1
            switch try s.bits(2) {
            case 0:
                s.bitCount = 0; s.bitBuffer = 0
                guard s.pos + 4 <= data.count else { throw InflateError(offset: s.pos, message: "a stored block is cut short") }
                let len = Int(data[s.pos]) | Int(data[s.pos + 1]) << 8, nlen = Int(data[s.pos + 2]) | Int(data[s.pos + 3]) << 8
                guard len == ~nlen & 0xffff else { throw InflateError(offset: s.pos, message: "a stored block's length check fails") }
                s.pos += 4
                guard s.pos + len <= data.count else { throw InflateError(offset: s.pos, message: "a stored block is cut short") }
                out.append(contentsOf: data[s.pos..<(s.pos + len)]); s.pos += len
            case 1:
                try codes(&s, &out, Self.fixed.lit, Self.fixed.dist)
            case 2:
                let nlen = try s.bits(5) + 257, ndist = try s.bits(5) + 1, ncode = try s.bits(4) + 4
                var lengths = [Int](repeating: 0, count: 19)
                for i in 0..<ncode { lengths[[16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15][i]] = try s.bits(3) }
                let lencode = try Huffman(lengths, at: s.pos)
                var all: [Int] = []
                while all.count < nlen + ndist {
                    let sym = try s.decode(lencode)
                    if sym < 16 { all.append(sym); continue }
                    var rep = 0, val = 0
                    if sym == 16 {
                        guard let prev = all.last else { throw InflateError(offset: s.pos, message: "a repeat code with nothing to repeat") }
                        val = prev; rep = 3 + (try s.bits(2))
                    } else if sym == 17 { rep = 3 + (try s.bits(3)) } else { rep = 11 + (try s.bits(7)) }
                    guard all.count + rep <= nlen + ndist else { throw InflateError(offset: s.pos, message: "code lengths run past their count") }
                    all += [Int](repeating: val, count: rep)
                }
                try codes(&s, &out, try Huffman(Array(all[0..<nlen]), at: s.pos), try Huffman(Array(all[nlen...]), at: s.pos))
            default:
                throw InflateError(offset: s.pos, message: "invalid block type 3")
            }
        }
        return s.pos
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let fixed: (lit: Huffman, dist: Huffman) = {
        let lit = (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }
        return (try! Huffman(lit, at: 0), try! Huffman([Int](repeating: 5, count: 30), at: 0))
    }()

    private static func codes(_ s: inout BitReader, _ out: inout [UInt8], _ lit: Huffman, _ dist: Huffman) throws(InflateError) {
        while true {
            let sym = try s.decode(lit)
            if sym < 256 { out.append(UInt8(sym)); continue }
            if sym == 256 { return }
            let li = sym - 257
            guard li < 29 else { throw InflateError(offset: s.pos, message: "invalid length code \(sym)") }
            let len = lengthBase[li] + (try s.bits(lengthExtra[li]))
            let di = try s.decode(dist)
            guard di < 30 else { throw InflateError(offset: s.pos, message: "invalid distance code \(di)") }
            let d = distBase[di] + (try s.bits(distExtra[di]))
            guard d <= out.count else { throw InflateError(offset: s.pos, message: "a back-reference reaches \(d) bytes back, before the start of the data") }
            let start = out.count - d
            for k in 0..<len { out.append(out[start + k]) }
        }
    }

    /// CRC-32 (IEEE, as gzip and zip use).
    public static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }
    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func hex(_ b: UInt8) -> String { String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
}

/// A canonical Huffman code: symbol counts per length and symbols sorted by code.
struct Huffman: Sendable {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int] = []
    init(_ lengths: [Int], at pos: Int) throws(InflateError) {
        for l in lengths { counts[l] += 1 }
        counts[0] = 0
        var left = 1
        for len in 1..<16 {
            left = left * 2 - counts[len]
            guard left >= 0 else { throw InflateError(offset: pos, message: "an over-subscribed Huffman code") }
        }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + counts[len] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (sym, l) in lengths.enumerated() where l != 0 { symbols[offs[l]] = sym; offs[l] += 1 }
    }
}

struct BitReader {
    let data: [UInt8]
    var pos: Int
    var bitBuffer = 0
    var bitCount = 0
    init(data: [UInt8], pos: Int) { self.data = data; self.pos = pos }

    mutating func bits(_ n: Int) throws(InflateError) -> Int {
        while bitCount < n {
            guard pos < data.count else { throw InflateError(offset: pos, message: "the compressed data ends early (truncated file?)") }
            bitBuffer |= Int(data[pos]) << bitCount; pos += 1; bitCount += 8
        }
        let v = bitBuffer & ((1 << n) - 1)
        bitBuffer >>= n; bitCount -= n
        return v
    }

    mutating func decode(_ h: Huffman) throws(InflateError) -> Int {
        var code = 0, first = 0, index = 0
        for len in 1..<16 {
            code |= try bits(1)
            let count = h.counts[len]
            if code - count < first { return h.symbols[index + (code - first)] }
            index += count; first += count; first <<= 1; code <<= 1
        }
        throw InflateError(offset: pos, message: "an invalid Huffman code")
    }
}
