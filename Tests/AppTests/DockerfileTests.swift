import Foundation
import Testing

/// No container engine runs on these machines, so the Dockerfile is kept honest by reading it against
/// what the package really links: the build stage's `apt-get install` list against Package.swift's
/// system libraries (their apt providers and the owners of their pkg-config files), the runtime stage's
/// list against the shared libraries of the binary (`ldd`).
@Suite("Dockerfile against Package.swift and ldd")
struct DockerfileTests {
    /// Packages of `debian:bookworm-slim` itself (the runtime stage's base): the C and C++ runtime.
    static let baseImage: Set<String> = ["libc6", "libgcc-s1", "libstdc++6"]

    struct Stages {
        var build: Set<String> = []
        var runtime: Set<String> = []
        var runtimeInstructions: [String] = []
    }

    /// The two stages' `apt-get install` lists (continuation lines joined, flags and `&&` tails dropped).
    static func parseDockerfile() throws -> Stages {
        let text = try String(contentsOfFile: packageRoot + "/Dockerfile", encoding: .utf8)
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        var stages = Stages()
        var stage = 0
        for line in joined.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.hasPrefix("#") {
            if line.hasPrefix("FROM ") { stage += 1; continue }
            if stage == 2 { stages.runtimeInstructions.append(line) }
            guard line.hasPrefix("RUN "), let install = line.range(of: "apt-get install") else { continue }
            let tail = line[install.upperBound...]
            let list = tail.components(separatedBy: "&&")[0].split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") && !$0.isEmpty }
            if stage == 1 { stages.build.formUnion(list) } else { stages.runtime.formUnion(list) }
        }
        return stages
    }

    /// `(pkgConfig, apt providers)` of every `.systemLibrary` target in Package.swift.
    static func systemLibraries() throws -> [(pkgConfig: String, apt: [String])] {
        let manifest = try String(contentsOfFile: packageRoot + "/Package.swift", encoding: .utf8)
        return manifest.split(separator: "\n").filter { $0.contains(".systemLibrary(") }.compactMap { line in
            guard let pc = line.firstMatch(of: /pkgConfig: "([^"]+)"/)?.1 else { return nil }
            let apt = line.firstMatch(of: /\.apt\(\[([^\]]*)\]\)/).map { String($0.1).split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) } } ?? []
            return (String(pc), apt)
        }
    }

    static func shell(_ command: String) -> String { BinaryTests.shell(command) }

    /// The Debian package that owns `path` (merged /usr: the file may be registered under either name).
    static func owner(of path: String) -> String? {
        let real = shell("readlink -f '\(path)'")
        for candidate in [path, real, "/usr" + path, real.hasPrefix("/usr/") ? String(real.dropFirst(4)) : real] {
            let out = shell("dpkg -S '\(candidate)' 2>/dev/null | head -n 1")
            if let colon = out.range(of: ": ") {
                return String(out[..<colon.lowerBound].split(separator: ":")[0])
            }
        }
        return nil
    }

    /// Installed packages reachable from `roots` through Depends and Pre-Depends (all alternatives).
    static func dependencyClosure(_ roots: Set<String>) -> Set<String> {
        var seen = roots
        var queue = Array(roots)
        while let next = queue.popLast() {
            let fields = shell("dpkg-query -W -f='${Depends},${Pre-Depends}' '\(next)' 2>/dev/null")
            for alternative in fields.split(whereSeparator: { $0 == "," || $0 == "|" }) {
                let name = alternative.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map { String($0.split(separator: ":")[0]) } ?? ""
                if !name.isEmpty, seen.insert(name).inserted { queue.append(name) }
            }
        }
        return seen
    }

    @Test func buildStage_installsTheDevPackageOfEverySystemLibrary() throws {
        let stages = try Self.parseDockerfile()
        let libraries = try Self.systemLibraries()
        #expect(libraries.count >= 6, "\(libraries)")
        for library in libraries {
            for provider in library.apt {
                #expect(stages.build.contains(provider), "Package.swift names \(provider) for \(library.pkgConfig); the build stage does not install it")
            }
            // The package that really ships the .pc file pkg-config reads.
            let directory = Self.shell("pkg-config --variable=pcfiledir \(library.pkgConfig)")
            let owner = Self.owner(of: directory + "/\(library.pkgConfig).pc")
            #expect(owner.map(stages.build.contains) == true, "\(library.pkgConfig).pc belongs to \(owner ?? "no package"), not in the build stage's list")
        }
    }

    @Test func runtimeStage_installsTheLibraryPackageOfEveryDevPackage() throws {
        let stages = try Self.parseDockerfile()
        for library in try Self.systemLibraries() {
            // -lpq → libpq.so (from the -dev package) → libpq.so.5.x → libpq5.
            let names = Self.shell("pkg-config --libs-only-l \(library.pkgConfig)").split(separator: " ").map { String($0.dropFirst(2)) }
            #expect(!names.isEmpty, "pkg-config knows no libraries of \(library.pkgConfig)")
            // -lrt, -ldl (libargon2.pc): parts of glibc, which the base image has.
            for name in names where !["c", "m", "rt", "dl", "pthread"].contains(name) {
                let link = Self.shell("for d in $(pkg-config --variable=libdir \(library.pkgConfig)) /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib; do [ -e \"$d/lib\(name).so\" ] && { echo \"$d/lib\(name).so\"; break; }; done")
                #expect(!link.isEmpty, "no lib\(name).so for \(library.pkgConfig)")
                let owner = Self.owner(of: Self.shell("readlink -f '\(link)'"))
                #expect(owner.map(stages.runtime.contains) == true, "lib\(name) is in \(owner ?? "no package"), not in the runtime stage's list \(stages.runtime.sorted())")
            }
        }
    }

    /// The release binary when it was built (`swift build -c release --static-swift-stdlib`, as the image
    /// does), else the debug one; the Swift runtime's own libraries are skipped (static in the image).
    @Test func runtimeStage_providesEveryLibraryTheBinaryLinks() throws {
        let stages = try Self.parseDockerfile()
        let release = packageRoot + "/.build/release/pickupbox"
        let binary = ProcessInfo.processInfo.environment["PICKUPBOX_RELEASE_BINARY"]
            ?? (FileManager.default.isExecutableFile(atPath: release) ? release : CommandLineTests.executable)
        let toolchain = Self.shell("dirname \"$(dirname \"$(readlink -f \"$(command -v swift)\")\")\"")
        let needed = Set(Self.shell("readelf -d '\(binary)' | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'").split(separator: "\n").map(String.init))
        #expect(needed.contains { $0.hasPrefix("libpq.so") }, "readelf found no libpq in \(binary)")
        let closure = Self.dependencyClosure(stages.runtime.union(Self.baseImage))
        var checked = 0
        for line in Self.shell("ldd '\(binary)'").split(separator: "\n") {
            let parts = line.trimmingCharacters(in: .whitespaces).components(separatedBy: " => ")
            guard parts.count == 2, let path = parts[1].split(separator: " ").first.map(String.init), path.hasPrefix("/") else { continue }
            if !toolchain.isEmpty && toolchain != "/" && path.hasPrefix(toolchain) { continue }  // the Swift runtime: static in the image
            let owner = try #require(Self.owner(of: path), "no Debian package owns \(path) (\(parts[0]))")
            if needed.contains(parts[0]) {
                // Linked directly: named in the runtime stage (or part of the base image).
                #expect(stages.runtime.contains(owner) || Self.baseImage.contains(owner), "\(binary) links \(parts[0]) from \(owner), which the runtime stage does not install")
            } else {
                // Loaded by one of those: apt brings it as a dependency.
                #expect(closure.contains(owner), "\(parts[0]) (\(owner)) is not a dependency of the runtime stage's packages")
            }
            checked += 1
        }
        #expect(checked >= 8)
    }

    @Test func image_checksItsHealthWithTheBinary_andShipsMigrationsWebFilesAndThePlugin() throws {
        let stages = try Self.parseDockerfile()
        let text = try String(contentsOfFile: packageRoot + "/Dockerfile", encoding: .utf8)
        let health = try #require(stages.runtimeInstructions.first { $0.hasPrefix("HEALTHCHECK") })
        #expect(health.contains(#"CMD ["pickupbox", "healthcheck"]"#), "\(health)")
        #expect(!health.contains("/bin/sh") && !health.contains("/dev/tcp"))
        #expect(text.contains("COPY Plugins ./Plugins"))
        #expect(text.contains("COPY Migrations /usr/local/share/pickupbox/Migrations"))
        #expect(text.contains("pickupbox_App.resources /usr/local/bin/pickupbox_App.resources"))
    }
}
