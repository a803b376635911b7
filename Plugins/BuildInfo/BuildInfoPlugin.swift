import Foundation
import PackagePlugin

/// Writes `GeneratedBuildInfo.swift` (the commit and the migration level) into the target before every
/// build, so `pickupbox version` names the commit it was built from without a manual step.
///
/// Why a plugin: the manifest (`Package.swift`) is evaluated once and cached until it changes, so a
/// commit read there goes stale after the next `git commit`; a prebuild command runs on every build.
/// The file is rewritten only when its text changes, so an unchanged commit recompiles nothing.
/// `PICKUPBOX_COMMIT` in the environment wins (a build without `.git`, e.g. from a source tarball);
/// without it and without git the commit is `unknown`.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let environment = ProcessInfo.processInfo.environment
        return [
            .prebuildCommand(
                displayName: "pickupbox build info (commit, migration level)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", Self.script, "build-info", context.package.directoryURL.path, output.path],
                environment: [
                    "PATH": environment["PATH"] ?? "/usr/bin:/bin",
                    "PICKUPBOX_COMMIT": environment["PICKUPBOX_COMMIT"] ?? "",
                ],
                outputFilesDirectory: output
            ),
        ]
    }

    /// $1: the package root, $2: the output directory.
    static let script = #"""
        set -u
        root=$1; out=$2
        mkdir -p "$out"
        commit=${PICKUPBOX_COMMIT:-}
        modified=false
        if [ -z "$commit" ]; then
          commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || commit=unknown
          if [ "$commit" != unknown ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then modified=true; fi
        fi
        case "$commit" in *[!0-9a-zA-Z._-]*|'') commit=unknown ;; esac
        level=$(ls "$root/Migrations" 2>/dev/null | grep -E '^[0-9]{4}_[a-z0-9_]+\.sql$' | sort | tail -n 1 | cut -c1-4 | sed 's/^0*//')
        new="// Generated before every build by Plugins/BuildInfo; not in git.
        enum GeneratedBuildInfo {
            static let commit = \"$commit\"
            static let modified = $modified
            static let migrationLevel = ${level:-0}
        }"
        file="$out/GeneratedBuildInfo.swift"
        [ -f "$file" ] && [ "$(cat "$file")" = "$new" ] || printf '%s\n' "$new" > "$file"
        """#
}
