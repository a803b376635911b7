import HTTPServer

/// One problem of a checked-but-not-saved input (the preview endpoints): the same code, field and
/// message the saving call would answer with, so the pages show exactly what saving would refuse.
struct ValidationProblem: Codable, Sendable, Equatable {
    var field: String?
    var error: String
    var message: String

    init(field: String?, error: String, message: String) {
        self.field = field
        self.error = error
        self.message = message
    }

    init(_ error: AppError) {
        self.init(field: error.field, error: error.code, message: error.message)
    }
}
