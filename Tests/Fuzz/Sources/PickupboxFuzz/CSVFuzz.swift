@testable import App
import HTTPServer

/// The CSV delivery note (`POST /deliveries/import`): any body either yields at most the allowed number
/// of items, each with the document column's text, or a 4xx `AppError` (or an invalid `ServiceError` from a
/// field check) — never a trap.
enum CSVFuzz {
    static func run(_ bytes: [UInt8]) {
        let request = Request(method: .POST, target: "/api/v1/deliveries/import?deliveryNoteNumber=F", headers: ["Content-Type": "text/csv; charset=utf-8"], body: bytes)
        do {
            let items = try DeliveryCSV.parse(request)
            precondition(items.count <= DeliveryHandlers.maxItems, "more items than allowed")
            for item in items {
                precondition(!item.documentNumber.hasPrefix(" ") && !item.documentNumber.hasSuffix(" "), "fields are trimmed")
                precondition(item.vorgangsnummer?.isEmpty != true, "an empty Vorgangsnummer is nil")
            }
        } catch let error as AppError {
            precondition((400..<500).contains(error.status.code), "a refused note is a 4xx: \(error.status.code)")
        } catch let error as ServiceError {
            precondition(error.kind == .invalid, "a refused note is invalid input: \(error.code)")
        } catch {
            preconditionFailure("the CSV parser threw something other than AppError or ServiceError: \(type(of: error))")
        }
    }
}
