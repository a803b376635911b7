import Foundation
import Testing

/// Issue 12 §6: the compose deployment trusts only nginx's X-Forwarded-For and closes /metrics. No Docker
/// engine runs where the tests do, so the file is read (with PyYAML, which openapi-spec-validator brings) and checked
/// against the server's own configuration rules.
@Suite("The compose deployment")
struct ComposeTests {
    static let check = #"""
    import ipaddress, sys, yaml
    compose = yaml.safe_load(open(sys.argv[1]))
    server = compose["services"]["server"]["environment"]
    proxy = compose["services"]["proxy"]
    network = compose["networks"]["backend"]["ipam"]["config"][0]
    nginx = ipaddress.ip_address(proxy["networks"]["backend"]["ipv4_address"])
    trusted = [ipaddress.ip_network(entry.strip()) for entry in server["TRUSTED_PROXIES"].split(",")]
    problems = []
    if trusted != [ipaddress.ip_network(f"{nginx}/32")]:
        problems.append(f"TRUSTED_PROXIES names {server['TRUSTED_PROXIES']}, not only nginx at {nginx}")
    if nginx not in ipaddress.ip_network(network["subnet"]) or nginx in ipaddress.ip_network(network["ip_range"]):
        problems.append("nginx's address must be in the subnet and outside ip_range (no other container may get it)")
    if "backend" not in compose["services"]["server"].get("networks", []):
        problems.append("the servers are not on the backend network")
    if not str(server.get("METRICS_TOKEN", "")).startswith("${METRICS_TOKEN:?"):
        problems.append("METRICS_TOKEN must be required (${METRICS_TOKEN:?…})")
    if server.get("PICKUPBOX_ENV") != "production":
        problems.append("the compose servers run in production")
    print("\n".join(problems))
    sys.exit(1 if problems else 0)
    """#

    @Test func trustsOnlyNginx_andRequiresTheMetricsToken() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.check, packageRoot + "/docker-compose.yml"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(output)")
    }
}
