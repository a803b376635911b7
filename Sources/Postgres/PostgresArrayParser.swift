/// Splits PostgreSQL's text output of a one-dimensional array (`{a,"b \"c\"",NULL}`) into elements.
/// PostgreSQL manual 8.15.6: elements are quoted when they contain delimiters, quotes, backslashes or
/// white space, or spell NULL; inside quotes, `\` escapes the next character.
enum PostgresArrayParser {
    static func forEachElement(
        _ bytes: UnsafeRawBufferPointer,
        _ body: ([UInt8]?) throws -> Void
    ) throws {
        let invalid = PostgresError(.decoding, reason: "value is not a one-dimensional array")
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "{"), bytes[bytes.count - 1] == UInt8(ascii: "}") else {
            throw invalid
        }
        let end = bytes.count - 1
        var index = 1
        if index == end { return }
        while true {
            var element: [UInt8] = []
            var quoted = false
            if bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while true {
                    guard index < end else { throw invalid }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") {
                        guard index + 1 < end else { throw invalid }
                        element.append(bytes[index + 1])
                        index += 2
                    } else if byte == UInt8(ascii: "\"") {
                        index += 1
                        break
                    } else {
                        element.append(byte)
                        index += 1
                    }
                }
            } else {
                while index < end, bytes[index] != UInt8(ascii: ",") {
                    guard bytes[index] != UInt8(ascii: "{") else { throw invalid }  // nested arrays
                    element.append(bytes[index])
                    index += 1
                }
            }
            let isNull = !quoted && element == Array("NULL".utf8)
            try body(isNull ? nil : element)
            if index == end { return }
            guard bytes[index] == UInt8(ascii: ",") else { throw invalid }
            index += 1
        }
    }
}
