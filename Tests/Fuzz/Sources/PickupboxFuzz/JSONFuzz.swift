@testable import App
import HTTPServer

/// The strict JSON decoder with the request bodies of two routes (registration, with nested Domain
/// values decoded later; a delivery with a list of items): any bytes either decode or are refused with
/// a 400 naming a code — never a trap, never another error.
enum JSONFuzz {
    static func run(_ bytes: [UInt8]) {
        check { try JSONCoding.decode(ApplicationDTO.Create.self, from: bytes) }
        check { try JSONCoding.decode(DeliveryHandlers.Create.self, from: bytes) }
        // The tree parser alone, with a small depth limit, too.
        _ = try? JSONValue.parse(bytes, maxDepth: 4)
    }

    static func check<T>(_ decode: () throws -> T) {
        do {
            _ = try decode()
        } catch let error as HTTPError {
            precondition(error.status.code == 400, "a refused body is a 400: \(error.status.code)")
        } catch {
            preconditionFailure("the strict decoder threw something other than HTTPError: \(type(of: error))")
        }
    }
}
