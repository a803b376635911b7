#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's driver (PLATFORM-NOTES "libFuzzer with SwiftPM"): SwiftPM renames an executable's entry
// point, so libFuzzer's own `main` never runs; ours hands argv to its driver instead.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The fuzz targets (docs/ARCHITECTURE.md#faults), chosen with `FUZZ_TARGET`; each checks its own properties and traps
/// (which libFuzzer reports as a crash, with the input) when one does not hold.
enum FuzzTarget: String, CaseIterable {
    case http, json, csv, domain

    static let selected: FuzzTarget = {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
            let message = Array("FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8)
            _ = write(2, message, message.count)
            exit(2)
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .http: HTTPParserFuzz.run(bytes)
        case .json: JSONFuzz.run(bytes)
        case .csv: CSVFuzz.run(bytes)
        case .domain: DomainFuzz.run(bytes)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    FuzzTarget.selected.run(bytes)
    return 0
}

@main
struct PickupboxFuzz {
    static func main() {
        _ = FuzzTarget.selected
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in LLVMFuzzerTestOneInput(data, count) })
    }
}
