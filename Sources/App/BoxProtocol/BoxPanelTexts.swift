/// The texts of the box's panel, per language of the box (`panel_languages`), delivered with the long
/// poll's configuration so a box needs no software update to change them. German and English are built
/// in; another language shows the English texts and says so (`fallback`).
enum BoxPanelTexts {
    struct Language: Codable, Sendable, Equatable {
        var language: String
        /// True when this language has no texts of its own yet and the English ones are used.
        var fallback: Bool
        var texts: [String: String]
    }

    static let keys = [
        "welcome", "enterMobile", "enterPin", "confirmPinLetter", "enterDateOfBirth", "enterCan", "insertOldDocument",
        "compartmentOpen", "closeDoor", "refused", "locked", "outsideHours", "deadlinePassed", "boxBlocked", "thankYou",
    ]

    static let german: [String: String] = [
        "welcome": "Willkommen. Tippen Sie auf „Dokument abholen“.",
        "enterMobile": "Bitte geben Sie Ihre Mobilnummer ein.",
        "enterPin": "Bitte geben Sie die 6-stellige PIN aus der SMS ein.",
        "confirmPinLetter": "Haben Sie den PIN-Brief erhalten? Bitte bestätigen.",
        "enterDateOfBirth": "Bitte geben Sie Ihr Geburtsdatum ein (TT.MM.JJJJ).",
        "enterCan": "Bitte geben Sie die 6-stellige Zugangsnummer (CAN) Ihres alten Ausweises ein.",
        "insertOldDocument": "Bitte werfen Sie Ihr altes Dokument in den Entwertungsschlitz.",
        "compartmentOpen": "Fach {compartment} ist geöffnet. Bitte entnehmen Sie Ihr Dokument.",
        "closeDoor": "Bitte schließen Sie die Fachtür.",
        "refused": "Die Angaben passen nicht. Bitte prüfen Sie Ihre Eingaben.",
        "locked": "Zu viele Fehlversuche. Bitte wenden Sie sich an die Ausländerbehörde.",
        "outsideHours": "Die Abholung ist zurzeit nicht möglich. Bitte beachten Sie die Abholzeiten.",
        "deadlinePassed": "Die Abholfrist ist abgelaufen. Ihr Dokument wird an den Schalter gebracht. Bitte vereinbaren Sie einen Termin.",
        "boxBlocked": "Die Ausgabebox ist vorübergehend gesperrt. Bitte versuchen Sie es später erneut.",
        "thankYou": "Vielen Dank. Auf Wiedersehen.",
    ]

    static let english: [String: String] = [
        "welcome": "Welcome. Tap “Collect document”.",
        "enterMobile": "Please enter your mobile number.",
        "enterPin": "Please enter the 6-digit PIN from the SMS.",
        "confirmPinLetter": "Have you received the PIN letter? Please confirm.",
        "enterDateOfBirth": "Please enter your date of birth (DD.MM.YYYY).",
        "enterCan": "Please enter the 6-digit card access number (CAN) of your old card.",
        "insertOldDocument": "Please insert your old document into the cancellation slot.",
        "compartmentOpen": "Compartment {compartment} is open. Please take your document.",
        "closeDoor": "Please close the compartment door.",
        "refused": "The details do not match. Please check your input.",
        "locked": "Too many failed attempts. Please contact the foreigners' authority.",
        "outsideHours": "Pickup is not possible at the moment. Please see the pickup hours.",
        "deadlinePassed": "The pickup period has ended. Your document is being taken to the counter. Please make an appointment.",
        "boxBlocked": "The pickup box is temporarily blocked. Please try again later.",
        "thankYou": "Thank you. Goodbye.",
    ]

    static func forLanguages(_ languages: [String]) -> [Language] {
        languages.map { language in
            switch language {
            case "de": Language(language: language, fallback: false, texts: german)
            case "en": Language(language: language, fallback: false, texts: english)
            default: Language(language: language, fallback: true, texts: english)
            }
        }
    }
}
