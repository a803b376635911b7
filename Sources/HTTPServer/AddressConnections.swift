#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Open connections per client address, shared by all event loops, for the per-address limit.
/// IPv6 clients count per /64: one host usually has a whole /64, so counting single addresses would not limit it.
final class AddressConnections: Sendable {
    private let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection under `key`; false (and nothing counted) when the key is at its limit.
    func admit(_ key: String) -> Bool {
        counts.withLock { counts in
            let current = counts[key, default: 0]
            guard current < limit else { return false }
            counts[key] = current + 1
            return true
        }
    }

    /// Uncounts a closed connection.
    func release(_ key: String) {
        counts.withLock { counts in
            guard let current = counts[key] else { return }
            if current <= 1 { counts[key] = nil } else { counts[key] = current - 1 }
        }
    }

    /// The key of a peer: the IPv4 address (also when IPv4-mapped), or the IPv6 /64 prefix.
    static func key(_ storage: inout sockaddr_storage, formatted: String) -> String {
        guard Int32(storage.ss_family) == AF_INET6, formatted.contains(":") else { return formatted }
        return withUnsafeBytes(of: &storage) { raw in
            let address = raw.load(as: sockaddr_in6.self).sin6_addr
            return withUnsafeBytes(of: address) { bytes in
                bytes.prefix(8).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined() + "::/64"
            }
        }
    }
}
