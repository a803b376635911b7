/// Bytes received and not yet parsed. Consumed bytes are dropped lazily so that a pipelined
/// burst is not copied once per request.
struct InputBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var start = 0

    var count: Int { bytes.count - start }
    var isEmpty: Bool { start == bytes.count }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 65_536)
            start = 0
        } else if start > 4096 && start * 2 > bytes.count {
            bytes.removeSubrange(0..<start)
            start = 0
        }
        bytes.append(contentsOf: chunk)
    }

    mutating func append(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { append($0) }
    }

    mutating func consume(_ n: Int) {
        precondition(n >= 0 && n <= count, "consume past the end of the input buffer")
        start += n
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 65_536)
            start = 0
        }
    }

    /// Frees the storage of an idle connection (10,000 idle keep-alive connections must stay small).
    mutating func releaseIfEmpty() {
        if isEmpty && bytes.capacity > 0 {
            bytes = []
            start = 0
        }
    }

    subscript(offset: Int) -> UInt8 { bytes[start + offset] }
}
