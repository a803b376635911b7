#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation

/// Reads a password from standard input: the first line, without its line break. At a terminal
/// the prompt goes to standard error and echo is off while typing.
enum PasswordInput {
    /// More than any accepted password (1024 bytes) plus a line break; a longer input is refused
    /// rather than read without bound.
    static let maxBytes = 1100

    static func fromStandardInput() throws -> String {
        let terminal = isatty(STDIN_FILENO) == 1
        var saved = termios()
        if terminal {
            FileHandle.standardError.write(Data("Password: ".utf8))
            tcgetattr(STDIN_FILENO, &saved)
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if terminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count <= maxBytes {
            let n = read(STDIN_FILENO, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        guard bytes.count <= maxBytes else { throw ValidationError("The password on standard input is too long.") }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ValidationError("No password on standard input.") }
        guard let password = String(validating: bytes, as: UTF8.self) else { throw ValidationError("The password on standard input is not valid UTF-8.") }
        return password
    }
}
