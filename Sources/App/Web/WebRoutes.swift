import HTTPServer

/// The pages people open in a browser: the caseworkers' app at `/`, its files under `/assets/…`,
/// the applicant's status page and the box panel for demos and training.
enum WebRoutes {
    static func routes(_ app: Application) -> [AppRoute] {
        let web = app.web
        // Files served from memory answer on the event loop; live files (development) touch the disk.
        let assets: Execution = web.live ? .worker : .eventLoop
        return [
            .open(.GET, "/", execution: assets) { req in web.page("index.html", request: req) },
            .open(.GET, "/assets/{version}/{file...}", execution: assets) { req in
                web.respond(to: req, version: req.parameter("version"), encodedPath: req.parameter("file"))
            },
            .open(.GET, "/box-panel", execution: assets) { req in web.page("box-panel.html", request: req) },
            .open(.GET, "/status") { req in try StatusPage.respond(app, req) },
        ]
    }
}
