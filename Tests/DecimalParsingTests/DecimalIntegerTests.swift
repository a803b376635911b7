import DecimalParsing
import Testing

@Suite("Decimal integers: the one parser")
struct DecimalIntegerTests {
    @Test func parsesDigits_withLeadingZeros() {
        #expect(Int(decimal: "0") == 0)
        #expect(Int(decimal: "42") == 42)
        #expect(Int(decimal: "007") == 7)
        #expect(Int(decimal: "0000000000000000000000000001") == 1)
        #expect(Int(decimal: Array("123".utf8)) == 123)
        #expect(Int(decimal: Array("x123".utf8).dropFirst()) == 123)
    }

    @Test func rejectsEmpty_andAnythingButASCIIDigits() {
        for text in ["", " ", " 1", "1 ", "1_000", "1.0", "1e3", "0x10", "abc", "١٢", "１２", "12\u{0}", "+", "-"] {
            #expect(Int(decimal: text) == nil, "\(text)")
        }
        // Every byte that is not a digit, at the front and after a digit.
        for byte in UInt8.min...UInt8.max where !(0x30...0x39).contains(byte) {
            #expect(Int(decimal: [byte]) == nil)
            #expect(Int(decimal: [0x31, byte]) == nil)
        }
    }

    @Test func sign_onlyWhenAllowed() {
        #expect(Int(decimal: "-5") == nil)
        #expect(Int(decimal: "+5") == nil)
        #expect(Int(decimal: "-5", allowingSign: true) == -5)
        #expect(Int(decimal: "+5", allowingSign: true) == 5)
        #expect(Int(decimal: "-0", allowingSign: true) == 0)
        #expect(Int(decimal: "--5", allowingSign: true) == nil)
        #expect(Int(decimal: "+-5", allowingSign: true) == nil)
        #expect(Int(decimal: "5-", allowingSign: true) == nil)
        #expect(UInt16(decimal: "-1", allowingSign: true) == nil)
        #expect(UInt16(decimal: "-0", allowingSign: true) == 0)
    }

    @Test func edgesOfEachType_andOverflowIsNil() {
        #expect(Int64(decimal: "9223372036854775807") == Int64.max)
        #expect(Int64(decimal: "9223372036854775808") == nil)
        #expect(Int64(decimal: "-9223372036854775808", allowingSign: true) == Int64.min)
        #expect(Int64(decimal: "-9223372036854775809", allowingSign: true) == nil)
        #expect(Int32(decimal: "2147483647") == Int32.max)
        #expect(Int32(decimal: "2147483648") == nil)
        #expect(Int32(decimal: "-2147483648", allowingSign: true) == Int32.min)
        #expect(Int32(decimal: "-2147483649", allowingSign: true) == nil)
        #expect(UInt16(decimal: "65535") == 65535)
        #expect(UInt16(decimal: "65536") == nil)
        #expect(UInt64(decimal: "18446744073709551615") == UInt64.max)
        #expect(UInt64(decimal: "18446744073709551616") == nil)
        #expect(Int(decimal: "99999999999999999999999999999999999999") == nil)
        #expect(Int(decimal: String(repeating: "9", count: 100_000)) == nil)
    }
}
