import Logging

/// The swift-log handler of the server and the command line: one line per message into a `LogSink`,
/// as text (`2026-11-30T02:05:07.123Z info pickupbox : key=value … [Module] message`) or as one JSON
/// object (`{"time":…,"level":…,"message":…,"instance":…, "<metadata key>":…}`). Critical lines are
/// flushed at once. Values are written as given: callers never put personal data into metadata.
public struct SinkLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let instance: String
    private let sink: LogSink

    public init(label: String, format: LogFormat, instance: String, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.instance = instance
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let given = event.metadata { all.merge(given) { _, new in new } }
        var line = LogLineBuilder()
        switch format {
        case .json:
            line.append("{\"time\":\"")
            line.appendTimestamp()
            line.append("\",\"level\":")
            line.appendJSONString(event.level.rawValue)
            line.append(",\"message\":")
            line.appendJSONString(event.message.description)
            line.append(",\"instance\":")
            line.appendJSONString(instance)
            line.append(",\"logger\":")
            line.appendJSONString(label)
            for key in all.keys.sorted() where key != "instance" {
                line.append(byte: UInt8(ascii: ","))
                line.appendJSONString(key)
                line.append(byte: UInt8(ascii: ":"))
                line.appendJSONString(Self.flatten(all[key]!))
            }
            line.append("}\n")
        case .text:
            line.appendTimestamp()
            line.append(byte: UInt8(ascii: " "))
            line.append(event.level.rawValue)
            line.append(byte: UInt8(ascii: " "))
            line.append(label)
            line.append(" :")
            for key in all.keys.sorted() {
                line.append(byte: UInt8(ascii: " "))
                line.appendTextValue(key)
                line.append(byte: UInt8(ascii: "="))
                line.appendTextValue(Self.flatten(all[key]!))
            }
            line.append(" [")
            line.append(event.source)
            line.append("] ")
            line.appendTextValue(event.message.description)
            line.append(byte: UInt8(ascii: "\n"))
        }
        sink.append(line.bytes)
        // Critical lines (the process may be about to end) are written before returning; the rest within ~20 ms.
        if event.level >= .critical { sink.flush() }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map(flatten).joined(separator: ", ") + "]"
        case .dictionary(let d): "[" + d.keys.sorted().map { "\($0): \(flatten(d[$0]!))" }.joined(separator: ", ") + "]"
        }
    }
}
