/// What the running binary is, as `pickupbox version` prints it and `/metrics` shows it
/// (`pickupbox_build_info`). The executable fills it in from its build; tests keep the default.
public struct BuildDescription: Sendable, Equatable {
    public var version: String
    /// The git commit, `-modified` appended when the tree had uncommitted changes; `unknown` without git.
    public var commit: String
    /// The newest migration the binary was built with.
    public var migrationLevel: Int

    public init(version: String = "dev", commit: String = "unknown", migrationLevel: Int = 0) {
        self.version = version
        self.commit = commit
        self.migrationLevel = migrationLevel
    }
}
