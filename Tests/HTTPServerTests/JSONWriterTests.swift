import Foundation
import HTTPTestSupport
import Synchronization
import Testing
@testable import HTTPServer

/// `JSONCoding.encode` writes JSON itself; these hold its bytes to JSONEncoder's (`ReferenceJSON`: the
/// encoder it replaced, ids lower-cased) for edge values and for random documents. The App tests hold every
/// answer of the server to the same reference while they run (`AppFixture.referenceJSONCheck`).
@Suite("JSON writer")
struct JSONWriterTests {
    func expectSame<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = String(decoding: try JSONCoding.encode(value), as: UTF8.self)
        let expected = String(decoding: try ReferenceJSON.encode(value), as: UTF8.self)
        #expect(written == expected, sourceLocation: sourceLocation)
    }

    struct Scalars: Encodable {
        var text = "plain"
        var int = 0
        var int8: Int8 = 0
        var int16: Int16 = 0
        var int32: Int32 = 0
        var int64: Int64 = 0
        var uint: UInt = 0
        var uint8: UInt8 = 0
        var uint16: UInt16 = 0
        var uint32: UInt32 = 0
        var uint64: UInt64 = 0
        var double = 0.0
        var float: Float = 0
        var flag = false
        var optional: String? = nil
        var explicitNull: Int? = nil
        var date = Date(timeIntervalSince1970: 0)
        var id = UUID()
        var ids: [UUID] = []
        var data = Data()
        var url = URL(string: "https://example.org/a/b?c=d&e=f#g")!
        var decimal = Decimal(string: "12.50")!

        enum CodingKeys: String, CodingKey {
            case text, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, double, float, flag, optional
            case explicitNull = "explicit_null", date, id, ids, data, url, decimal
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(int, forKey: .int)
            try c.encode(int8, forKey: .int8)
            try c.encode(int16, forKey: .int16)
            try c.encode(int32, forKey: .int32)
            try c.encode(int64, forKey: .int64)
            try c.encode(uint, forKey: .uint)
            try c.encode(uint8, forKey: .uint8)
            try c.encode(uint16, forKey: .uint16)
            try c.encode(uint32, forKey: .uint32)
            try c.encode(uint64, forKey: .uint64)
            try c.encode(double, forKey: .double)
            try c.encode(float, forKey: .float)
            try c.encode(flag, forKey: .flag)
            try c.encodeIfPresent(optional, forKey: .optional)
            try c.encode(explicitNull, forKey: .explicitNull)
            try c.encode(date, forKey: .date)
            try c.encode(id, forKey: .id)
            try c.encode(ids, forKey: .ids)
            try c.encode(data, forKey: .data)
            try c.encode(url, forKey: .url)
            try c.encode(decimal, forKey: .decimal)
        }
    }

    static let awkwardStrings: [String] = [
        "", " ", "/", "a/b//c", "\"", "\\", "\"\\\"", "\u{0}", "\u{1}\u{7}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{e}\u{f}",
        "\u{10}\u{1b}\u{1f}", "\u{7f}", "\u{80}", "\u{2028}\u{2029}", "ä ö ü ß Ä", "e\u{301}", "é", "😀👩‍👩‍👧", "日本語", "\u{feff}x",
        "tab\there", "line\nbreak\r\n", "</script>", "{\"json\":[1,2]}", String(repeating: "x", count: 5000),
        "12345678-ABCD-ABCD-ABCD-1234567890AB",
    ]

    @Test func writesEveryScalarAsJSONEncoder_atTheirLimits() throws {
        try expectSame(Scalars())
        try expectSame(Scalars(int: .max, int8: .max, int16: .max, int32: .max, int64: .max, uint: .max, uint8: .max, uint16: .max,
                               uint32: .max, uint64: .max, double: .greatestFiniteMagnitude, float: .greatestFiniteMagnitude, flag: true,
                               optional: "x", explicitNull: 3, ids: [UUID(), UUID()], data: Data([0, 1, 2, 250, 255])))
        try expectSame(Scalars(int: .min, int8: .min, int16: .min, int32: .min, int64: .min, double: -.leastNonzeroMagnitude,
                               float: -.leastNormalMagnitude, decimal: Decimal(string: "-0.000001")!))
        for double in [0.1, -0.0, 1.5, 1e20, 1e21, 1e-7, 123456789012345680, .pi, -123.456, 1e300, .leastNonzeroMagnitude, 100, 1_000_000] {
            try expectSame(Scalars(double: double, float: Float(double).isFinite ? Float(double) : -1.25))
        }
        for text in Self.awkwardStrings {
            try expectSame(Scalars(text: text, optional: text, url: URL(string: "file:///" + text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)!))
        }
    }

    @Test func writesDatesAsJSONEncoder_acrossCenturiesAndFractions() throws {
        var random = SplitMix(seed: 20261130)
        var dates: [Date] = [.distantPast, .distantFuture, Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: -0.5),
                             Date(timeIntervalSince1970: 0.999_999_9), Date(timeIntervalSince1970: 1_764_460_800.999_999_99),
                             Date(timeIntervalSince1970: 951_782_400), Date(timeIntervalSince1970: 253_402_300_799.5),
                             Date(timeIntervalSince1970: 253_402_300_800), Date(timeIntervalSinceReferenceDate: 0), Date()]
        for _ in 0..<3_000 {
            let seconds = Double(random.next() % 8_000_000_000) - 2_000_000_000
            let fraction = [0, 0.5, 0.999, 0.9999, 0.123_456_789, Double(random.next() % 1_000_000) / 1_000_000][Int(random.next() % 6)]
            dates.append(Date(timeIntervalSince1970: seconds + fraction))
        }
        for date in dates {
            try expectSame(date)
            try expectSame(["at": date])
        }
    }

    struct Nested: Encodable {
        var empty: [Int] = []
        var emptyObject: [String: Int] = [:]
        var matrix: [[Int]] = [[], [1], [2, 3]]
        var deep: [[[String: [UUID?]]]] = [[["b": [nil, UUID()], "a": []]], []]
        var byNumber: [Int: String] = [10: "ten", 2: "two", -1: "minus one"]
        var byText: [String: String] = ["b": "1", "a": "2", "B": "3", "ä": "4", "a10": "5", "a2": "6", "": "7", "\"": "8", "e\u{301}": "9"]
        var maybe: [Nested]? = nil
        var state: State = .readyInBox
        enum State: String, Encodable { case readyInBox = "ready_in_box" }
    }

    @Test func writesContainersAsJSONEncoder_emptyNestedAndKeyedByAnything() throws {
        try expectSame(Nested())
        try expectSame(Nested(maybe: [Nested()]))
        try expectSame([Nested(), Nested(empty: [1], emptyObject: ["x": 1])])
        try expectSame([UUID(): "keyed by an id", UUID(): "another"])
        try expectSame([[String]]())
        try expectSame([String: [Int]]())
        // Top-level fragments.
        try expectSame("a/\"b\"")
        try expectSame(42)
        try expectSame(Optional<Int>.none)
        try expectSame(true)
        try expectSame(UUID())
    }

    /// Codable written by hand: a key twice, canonically equal keys, an empty value, nested and super containers.
    struct HandWritten: Encodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        let ids = [UUID(), UUID(), UUID()]

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(1, forKey: Key("twice"))
            try c.encode("second", forKey: Key("twice"))
            try c.encode("composed", forKey: Key("\u{e9}"))
            try c.encode("decomposed", forKey: Key("e\u{301}"))
            try c.encode(Nothing(), forKey: Key("nothing"))
            var nested = c.nestedContainer(keyedBy: Key.self, forKey: Key("nested"))
            try nested.encode(ids[0], forKey: Key("id"))
            var again = c.nestedContainer(keyedBy: Key.self, forKey: Key("nested"))
            try again.encode(true, forKey: Key("again"))
            var list = c.nestedUnkeyedContainer(forKey: Key("list"))
            try list.encode(1)
            try list.encode(Nothing())
            var inner = list.nestedContainer(keyedBy: Key.self)
            try inner.encodeNil(forKey: Key("z"))
            var innerList = list.nestedUnkeyedContainer()
            try innerList.encode(ids[1])
            try list.encode(Date(timeIntervalSince1970: 86_400 * 365.25 * 30))
            try 7.encode(to: c.superEncoder())
            try "parent".encode(to: c.superEncoder(forKey: Key("base")))
            let superOfList = list.superEncoder()
            var superContainer = superOfList.container(keyedBy: Key.self)
            try superContainer.encode(ids[2], forKey: Key("in super"))
            _ = c.superEncoder(forKey: Key("empty super"))
        }
    }

    @Test func writesHandWrittenCodableAsJSONEncoder() throws {
        try expectSame(HandWritten())
        try expectSame([HandWritten(), HandWritten()])
    }

    /// The installed check is called as often as the server answers: calling it must not cost stack that
    /// grows with the number of calls (a closure kept in the `Mutex` itself gained a pair of thunks per
    /// call and overflowed a worker's 1 MiB stack after some 12,000 answers). 50,000 answers on a thread
    /// with 512 KiB of stack; the check installed is the App tests' own, so they keep theirs.
    @Test func theReferenceCheck_costsTheSameStackOnTheLastCallAsOnTheFirst() throws {
        ReferenceJSON.installCheck()
        let before = ReferenceJSON.checked.load(ordering: .relaxed)
        let done = Atomic<Int>(0)
        let thread = Thread {
            for i in 0..<50_000 where (try? JSONCoding.encode([i])) != nil { done.add(1, ordering: .relaxed) }
        }
        thread.stackSize = 512 << 10
        thread.start()
        let deadline = Date().addingTimeInterval(120)
        while done.load(ordering: .relaxed) < 50_000 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(done.load(ordering: .relaxed) == 50_000)
        #expect(ReferenceJSON.checked.load(ordering: .relaxed) - before >= 50_000)
    }

    @Test func refusesWhatJSONEncoderRefuses() {
        struct Number: Encodable { var value: Double }
        for bad in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try JSONCoding.encode(Number(value: bad)) }
            #expect(throws: EncodingError.self) { try ReferenceJSON.encode(Number(value: bad)) }
        }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        #expect(throws: EncodingError.self) { try JSONCoding.encode(Nothing()) }
        #expect(throws: EncodingError.self) { try ReferenceJSON.encode(Nothing()) }
        indirect enum Deep: Encodable {
            case leaf, node(Deep)
            func encode(to encoder: any Encoder) throws {
                var c = encoder.unkeyedContainer()
                if case .node(let inner) = self { try c.encode(inner) }
            }
        }
        func deep(_ n: Int) -> Deep { (0..<n).reduce(Deep.leaf) { inner, _ in .node(inner) } }
        #expect(throws: Never.self) { try expectSame(deep(510)) }
        #expect(throws: EncodingError.self) { try JSONCoding.encode(deep(511)) }
        #expect(throws: EncodingError.self) { try ReferenceJSON.encode(deep(511)) }
    }

    /// A random JSON document built through the Codable containers: objects, arrays, and every scalar kind.
    struct RandomDocument: Encodable {
        let seed: UInt64
        let depth: Int

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var random = SplitMix(seed: seed)
            switch depth > 3 ? 2 : random.next() % 3 {
            case 0:
                var c = encoder.container(keyedBy: Key.self)
                for _ in 0..<(random.next() % 6) {
                    let key = Key(random.string())
                    switch random.next() % 8 {
                    case 0: try c.encode(RandomDocument(seed: random.next(), depth: depth + 1), forKey: key)
                    case 1: try c.encodeNil(forKey: key)
                    case 2: try c.encode(random.string(), forKey: key)
                    case 3: try c.encode(Int64(bitPattern: random.next()), forKey: key)
                    case 4: try c.encode(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF), forKey: key)
                    case 5: try c.encode(random.uuid(), forKey: key)
                    case 6: try c.encode(Date(timeIntervalSince1970: Double(random.next() % 4_000_000_000)), forKey: key)
                    default: try c.encodeIfPresent(random.next() % 2 == 0 ? nil : random.next() % 2 == 0, forKey: key)
                    }
                }
            case 1:
                var c = encoder.unkeyedContainer()
                for _ in 0..<(random.next() % 6) {
                    switch random.next() % 4 {
                    case 0: try c.encode(RandomDocument(seed: random.next(), depth: depth + 1))
                    case 1: try c.encode(random.string())
                    case 2: try c.encode(Int(truncatingIfNeeded: random.next()) >> Int(random.next() % 64))
                    default: try c.encode(random.uuid())
                    }
                }
            default:
                var c = encoder.singleValueContainer()
                switch random.next() % 5 {
                case 0: try c.encode(random.string())
                case 1: try c.encode(Float(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x7F7F_FFFF))
                case 2: try c.encodeNil()
                case 3: try c.encode(UInt64(random.next() % 100_000))
                default: try c.encode(random.next() % 2 == 0)
                }
            }
        }
    }

    @Test func writesRandomDocumentsAsJSONEncoder() throws {
        var random = SplitMix(seed: 13)
        for _ in 0..<2_000 {
            try expectSame(RandomDocument(seed: random.next(), depth: 0))
        }
    }

    /// The same fields as `JSONObjectWriter` writes in ``objectWriter_writesWhatEncodeWrites``, sorted.
    struct Fields: Encodable {
        var id: UUID
        var names: [String]
        var numbers: [Int]
        var when: Date
    }

    @Test func objectWriter_writesWhatEncodeWrites() throws {
        var random = SplitMix(seed: 0x0B1E_C7)
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_796_000_000.25), Date(timeIntervalSince1970: 1_796_000_000.999_9999),
                     Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: 253_402_300_800), .distantPast, .distantFuture]
        let integers = [0, 1, -1, 42, Int.max, Int.min]
        for round in 0..<500 {
            let fields = Fields(id: random.uuid(), names: (0..<(round % 4)).map { _ in random.string() },
                                numbers: [integers[round % integers.count]] + (0..<(round % 3)).map { _ in integers[Int(random.next() % UInt64(integers.count))] },
                                when: dates[round % dates.count])
            var object = JSONObjectWriter(capacity: 8)
            object.field("id", fields.id)
            object.field("names", strings: fields.names)
            object.field("numbers", integers: fields.numbers)
            object.field("when", fields.when)
            #expect(String(decoding: object.bytes(), as: UTF8.self) == String(decoding: try JSONCoding.encode(fields), as: UTF8.self))
            try expectSame(fields)
        }
        #expect(JSONObjectWriter().bytes() == Array("{}".utf8))
    }
}

/// A seeded generator (SplitMix64), so that a failing document can be found again.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uuid() -> UUID {
        let (a, b) = (next(), next())
        return withUnsafeBytes(of: (a, b)) { UUID(uuid: $0.load(as: uuid_t.self)) }
    }

    /// Up to 12 characters from a set with escapes, non-ASCII and canonically equal spellings.
    mutating func string() -> String {
        let alphabet: [String] = ["a", "b", "Z", "0", "/", "\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{7f}", "é", "e\u{301}", "ß", "😀", "\u{2028}", " ", "_"]
        return (0..<(next() % 13)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }.joined()
    }
}
