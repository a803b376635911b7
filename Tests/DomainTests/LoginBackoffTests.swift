import Testing
@testable import Domain

@Suite("Login backoff")
struct LoginBackoffTests {
    @Test func accountDelay_isFreeWithinTheAllowance_thenDoubles_upToTheMaximum() {
        let backoff = LoginBackoff(freeFailures: 5)
        #expect((0...5).map { backoff.accountDelaySeconds(afterFailures: $0) } == [0, 0, 0, 0, 0, 0])
        #expect((6...11).map { backoff.accountDelaySeconds(afterFailures: $0) } == [2, 4, 8, 16, 32, 64])
        #expect(backoff.accountDelaySeconds(afterFailures: 15) == 900)
        #expect(backoff.accountDelaySeconds(afterFailures: Int.max) == 900)
    }

    @Test func addressBlock_isTheMaximum_onceOverTheAllowance() {
        let backoff = LoginBackoff(freeFailures: 20)
        #expect(backoff.addressBlockSeconds(afterFailures: 20) == 0)
        #expect(backoff.addressBlockSeconds(afterFailures: 21) == 900)
    }
}
