#if canImport(Glibc)
import DecimalParsing
import Domain
import Glibc
#endif
import Foundation
import HTTPServer

/// Networks of reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`). Behind nginx,
/// every connection comes from the proxy; without this, login throttling and the status rate limit
/// would treat all citizens and staff as one address, and the audit log would name the proxy.
public struct TrustedProxies: Sendable {
    struct Network: Sendable {
        let bytes: [UInt8]
        let prefixLength: Int
    }

    let networks: [Network]

    public static let none = TrustedProxies(networks: [])

    /// "10.0.0.0/8, 172.16.0.0/12, ::1" → networks; nil if any entry is malformed.
    public static func parse(_ text: String) -> TrustedProxies? {
        var networks: [Network] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = ipBytes(parts[0]) else { return nil }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let p = Int(decimal: parts[1], allowingSign: true), (0...bytes.count * 8).contains(p) else { return nil }
                prefix = p
            }
            networks.append(Network(bytes: bytes, prefixLength: prefix))
        }
        return TrustedProxies(networks: networks)
    }

    func contains(_ address: String) -> Bool {
        guard !networks.isEmpty, let bytes = Self.ipBytes(address) else { return false }
        return networks.contains { network in
            guard network.bytes.count == bytes.count else { return false }
            var remaining = network.prefixLength
            for i in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[i] & mask != network.bytes[i] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    /// 4 bytes for IPv4, 16 for IPv6, nil for anything else.
    static func ipBytes(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 64 else { return nil }
        if text.contains(":") {
            var addr = in6_addr()
            guard inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
            return withUnsafeBytes(of: addr) { Array($0) }
        }
        var addr = in_addr()
        guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        return withUnsafeBytes(of: addr) { Array($0) }
    }

    /// The client: the connection's peer, or — when the peer is a trusted proxy — the right-most
    /// address in `X-Forwarded-For` that is not itself a trusted proxy (the left part can be forged).
    func clientAddress(of request: Request) -> String {
        guard contains(request.remoteAddress) else { return request.remoteAddress }
        let hops = request.headers.values("X-Forwarded-For").flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard Self.ipBytes(hop) != nil else { break }
            if !contains(hop) { return hop }
        }
        return request.remoteAddress
    }

    /// The rate-limit key: IPv6 clients by their /64 (one host usually owns a whole /64).
    static func limiterKey(_ address: String) -> String {
        // Bytes, not `contains(":")` (Foundation's substring search): this runs on every status check.
        guard address.utf8.contains(UInt8(ascii: ":")), let bytes = ipBytes(address) else { return address }
        return bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    /// The network of an address as `AUDIT_IP_TRUNCATE` keeps it: `192.0.2.17` → `192.0.2.0/24`,
    /// `2001:db8:1:2::5` → `2001:db8:1::/48`. Anything that is not an address stays as it is.
    static func network(of address: String) -> String {
        guard var bytes = ipBytes(address) else { return address }
        let prefix = bytes.count == 4 ? 3 : 6
        for i in prefix..<bytes.count { bytes[i] = 0 }
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard written != nil else { return address }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + String(prefix * 8)
    }
}

extension Application {
    /// The client's address for throttling and rate limits (see `TrustedProxies`).
    func clientAddress(_ request: Request) -> String {
        configuration.trustedProxies.clientAddress(of: request)
    }

    /// The client's address as the audit log records it: whole, or with `AUDIT_IP_TRUNCATE` only its
    /// /24 (IPv4) or /48 (IPv6) network. Either way it is erased after `AUDIT_IP_DAYS`.
    func auditAddress(_ request: Request) -> String {
        let address = clientAddress(request)
        return configuration.retention.truncateAuditAddresses ? TrustedProxies.network(of: address) : address
    }
}
