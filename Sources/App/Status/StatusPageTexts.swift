import Domain

/// Every text of the status page, per language. Lists of lines are shown one per line.
struct StatusPageTexts: Sendable {
    var title: String
    var brand: String
    var languages: String
    var heading: String
    var label: String
    var hint: String
    var submit: String
    var numberIs: String
    var statusPrefix: String
    var headline: [PublicStatus: String]
    var body: [PublicStatus: [String]]
    var whereTitle: String
    var deadlineTitle: String
    var deadline: @Sendable (_ date: String) -> String
    var deadlineAfter: String
    /// The box's pickups are blocked until the given time (`14:30`, or with the day when not today).
    var boxBlocked: @Sendable (_ until: String) -> [String]
    var hoursTitle: String
    var today: String
    var closed: String
    var timeRange: @Sendable (_ opens: String, _ closes: String) -> String
    /// 00:00–24:00.
    var allDay: String
    var bringTitle: String
    var bringPhone: String
    var bringPinLetter: String
    var bringDateOfBirth: String
    var bringDateOfBirthOrCan: String
    var bringOldDocument: String
    var counterTitle: String
    var counterLines: [String]
    var rateLimitedHeading: String
    var rateLimited: [String]     // {seconds}
    var unavailableHeading: String
    var unavailable: [String]
    var privacy: String
    var skip: String
    // Messages of the number check in the browser (status.js).
    var typoCheck: String
    var typoLength: String
    var typoLookAlike: String
    var weekdays: [String]        // Monday first
    var months: [String]

    static func of(_ language: StatusLanguage) -> StatusPageTexts {
        switch language {
        case .de: return german
        case .en: return english
        case .simple: return simple
        }
    }

    static let german = StatusPageTexts(
        title: "Abholstatus Ihres Dokuments",
        brand: "Dokumentenausgabe",
        languages: "Sprache",
        heading: "Ist mein Dokument abholbereit?",
        label: "Vorgangsnummer",
        hint: "Sie steht auf Ihrem Schreiben, zum Beispiel K7M-4XQ-9TR-C. Leerzeichen sowie Groß- und Kleinschreibung sind egal.",
        submit: "Status abfragen",
        numberIs: "Vorgangsnummer",
        statusPrefix: "Status:",
        headline: [
            .inProduction: "Ihr Dokument ist noch nicht fertig.",
            .readyInBox: "Ihr Dokument liegt in der Abholbox.",
            .readyAtCounter: "Ihr Dokument bekommen Sie am Schalter.",
            .collected: "Ihr Dokument wurde abgeholt.",
            .unknown: "Zu dieser Nummer haben wir keine Auskunft.",
        ],
        body: [
            .inProduction: ["Es wird noch hergestellt oder ist noch nicht bei uns angekommen.",
                            "Sobald es abholbereit ist, bekommen Sie eine Nachricht von uns. Sie müssen jetzt nichts tun."],
            .readyInBox: ["Sie können es zu den Abholzeiten selbst aus der Abholbox nehmen – ohne Termin."],
            .readyAtCounter: ["Sie können es am Schalter Ihrer Ausländerbehörde abholen. War es in der Abholbox und ist die Abholfrist abgelaufen, bringen wir es in den nächsten Tagen an den Schalter."],
            .collected: ["Wenn Sie es nicht selbst abgeholt haben, wenden Sie sich bitte sofort an Ihre Ausländerbehörde."],
            .unknown: ["Bitte prüfen Sie die Nummer auf Ihrem Schreiben.",
                       "Stimmt die Nummer, ist Ihr Antrag vielleicht noch nicht erfasst oder schon abgeschlossen. Fragen Sie im Zweifel bei Ihrer Ausländerbehörde nach."],
        ],
        whereTitle: "Wo",
        deadlineTitle: "Abholen bis",
        deadline: { "spätestens \($0)" },
        deadlineAfter: "Danach bringen wir das Dokument an den Schalter.",
        boxBlocked: { ["Die Abholbox nimmt bis \($0) Uhr keine Abholungen an.", "Bitte kommen Sie danach. Ihr Dokument bleibt sicher im Fach."] },
        hoursTitle: "Abholzeiten",
        today: "heute",
        closed: "geschlossen",
        timeRange: { "\($0)–\($1)\u{00A0}Uhr" },
        allDay: "rund um die Uhr",
        bringTitle: "Das brauchen Sie an der Box",
        bringPhone: "Ihr Mobiltelefon mit der SMS: Darin steht Ihre PIN. Die Box fragt auch nach der Mobilnummer, die Sie beim Antrag angegeben haben.",
        bringPinLetter: "Den PIN-Brief, den Sie mit der Post bekommen haben.",
        bringDateOfBirth: "Ihr Geburtsdatum – Sie geben es an der Box ein.",
        bringDateOfBirthOrCan: "Ihr Geburtsdatum – oder, wenn Sie eine Karte verlängern: die 6-stellige Zugangsnummer (CAN) vorn auf der alten Karte.",
        bringOldDocument: "Wenn Sie eine Karte verlängern: die alte Karte. Die Box nimmt sie an und macht sie ungültig.",
        counterTitle: "So bekommen Sie Ihr Dokument",
        counterLines: ["Vereinbaren Sie bitte einen Termin bei Ihrer Ausländerbehörde – so, wie es auf Ihrem Schreiben steht.",
                       "Bringen Sie Ihren Pass mit und, falls Sie eine haben, Ihre bisherige Karte."],
        rateLimitedHeading: "Bitte warten Sie einen Moment.",
        rateLimited: ["Von Ihrem Anschluss kamen in kurzer Zeit sehr viele Abfragen.",
                      "Bitte versuchen Sie es in {seconds} Sekunden noch einmal."],
        unavailableHeading: "Die Auskunft ist gerade nicht erreichbar.",
        unavailable: ["Das liegt nicht an Ihnen oder Ihrer Nummer.", "Bitte versuchen Sie es in ein paar Minuten noch einmal."],
        privacy: "Diese Seite zeigt nur den Stand Ihres Antrags und keine persönlichen Daten. Sie setzt keine Cookies.",
        skip: "Zum Inhalt springen",
        typoCheck: "Diese Nummer enthält einen Tippfehler: Das letzte Zeichen passt nicht zu den anderen. Bitte vergleichen Sie Zeichen für Zeichen mit Ihrem Schreiben.",
        typoLength: "Eine Vorgangsnummer hat 10 Zeichen, zum Beispiel K7M-4XQ-9TR-C. Sie haben {count} eingegeben.",
        typoLookAlike: "In Vorgangsnummern gibt es kein 0, O, 1, I, L, U und Z. Vielleicht ist ein Zeichen verwechselt – zum Beispiel O statt Q oder 1 statt 7?",
        weekdays: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
    )

    static let english = StatusPageTexts(
        title: "Pickup status of your document",
        brand: "Document pickup",
        languages: "Language",
        heading: "Is my document ready?",
        label: "Reference number (Vorgangsnummer)",
        hint: "It is on your letter, for example K7M-4XQ-9TR-C. Spaces and upper or lower case do not matter.",
        submit: "Check status",
        numberIs: "Reference number",
        statusPrefix: "Status:",
        headline: [
            .inProduction: "Your document is not ready yet.",
            .readyInBox: "Your document is in the pickup box.",
            .readyAtCounter: "You collect your document at the counter.",
            .collected: "Your document has been collected.",
            .unknown: "We have no information on this number.",
        ],
        body: [
            .inProduction: ["It is still being made or has not reached us yet.",
                            "As soon as it is ready, we will send you a message. You do not need to do anything now."],
            .readyInBox: ["You can take it out of the pickup box yourself during the pickup hours – no appointment needed."],
            .readyAtCounter: ["You can collect it at the counter of your foreigners' authority. If it was in the pickup box and the pickup period has ended, we bring it to the counter within the next few days."],
            .collected: ["If you did not collect it yourself, please contact your foreigners' authority immediately."],
            .unknown: ["Please check the number on your letter.",
                       "If the number is right, your application may not be registered yet or may be closed already. If in doubt, ask your foreigners' authority."],
        ],
        whereTitle: "Where",
        deadlineTitle: "Collect by",
        deadline: { "\($0) at the latest" },
        deadlineAfter: "After that, we take the document to the counter.",
        boxBlocked: { ["The pickup box accepts no pickups until \($0).", "Please come after that. Your document stays safe in its compartment."] },
        hoursTitle: "Pickup hours",
        today: "today",
        closed: "closed",
        timeRange: { "\($0)–\($1)" },
        allDay: "open 24 hours",
        bringTitle: "What you need at the box",
        bringPhone: "Your mobile phone with the text message: it contains your PIN. The box also asks for the mobile number you gave with your application.",
        bringPinLetter: "The PIN letter you received by post.",
        bringDateOfBirth: "Your date of birth – you enter it at the box.",
        bringDateOfBirthOrCan: "Your date of birth – or, if you are renewing a card: the 6-digit access number (CAN) on the front of the old card.",
        bringOldDocument: "If you are renewing a card: the old card. The box takes it and cancels it.",
        counterTitle: "How to get your document",
        counterLines: ["Please make an appointment with your foreigners' authority, as described in your letter.",
                       "Bring your passport and, if you have one, your previous card."],
        rateLimitedHeading: "Please wait a moment.",
        rateLimited: ["There were very many requests from your connection in a short time.",
                      "Please try again in {seconds} seconds."],
        unavailableHeading: "The status check is not available right now.",
        unavailable: ["This is not because of you or your number.", "Please try again in a few minutes."],
        privacy: "This page shows only the status of your application, no personal data. It sets no cookies.",
        skip: "Skip to content",
        typoCheck: "This number contains a typing error: the last character does not match the others. Please compare it character by character with your letter.",
        typoLength: "A reference number has 10 characters, for example K7M-4XQ-9TR-C. You entered {count}.",
        typoLookAlike: "Reference numbers never contain 0, O, 1, I, L, U or Z. Maybe a character was mixed up – for example O instead of Q, or 1 instead of 7?",
        weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        months: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    )

    static let simple = StatusPageTexts(
        title: "Ist mein Dokument fertig?",
        brand: "Dokumente abholen",
        languages: "Sprache",
        heading: "Ist mein Dokument fertig?",
        label: "Ihre Vorgangs-Nummer",
        hint: "Die Nummer steht auf Ihrem Brief. Zum Beispiel: K7M-4XQ-9TR-C.",
        submit: "Nachsehen",
        numberIs: "Vorgangs-Nummer",
        statusPrefix: "So ist es:",
        headline: [
            .inProduction: "Ihr Dokument ist noch nicht fertig.",
            .readyInBox: "Ihr Dokument ist fertig.",
            .readyAtCounter: "Ihr Dokument ist fertig.",
            .collected: "Ihr Dokument wurde abgeholt.",
            .unknown: "Wir finden diese Nummer nicht.",
        ],
        body: [
            .inProduction: ["Sie müssen jetzt nichts tun.", "Wir schicken Ihnen eine Nachricht.", "Dann können Sie das Dokument abholen."],
            .readyInBox: ["Ihr Dokument liegt in einem Abhol-Fach.", "Sie können es selbst abholen.", "Sie brauchen keinen Termin."],
            .readyAtCounter: ["Sie bekommen Ihr Dokument am Schalter.", "War es in der Box?", "Dann bringen wir es zum Schalter.", "Das dauert ein paar Tage."],
            .collected: ["Sie haben das Dokument nicht abgeholt?", "Dann rufen Sie bitte sofort beim Amt an."],
            .unknown: ["Bitte prüfen Sie die Nummer.", "Die Nummer steht auf Ihrem Brief.", "Die Nummer stimmt?", "Dann fragen Sie bitte beim Amt nach."],
        ],
        whereTitle: "Hier ist das Abhol-Fach",
        deadlineTitle: "Bis wann?",
        deadline: { "Holen Sie das Dokument bis \($0) ab." },
        deadlineAfter: "Danach liegt das Dokument beim Amt am Schalter.",
        boxBlocked: { ["Die Box ist gerade gesperrt.", "Kommen Sie bitte nach \($0) Uhr.", "Ihr Dokument bleibt in der Box."] },
        hoursTitle: "Wann können Sie hin?",
        today: "heute",
        closed: "geschlossen",
        timeRange: { "von\u{00A0}\($0) bis\u{00A0}\($1)\u{00A0}Uhr" },
        allDay: "den ganzen Tag",
        bringTitle: "Das brauchen Sie",
        bringPhone: "Ihr Handy mit der SMS. In der SMS steht Ihre PIN. Die PIN ist eine geheime Zahl. Die Box fragt auch nach Ihrer Handy-Nummer.",
        bringPinLetter: "Den PIN-Brief. Der Brief kam mit der Post.",
        bringDateOfBirth: "Ihr Geburts-Datum.",
        bringDateOfBirthOrCan: "Ihr Geburts-Datum. Oder: Sie haben schon eine Karte? Dann brauchen Sie die Nummer vorne auf der alten Karte. Die Nummer hat 6 Zahlen.",
        bringOldDocument: "Sie haben schon eine Karte? Dann bringen Sie die alte Karte mit. Die Box nimmt die alte Karte.",
        counterTitle: "Was müssen Sie tun?",
        counterLines: ["Machen Sie bitte einen Termin beim Amt.", "Wie das geht, steht in Ihrem Brief.", "Bringen Sie Ihren Pass mit."],
        rateLimitedHeading: "Bitte warten Sie kurz.",
        rateLimited: ["Es gab zu viele Anfragen.", "Bitte warten Sie {seconds} Sekunden.", "Dann versuchen Sie es noch einmal."],
        unavailableHeading: "Die Auskunft geht gerade nicht.",
        unavailable: ["Das ist nicht Ihr Fehler.", "Bitte versuchen Sie es später noch einmal."],
        privacy: "Diese Seite zeigt nur: Ist Ihr Dokument fertig? Die Seite zeigt keine Daten über Sie.",
        skip: "Zum Inhalt",
        typoCheck: "Die Nummer ist falsch geschrieben. Bitte prüfen Sie jedes Zeichen.",
        typoLength: "Die Nummer hat 10 Zeichen. Sie haben {count} Zeichen geschrieben.",
        typoLookAlike: "In der Nummer gibt es kein 0, O, 1, I, L, U und Z. Bitte prüfen Sie die Zeichen.",
        weekdays: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
    )
}
