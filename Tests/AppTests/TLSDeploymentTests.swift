@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// Issue 12 §5 in the app: HTTPS without a proxy, mutual TLS for box controllers, HSTS.
@Suite("TLS and mutual TLS in the app")
struct TLSDeploymentTests {
    @Test func boxControllers_needTheAuthoritysCertificate_besideTheirToken_whileStaffLogInWithout() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let app = try AppFixture.make { c in
            c.tls = TLSConfiguration(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey,
                                     clientCAFile: certificates.clientCA)
        }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 2)
        let token = try town.boxToken(app, box: box)
        let poll = "/api/v1/box/assignments?since=0&wait=0"

        // A stolen token without the box's certificate gets nothing.
        let tokenOnly = try TestClient(port: app.port, tls: .init(caFile: certificates.serverCA))
        let refused = try #require(tokenOnly.request("GET", poll, headers: ["Authorization: Bearer \(token)"]))
        #expect(refused.status == 401)
        #expect(refused.text.contains("client_certificate_required"))
        #expect(refused.header("Strict-Transport-Security") == "max-age=31536000")
        // Certificate and token together: the box is served.
        let boxClient = try TestClient(port: app.port, tls: .init(caFile: certificates.serverCA, certificateFile: certificates.boxCertificate,
                                                                  keyFile: certificates.boxKey))
        #expect(boxClient.request("GET", poll, headers: ["Authorization: Bearer \(token)"])?.status == 200)
        // The certificate alone is no box either.
        #expect(boxClient.request("GET", poll)?.status == 401)
        // An expired box certificate does not get as far as HTTP.
        let expired = try? TestClient(port: app.port, timeout: 2, tls: .init(caFile: certificates.serverCA, certificateFile: certificates.expiredCertificate,
                                                                             keyFile: certificates.expiredKey))
        #expect(expired?.request("GET", poll, headers: ["Authorization: Bearer \(token)"]) == nil)

        // Staff browsers present no certificate and log in as ever.
        let browser = try TestClient(port: app.port, tls: .init(caFile: certificates.serverCA))
        let body = #"{"authority":"\#(town.slug)","username":"anna","password":"\#(town.password)"}"#
        let login = try #require(browser.request("POST", "/api/v1/auth/login", headers: ["Content-Type: application/json"], body: body))
        #expect(login.status == 200)
        #expect(browser.request("GET", "/health")?.status == 200)
    }

    @Test func tlsSettings_areCheckedAtStart_andHSTSFollowsTLSOrSecureCookies() throws {
        func problems(_ env: [String: String]) -> String {
            do { _ = try AppConfiguration.load(from: env); return "" } catch { return "\(error)" }
        }
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        #expect(problems(["TLS_CERT_FILE": certificates.serverCertificate]).contains("TLS_CERT_FILE and TLS_KEY_FILE go together"))
        #expect(problems(["TLS_CLIENT_CA_FILE": certificates.clientCA]).contains("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE"))
        #expect(problems(["TLS_CERT_FILE": "/nonexistent/cert.pem", "TLS_KEY_FILE": certificates.serverKey]).contains("TLS_CERT_FILE: cannot read"))
        let tls = try AppConfiguration.load(from: ["TLS_CERT_FILE": certificates.serverCertificate, "TLS_KEY_FILE": certificates.serverKey,
                                                   "TLS_CLIENT_CA_FILE": certificates.clientCA])
        #expect(tls.tls?.clientCAFile == certificates.clientCA)
        #expect(tls.serverConfiguration.strictTransportSecurity == "max-age=31536000")
        #expect(try AppConfiguration.load(from: [:]).serverConfiguration.strictTransportSecurity == nil)
        #expect(try AppConfiguration.load(from: ["COOKIE_SECURE": "on"]).serverConfiguration.strictTransportSecurity == "max-age=31536000")
        // A key that is not the certificate's stops the start with a clear message.
        let wrongKey = AppFixture.makeConfiguration { $0.tls = TLSConfiguration(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.boxKey) }
        let app = try Application(configuration: wrongKey, connectionString: "host=/nonexistent-pickupbox port=1 dbname=x", logger: AppFixture.logger)
        #expect { try app.start() } throws: { "\($0)".contains("does not belong to the certificate") }
        app.shutdown()
    }
}
