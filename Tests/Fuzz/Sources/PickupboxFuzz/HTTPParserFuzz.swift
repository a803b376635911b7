@testable import HTTPServer

/// The HTTP/1.1 request parser, fed as the socket feeds it: the input arrives in splits chosen by its
/// first byte (a seed), and the result must not depend on them — the same heads, bodies and error as
/// when the whole input arrives at once. The parser must never trap, whatever the bytes.
enum HTTPParserFuzz {
    struct Outcome: Equatable {
        var heads: [String] = []
        var bodies: [[UInt8]] = []
        var error: HTTPParseError?
    }

    static func run(_ input: [UInt8]) {
        guard let seed = input.first else { return }
        let bytes = Array(input.dropFirst())
        let whole = parse([bytes[...]])
        let split = parse(splits(bytes, seed: seed))
        precondition(whole == split, "the parse depends on how the input was split: \(whole) vs \(split)")
    }

    /// Deterministic pseudo-random chunk sizes (1 to 64 bytes) from `seed`.
    static func splits(_ bytes: [UInt8], seed: UInt8) -> [ArraySlice<UInt8>] {
        var state = UInt32(seed) &* 2_654_435_761 | 1
        var chunks: [ArraySlice<UInt8>] = []
        var index = 0
        while index < bytes.count {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            let size = seed % 4 == 0 ? 1 : Int(state % 64) + 1
            chunks.append(bytes[index..<min(bytes.count, index + size)])
            index += size
        }
        return chunks
    }

    static func parse(_ chunks: [ArraySlice<UInt8>]) -> Outcome {
        var outcome = Outcome()
        var parser = HTTPRequestParser(limits: HTTPParserLimits())
        var buffer = InputBuffer()
        for chunk in chunks {
            buffer.append(Array(chunk))
            while true {
                switch parser.next(&buffer) {
                case .needMore:
                    break
                case .head(let head):
                    outcome.heads.append("\(head.method) \(head.target) 1.\(head.minorVersion) \(head.framing) keepAlive=\(head.keepAlive) continue=\(head.expectContinue) \(head.headers)")
                    // As the connection does once it knows the route: a small body limit.
                    parser.bodyLimit = 4096
                    if case .length(let n) = head.framing, n > parser.bodyLimit {
                        outcome.error = HTTPParseError(status: .contentTooLarge, code: "body_too_large", message: "")
                        return outcome
                    }
                    continue
                case .complete(let body):
                    outcome.bodies.append(body)
                    continue
                case .error(let error):
                    precondition((400..<600).contains(error.status.code), "a parse error is a 4xx or 505: \(error.status.code)")
                    outcome.error = error
                    return outcome
                }
                break
            }
        }
        return outcome
    }
}
