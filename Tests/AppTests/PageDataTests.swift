@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// The read-only and checking endpoints the web pages are built on.
@Suite("Data for the web pages")
struct PageDataTests {
    @Test func scanningSession_addsItemsToOneDelivery_numberedOn_andFindsDuplicatesAcrossScans() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 2, columns: 2)
        let client = try town.login(app)
        let (_, first) = try town.register(client)
        let (_, second) = try town.register(client)
        let (created, delivery) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "SCAN-1", "items": [["documentNumber": documentNumber(801), "vorgangsnummer": first]]])
        #expect(created == 201)
        let id = try #require(delivery["id"] as? String)
        let (status, grown) = client.json("POST", "/api/v1/deliveries/\(id)/items", json: ["items": [
            ["documentNumber": documentNumber(802), "vorgangsnummer": second],
            ["documentNumber": documentNumber(801), "vorgangsnummer": first],
        ]])
        #expect(status == 200, "\(grown)")
        let items = try #require(grown["items"] as? [[String: Any]])
        #expect(items.map { $0["position"] as? Int } == [1, 2, 3])
        #expect(items.map { $0["result"] as? String } == ["matched", "matched", "duplicate"])
        #expect((items[1]["compartment"] as? [String: Any])?["number"] != nil)
        #expect((grown["summary"] as? [String: Any])?["duplicate"] as? Int == 1)
        #expect(client.json("POST", "/api/v1/deliveries/\(UUID())/items", json: ["items": [["documentNumber": documentNumber(803)]]]).0 == 404)
        #expect(client.json("POST", "/api/v1/deliveries/\(id)/items", json: ["items": []]).0 == 400)
        // Another authority cannot add to it.
        let stranger = try AuthorityFixture.make(app).login(app)
        #expect(stranger.json("POST", "/api/v1/deliveries/\(id)/items", json: ["items": [["documentNumber": documentNumber(804)]]]).0 == 404)
    }

    @Test func loadingList_namesTheAssignedCompartmentsWithTheirDocuments_asJSONAndCSV() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 2, columns: 2)
        let client = try town.login(app)
        let (_, number) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LL-1", "items": [["documentNumber": documentNumber(811), "vorgangsnummer": number]]])
        let (status, list) = client.json("GET", "/api/v1/boxes/\(box)/loading-list")
        #expect(status == 200)
        let items = try #require(list["items"] as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items.first?["documentNumbers"] as? [String] == [documentNumber(811)])
        #expect(items.first?["vorgangsnummern"] as? [String] == [number])
        // Staff answers are gzip-coded for browsers that take it (a box's grid is tens of kilobytes).
        let big = try town.makeBox(app, rows: 10, columns: 10)
        let grid = try #require(client.call("GET", "/api/v1/boxes/\(big)", headers: ["Accept-Encoding: gzip"]))
        #expect(grid.status == 200 && grid.header("Content-Encoding") == "gzip" && grid.header("Vary") == "Accept-Encoding")
        let csv = try #require(client.call("GET", "/api/v1/boxes/\(box)/loading-list?format=csv"))
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.contains(documentNumber(811)))
        #expect(client.json("GET", "/api/v1/boxes/\(box)/loading-list?format=pdf").0 == 400)
        #expect(try AuthorityFixture.make(app).login(app).json("GET", "/api/v1/boxes/\(box)/loading-list").0 == 404)
    }

    @Test func applicationPreview_reportsEveryProblemAtOnce_andWhatWouldBeStored() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        var (status, preview) = client.json("POST", "/api/v1/applications/preview", json: [
            "mobileNumber": "0151 2345 6789", "dateOfBirth": "15.03.1990", "issuance": "renewal", "feeExemption": NSNull(),
        ])
        #expect(status == 200)
        #expect((preview["problems"] as? [Any])?.isEmpty == true)
        #expect(preview["mobileNumber"] as? String == "+4915123456789")
        #expect(preview["mobileNumberDisplay"] as? String == "+49 151 23456789")
        #expect(preview["dateOfBirth"] as? String == "1990-03-15")
        #expect((preview["fee"] as? [String: Any])?["amountCents"] as? Int == 9_300)

        (status, preview) = client.json("POST", "/api/v1/applications/preview", json: [
            "mobileNumber": "030 1234567", "dateOfBirth": "31.02.1990", "pickupMethod": "box", "familyName": " ", "oldDocumentCan": "12",
        ])
        let problems = (preview["problems"] as? [[String: Any]] ?? []).map { "\($0["field"] ?? "")=\($0["error"] ?? "")" }
        #expect(Set(problems) == ["mobileNumber=not_a_mobile_number", "dateOfBirth=invalid_date_of_birth", "familyName=missing_field", "oldDocumentCan=not_applicable"])
        #expect(preview["fee"] == nil)
        // Exemptions make it free; minors pay half.
        let minorBirth = Calendar(identifier: .gregorian).date(byAdding: .year, value: -16, to: Date()) ?? Date()
        let f = DateFormatter()
        f.dateFormat = "dd.MM.yyyy"
        (_, preview) = client.json("POST", "/api/v1/applications/preview", json: ["issuance": "first", "dateOfBirth": f.string(from: minorBirth)])
        #expect((preview["fee"] as? [String: Any])?["amountCents"] as? Int == 5_000)
        #expect((preview["fee"] as? [String: Any])?["minor"] as? Bool == true)
        (_, preview) = client.json("POST", "/api/v1/applications/preview", json: ["issuance": "first", "dateOfBirth": "00.00.1980", "feeExemption": "sgb_ii"])
        #expect((preview["fee"] as? [String: Any])?["amountCents"] as? Int == 0)
        // Nothing was written.
        #expect(client.json("GET", "/api/v1/applications").1["total"] as? Int == 0)
    }

    @Test func templatePreview_countsLikeSaving_switchesToUCS2_andListsProblems_forSupervisorsOnly() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let path = "/api/v1/sms/templates/ready_in_box/de/preview"
        var (status, preview) = chef.json("POST", path, json: ["body": "Ihr Dokument liegt bereit. PIN {pin}, bis {deadline}."])
        #expect(status == 200)
        #expect(preview["encoding"] as? String == "gsm7")
        #expect(preview["segments"] as? Int == 1)
        #expect((preview["problems"] as? [Any])?.isEmpty == true)
        (_, preview) = chef.json("POST", path, json: ["body": "Ihr Dokument liegt bereit. PIN {pin}, bis {deadline}. ş"])
        #expect(preview["encoding"] as? String == "ucs2")
        (_, preview) = chef.json("POST", path, json: ["body": "Ohne Platzhalter {name}"])
        let codes = (preview["problems"] as? [[String: Any]] ?? []).compactMap { $0["error"] as? String }
        #expect(codes == ["unknown_placeholder"])
        (_, preview) = chef.json("POST", path, json: ["body": String(repeating: "ş", count: 300) + " {pin} {deadline}"])
        #expect((preview["problems"] as? [[String: Any]] ?? []).compactMap { $0["error"] as? String } == ["over_segment_budget"])
        #expect(preview["withinBudget"] as? Bool == false)
        // The same text saved is refused with the same code.
        #expect(chef.json("PUT", "/api/v1/sms/templates/ready_in_box/de", json: ["body": String(repeating: "ş", count: 300) + " {pin} {deadline}"]).1["error"] as? String == "over_segment_budget")
        #expect(try town.login(app).json("POST", path, json: ["body": "x"]).0 == 403)
    }

    @Test func letterQRCode_isAnSVGOfTheStatusURL() throws {
        let app = try AppFixture.make { $0.publicBaseURL = "https://termine.example.de" }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (id, number) = try town.register(client)
        let reply = try #require(client.call("GET", "/api/v1/applications/\(id)/letter/qr.svg"))
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "image/svg+xml")
        #expect(reply.text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(reply.text.contains("<title>https://termine.example.de/status?vn=\(number)</title>"))
        let qr = try QRCode("https://termine.example.de/status?vn=\(number)")
        // Version 3 (29 modules) holds 42 bytes at level M; the URL has 47: version 4 (33 modules).
        #expect(qr.width == 33)
        // The three finder patterns: the top-left corner module is dark, the one inside the quiet separator light.
        #expect(qr.dark[0] && qr.dark[6] && !qr.dark[7])
        #expect(client.call("GET", "/api/v1/applications/\(UUID())/letter/qr.svg")?.status == 404)
    }

    @Test func dashboard_countsToday_andForecastCoversFourteenDays() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 2, columns: 2)
        let client = try town.login(app)
        let (_, before) = client.json("GET", "/api/v1/dashboard")
        #expect((before["counts"] as? [String: Any])?["deliveredToday"] as? Int == 0)
        #expect((before["pickupsPerDay"] as? [Any])?.count == 30)
        #expect((before["daysToPickup"] as? [Any])?.count == 16)
        for n in 0..<5 {
            let (_, number) = try town.register(client)
            _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "D-\(n)", "items": [["documentNumber": documentNumber(820 + n), "vorgangsnummer": number]]])
        }
        let (_, after) = client.json("GET", "/api/v1/dashboard")
        #expect((after["counts"] as? [String: Any])?["deliveredToday"] as? Int == 5)
        // Four compartments: the fifth document waits for one.
        #expect((after["attention"] as? [String: Any])?["waitingForCompartment"] as? Int == 1)
        let occupancy = try #require((after["occupancy"] as? [[String: Any]])?.first)
        #expect((occupancy["points"] as? [[String: Any]])?.last?["occupied"] as? Int == 4)

        let (status, forecast) = client.json("GET", "/api/v1/boxes/\(box)/forecast")
        #expect(status == 200)
        #expect((forecast["days"] as? [Any])?.count == 14)
        #expect(forecast["capacity"] as? Int == 4)
        #expect(forecast["occupiedNow"] as? Int == 4)
        // Every compartment taken: full today.
        #expect(forecast["fullOn"] as? String == (after["today"] as? String))
        #expect(client.json("GET", "/api/v1/boxes/\(UUID())/forecast").0 == 404)
    }

    @Test func cancellingALoadedDocument_tellsTheBoxToRetrieveIt() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 830)
        let client = try town.login(app)
        let (_, before, _) = boxRequest(app.port, token: token, "GET", "/api/v1/box/assignments?since=0&wait=0")
        let cursor = try #require((before["cursor"] as? NSNumber)?.int64Value)
        #expect(client.json("POST", "/api/v1/applications/\(doc.applicationID)/cancel", json: ["reason": "Antrag zurückgenommen"]).0 == 200)
        let (status, feed, _) = boxRequest(app.port, token: token, "GET", "/api/v1/box/assignments?since=\(cursor)&wait=0")
        #expect(status == 200)
        let changes = feed["changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["kind"] as? String } == ["to_retrieve"])
        #expect(changes.first?["compartmentNumber"] as? Int == doc.compartment)
    }

    @Test func listFilters_findTheApplicationsBehindEachDashboardFigure() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 840)
        let client = try town.login(app)
        let (other, _) = try town.register(client)
        let today = try #require(client.json("GET", "/api/v1/dashboard").1["today"] as? String)
        func ids(_ query: String) -> [String] {
            let (status, page) = client.json("GET", "/api/v1/applications?" + query)
            #expect(status == 200, "\(query): \(page)")
            return (page["items"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? String)?.lowercased() }
        }
        let id = doc.applicationID.lowercased()
        #expect(ids("deliveredOn=\(today)") == [id])
        #expect(ids("loadedOn=\(today)") == [id])
        #expect(ids("deliveredOn=2020-01-01").isEmpty)
        #expect(ids("collectedOn=\(today)").isEmpty)
        #expect(ids("locked=true").isEmpty)
        #expect(Set(ids("locked=false")) == [id, other.lowercased()])
        func assignmentLocked() -> Bool? { (client.json("GET", "/api/v1/applications/\(doc.applicationID)").1["assignment"] as? [String: Any])?["locked"] as? Bool }
        #expect(assignmentLocked() == false)
        // Five wrong PINs lock the compartment.
        for n in 0..<5 {
            _ = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": String(format: "%06d", ((Int(doc.pin) ?? 0) + 1 + n) % 1_000_000)])
        }
        #expect(ids("locked=true") == [id])
        #expect(assignmentLocked() == true)   // the detail says so itself
        let deadline = try #require(client.json("GET", "/api/v1/applications/\(doc.applicationID)").1["pickupDeadline"] as? String)
        #expect(ids("state=ready_in_box&pickupDeadline=\(deadline)") == [id])
        #expect(client.json("GET", "/api/v1/applications?deliveredOn=gestern").0 == 400)
        #expect(client.json("GET", "/api/v1/applications?locked=maybe").0 == 400)
    }

    @Test func letter_carriesWhatThePickupNeeds_theSitesSettingsIssuanceAndFee() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (id, _) = try town.register(client, ["issuance": "renewal", "feeSettled": false])
        let (status, letter) = client.json("GET", "/api/v1/applications/\(id)/letter")
        #expect(status == 200)
        #expect(letter["issuance"] as? String == "renewal")
        #expect((letter["fee"] as? [String: Any])?["amountCents"] as? Int == 9_300)
        #expect((letter["fee"] as? [String: Any])?["settled"] as? Bool == false)
        let settings = try #require(letter["pickupSettings"] as? [String: Any])
        #expect(settings["pinLetter"] as? Bool == true)
        #expect(settings["secondFactor"] as? String == "date_of_birth_or_can")
    }

    @Test func manualAssignment_takesTheCompartmentAsStaffNameIt_boxAndNumber() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 2, columns: 3)
        let client = try town.login(app)
        let (id, number) = try town.register(client, ["feeSettled": false])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "M-1", "items": [["documentNumber": documentNumber(850), "vorgangsnummer": number]]])
        _ = client.json("PATCH", "/api/v1/applications/\(id)", json: ["feeSettled": true])
        let path = "/api/v1/applications/\(id)/assignment"
        #expect(client.json("POST", path, json: ["boxId": box.uuidString, "compartmentNumber": 99]).1["error"] as? String == "compartment_unavailable")
        #expect(client.json("POST", path, json: ["boxId": box.uuidString]).1["error"] as? String == "missing_field")
        let (status, assigned) = client.json("POST", path, json: ["boxId": box.uuidString, "compartmentNumber": 5])
        #expect(status == 200, "\(assigned)")
        #expect((assigned["assignment"] as? [String: Any])?["compartmentNumber"] as? Int == 5)
        // Another application cannot take it: refused at the number the caseworker typed.
        let (other, otherNumber) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "M-2", "items": [["documentNumber": documentNumber(851), "vorgangsnummer": otherNumber]]])
        let (_, taken) = client.json("POST", "/api/v1/applications/\(other)/assignment", json: ["boxId": box.uuidString, "compartmentNumber": 5])
        #expect(taken["error"] as? String == "compartment_unavailable")
        #expect(taken["field"] as? String == "compartmentNumber")
    }
}
