import CQREncode

/// A QR code (ISO/IEC 18004) made by libqrencode, drawn as SVG: the letter's link to the status page.
struct QRCode: Sendable {
    /// Modules per side.
    let width: Int
    /// Dark modules, row by row.
    let dark: [Bool]

    struct EncodingFailed: Error {}

    /// Byte mode, error correction level M (15 %: survives a fold or a stain on a printed letter).
    init(_ text: String) throws {
        guard let code = text.withCString({ QRcode_encodeString8bit($0, 0, QR_ECLEVEL_M) }) else { throw EncodingFailed() }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module's colour (qrencode.h); the other bits describe its role.
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.width = width
        self.dark = data.map { $0 & 1 == 1 }
    }

    /// SVG with a 4-module quiet zone, one path of horizontal runs, crisp edges; `title` names it for screen readers.
    func svg(title: String) -> String {
        let quiet = 4
        let size = width + 2 * quiet
        var path = ""
        path.reserveCapacity(width * width * 2)
        for row in 0..<width {
            var column = 0
            while column < width {
                guard dark[row * width + column] else { column += 1; continue }
                let start = column
                while column < width && dark[row * width + column] { column += 1 }
                path += "M\(start + quiet) \(row + quiet)h\(column - start)v1h-\(column - start)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(size) \(size)" width="\(size * 8)" height="\(size * 8)" shape-rendering="crispEdges" role="img">\
            <title>\(HTML.escape(title))</title><rect width="\(size)" height="\(size)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}
