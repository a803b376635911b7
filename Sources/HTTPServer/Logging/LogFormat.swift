/// How log lines look: `text` for a terminal (the default), `json` for a log collector (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
