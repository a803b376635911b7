import App
import Foundation
import HTTPTestSupport
import Testing

/// `deploy/grafana-dashboard.json` and `deploy/prometheus-rules.yml` may only name series that
/// `/metrics` really exposes, and every alert is explained in OPERATIONS.md.
@Suite("Dashboard and alert rules")
struct MonitoringTests {
    /// Every `expr` anywhere in a JSON value.
    static func expressions(in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            let own = (object["expr"] as? String).map { [$0] } ?? []
            return own + object.values.flatMap(expressions)
        }
        if let array = value as? [Any] { return array.flatMap(expressions) }
        return []
    }

    /// Metric names in PromQL: every `name{` (all our expressions select by job); histogram samples by their family.
    static func metricNames(_ expressions: [String]) -> Set<String> {
        var names: Set<String> = []
        for expr in expressions {
            for match in expr.matches(of: /([a-z_][a-z0-9_]*)\{/) {
                var name = String(match.1)
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && name.hasPrefix("http_request_duration") {
                    name = String(name.dropLast(suffix.count))
                }
                names.insert(name)
            }
        }
        names.remove("up")  // Prometheus's own, per scrape target
        return names
    }

    static func rules() throws -> [[String: Any]] {
        let json = BinaryTests.shell("python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' '\(packageRoot)/deploy/prometheus-rules.yml'")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "the rule file is not YAML: \(json)")
        let groups = try #require(document["groups"] as? [[String: Any]])
        return groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
    }

    /// The series families a live server exposes (`# TYPE` lines), after some traffic.
    static func exposedFamilies() throws -> Set<String> {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port)
        _ = client.request("GET", "/health")
        _ = client.request("GET", "/no-such-route")
        let text = try #require(client.request("GET", "/metrics")).text
        return Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
    }

    @Test func dashboardAndRules_nameOnlySeriesTheServerExposes() throws {
        let exposed = try Self.exposedFamilies()
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/deploy/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let dashboardNames = Self.metricNames(Self.expressions(in: dashboard))
        let ruleNames = Self.metricNames(try Self.rules().compactMap { $0["expr"] as? String })
        #expect(dashboardNames.count >= 20, "\(dashboardNames.sorted())")
        for name in dashboardNames.union(ruleNames) {
            #expect(exposed.contains(name), "\(name) is not in /metrics (\(exposed.sorted()))")
        }
        // What the issue asks the dashboard to show.
        for needed in ["http_requests_total", "http_request_duration_seconds", "db_pool_waiting", "box_long_polls_waiting", "sms_queued", "sms_sent_total",
                       "sms_failed_total", "sms_sent_last_hour", "sms_hourly_cap", "boxes_offline", "boxes_pickups_blocked", "deadline_passes_total"] {
            #expect(dashboardNames.contains(needed), "the dashboard does not show \(needed)")
        }
    }

    @Test func dashboard_importsWithADataSourceChoice_andEveryPanelHasAQuery() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/deploy/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(dashboard["uid"] as? String == "pickupbox-overview")
        #expect((dashboard["__inputs"] as? [[String: Any]])?.first?["name"] as? String == "DS_PROMETHEUS")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var ids: Set<Int> = []
        for panel in panels {
            let id = try #require(panel["id"] as? Int)
            #expect(ids.insert(id).inserted, "panel id \(id) twice")
            guard panel["type"] as? String != "row" else { continue }
            #expect(!((panel["targets"] as? [[String: Any]]) ?? []).isEmpty, "\(panel["title"] ?? "?") has no query")
            #expect(((panel["datasource"] as? [String: Any])?["uid"] as? String) == "${DS_PROMETHEUS}")
        }
    }

    @Test func everyAlert_hasSeverityAndText_andIsExplainedInOperations() throws {
        let rules = try Self.rules()
        #expect(rules.count >= 10)
        let operations = try String(contentsOfFile: packageRoot + "/OPERATIONS.md", encoding: .utf8)
        for rule in rules {
            let name = try #require(rule["alert"] as? String)
            #expect(["warning", "critical"].contains((rule["labels"] as? [String: Any])?["severity"] as? String), "\(name): severity")
            let annotations = rule["annotations"] as? [String: Any]
            #expect(annotations?["summary"] is String && annotations?["description"] is String, "\(name): summary and description")
            #expect(operations.contains("`\(name)`"), "OPERATIONS.md does not explain \(name)")
        }
    }
}
