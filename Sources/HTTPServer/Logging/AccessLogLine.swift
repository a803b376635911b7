/// One access-log line per answered request, built on the event loop into a reused buffer and handed to
/// the `LogSink`'s writer thread: about a microsecond, and never a system call on the loop.
///
/// The line names the route pattern, never the path or query (which may carry a Vorgangsnummer, a
/// phone number or a token), and no header but the request id.
public struct AccessLogLine {
    private var line = LogLineBuilder()

    public init() {}

    public mutating func write(
        format: LogFormat, instance: String, method: HTTPMethod, route: String, status: Int,
        durationNanoseconds: UInt64, requestID: String, to sink: LogSink, lane: LogSink.Lane
    ) {
        line.reset()
        switch format {
        case .json:
            line.append("{\"time\":\"")
            line.appendTimestamp()
            line.append("\",\"level\":\"info\",\"message\":\"request\",\"instance\":")
            line.appendJSONString(instance)
            line.append(",\"request.id\":")
            line.appendJSONString(requestID)
            line.append(",\"http.method\":\"")
            line.append(method.rawValue)
            line.append("\",\"http.route\":")
            line.appendJSONString(route)
            line.append(",\"http.status\":")
            line.appendDecimal(status)
            line.append(",\"http.duration_ms\":")
            line.appendMilliseconds(nanoseconds: durationNanoseconds)
            line.append("}\n")
        case .text:
            line.appendTimestamp()
            line.append(" info pickupbox : http.duration_ms=")
            line.appendMilliseconds(nanoseconds: durationNanoseconds)
            line.append(" http.method=")
            line.append(method.rawValue)
            line.append(" http.route=")
            line.appendTextValue(route)
            line.append(" http.status=")
            line.appendDecimal(status)
            line.append(" instance=")
            line.appendTextValue(instance)
            line.append(" request.id=")
            line.appendTextValue(requestID)
            line.append(" [HTTPServer] request\n")
        }
        line.bytes.withUnsafeBytes { sink.append($0, lane: lane) }
    }
}
