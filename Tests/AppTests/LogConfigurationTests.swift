import App
import Foundation
import HTTPServer
import Testing

@Suite("Log format and instance configuration")
struct LogConfigurationTests {
    @Test func logFormat_isTextInDevelopment_jsonInProduction_unlessSet() throws {
        #expect(try AppConfiguration.load(from: [:]).logFormat == .text)
        let production = ["PICKUPBOX_ENV": "production", "DATABASE_URL": "host=/tmp", "PICKUPBOX_SECRET_KEY": String(repeating: "ab", count: 32), "SMS_PROVIDER": "webhook",
                          "SMS_URL": "https://sms.example/send", "SMS_TOKEN": "t", "METRICS_TOKEN": "metrics-token"]
        #expect(try AppConfiguration.load(from: production).logFormat == .json)
        #expect(try AppConfiguration.load(from: production.merging(["LOG_FORMAT": "text"]) { _, new in new }).logFormat == .text)
        #expect(try AppConfiguration.load(from: ["LOG_FORMAT": "JSON"]).logFormat == .json)
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["LOG_FORMAT": "xml"]) }
    }

    @Test func instance_isTheHostName_unlessSet_andMustBePrintable() throws {
        #expect(try AppConfiguration.load(from: [:]).instance == BinaryTests.shell("hostname"))
        #expect(try AppConfiguration.load(from: ["PICKUPBOX_INSTANCE": "rathaus-2"]).instance == "rathaus-2")
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["PICKUPBOX_INSTANCE": "two words"]) }
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["PICKUPBOX_INSTANCE": "quote\"d"]) }
    }
}
